"""Connections lost under a PostgreSQL store: what is run again and what is not.

A pooled connection the server closed is dropped before it is lent (not answered as an error);
a write whose connection broke before COMMIT runs once more; one that broke while committing is
never run again (it may have committed), and the caller is told. The failover itself (a primary
killed, its standby promoted, a service carrying on) is tests/service/test_failover.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from linkflow.store import Store
from linkflow.store.errors import ConnectionLost
from tests.support.postgres import PostgresServer
from tests.support.store import TALLY


@pytest.fixture
def pg_store(postgres: PostgresServer) -> Iterator[Store]:
    with Store.open(postgres.database()) as store:
        yield store


def _own_pid(store: Store) -> int:
    with store.backend.read() as tx:
        row = tx.one("SELECT pg_backend_pid()")
    assert row is not None
    return int(row[0])


def _terminate(postgres: PostgresServer, pid: int) -> None:
    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


def test_a_pooled_connection_the_server_closed_is_replaced_not_an_error(
    postgres: PostgresServer, pg_store: Store
) -> None:
    record = pg_store.start(TALLY, {"board": "main"})
    pid = _own_pid(pg_store)
    _terminate(postgres, pid)  # the idle connection in the pool is now closed by the server
    assert pg_store.get(record.id).state == record.state  # read on a new connection
    assert _own_pid(pg_store) != pid


def test_a_write_cut_off_before_commit_runs_again_once(
    postgres: PostgresServer, pg_store: Store
) -> None:
    record = pg_store.start(TALLY, {"board": "main"})
    pids: list[int] = []

    def work(tx: Any) -> int:
        row = tx.one("SELECT pg_backend_pid()")
        pids.append(int(row[0]))
        if len(pids) == 1:  # the first attempt loses its connection mid-transaction
            _terminate(postgres, pids[0])
        tx.run("UPDATE instances SET version = version + 1 WHERE id = ?", (record.id,))
        return len(pids)

    assert pg_store._write(work) == 2
    assert pids[0] != pids[1]
    assert pg_store.get(record.id).version == record.version + 1  # applied once


class _LosingBackend:
    """Wraps a backend: its next `write()` transactions fail as a lost connection would."""

    def __init__(self, inner: Any, losses: list[bool]) -> None:
        self.inner = inner
        self.name = inner.name
        self.serial = inner.serial
        #: before_commit of each loss to come, in order.
        self.losses = losses
        self.writes = 0

    @contextmanager
    def write(self) -> Iterator[Any]:
        self.writes += 1
        with self.inner.write() as tx:
            yield tx
            if self.losses:
                raise ConnectionLost("the connection broke", before_commit=self.losses.pop(0))

    def read(self) -> Any:
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()


def test_a_write_cut_off_while_committing_is_not_run_again(pg_store: Store) -> None:
    losing = _LosingBackend(pg_store.backend, [False])
    pg_store.backend = losing
    with pytest.raises(ConnectionLost):
        pg_store.start(TALLY, {"board": "main"})
    assert losing.writes == 1


def test_a_connection_lost_twice_before_commit_is_an_error_not_a_loop(pg_store: Store) -> None:
    losing = _LosingBackend(pg_store.backend, [True, True, True])
    pg_store.backend = losing
    with pytest.raises(ConnectionLost):
        pg_store.start(TALLY, {"board": "main"})
    assert losing.writes == 2  # the first try and one more
