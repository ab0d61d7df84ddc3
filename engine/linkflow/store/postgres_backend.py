"""PostgreSQL for several processes or hosts: psycopg 3 with a connection pool.

Writers lock what they read (`SELECT ... FOR UPDATE`), so two events on the same records
queue rather than lose an update, and take their locks in one order (core.py, "Lock order"),
so writers of several processes run side by side rather than deadlock. A deadlock (two steps
reading two shared world records in opposite orders) or a duplicate insert between two writers
still rolls one back with `Retry`, and the store runs it again. Due timers are claimed with
`FOR UPDATE SKIP LOCKED`, so several timer processes never fire one twice.

Losing the database (a primary that fails over to its standby, a restart) costs the requests
of that moment, not the process. The URL may name several hosts with
`target_session_attrs=read-write`: libpq connects to whichever one accepts writes now. The pool
looks at an idle connection before lending it (`_still_open`, no round trip unless the server
has sent something since) and drops one the server closed; connections lost are made again,
trying every `RECONNECT_SECONDS` or so while the database is away. A write transaction whose
connection broke before its COMMIT was sent applied nothing and runs once more (`ConnectionLost`
with `before_commit`, retried by the store); one that broke while committing may or may not
have committed, so it is not run again: the caller is told (a service answers 503) and its own
retry with the same event id settles it, replaying the recorded step if it did commit.
"""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg import errors
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from linkflow.store.backend import Row
from linkflow.store.errors import ConnectionLost, Retry, StoreError, first_line
from linkflow.store.url import StoreUrl

CONNECT_TIMEOUT = 5
#: A connection the pool fails to make again is retried after 1 s, then 2 s, ... for this long;
#: then the pool starts over (`_start_over`). So while the database is away the pool tries about
#: once a second, and finds a promoted standby within a second or two, where psycopg_pool's
#: default (5 min of doubling delays) could leave it waiting for minutes.
RECONNECT_SECONDS = 2
_converted: dict[str, str] = {}


def _pg(sql: str) -> str:
    """`?` placeholders (the store's SQL) as psycopg's `%s`."""
    out = _converted.get(sql)
    if out is None:
        out = _converted[sql] = sql.replace("%", "%%").replace("?", "%s")
    return out


class PostgresTx:
    __slots__ = ("conn",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self.conn.execute(_pg(sql), params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(_pg(sql), params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(_pg(sql), params).rowcount

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        # psycopg sends the rows in pipeline mode: one round trip for the batch.
        with self.conn.cursor() as cursor:
            cursor.executemany(_pg(sql), rows)


class _Progress:
    """How far a transaction got: its connection, and whether COMMIT has been sent."""

    __slots__ = ("committing", "conn")

    def __init__(self) -> None:
        self.conn: psycopg.Connection[Any] | None = None
        self.committing = False

    def lost(self) -> bool:
        return self.conn is not None and (self.conn.broken or self.conn.closed)


def _still_open(conn: psycopg.Connection[Any]) -> None:
    """The pool's check before lending an idle connection: raise if the server closed it.

    An idle connection has nothing to read unless the server wrote to it (it closed the
    connection, went away, or sent a notice), so a poll that finds nothing costs no round trip;
    when there is something, a real check (an empty statement) reads it."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    fd = conn.fileno()
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        pending = bool(poller.poll(0))
    else:  # pragma: no cover - Windows has no poll()
        pending = bool(select.select([fd], [], [], 0)[0])
    if pending:
        ConnectionPool.check_connection(conn)


def _start_over(pool: ConnectionPool[Any]) -> None:
    """The pool gave up making a connection (`reconnect_failed`): try again from the start.
    `check()` tests the idle connections and lets the pool grow when it has none."""
    if not pool.closed:
        pool.check()


@contextmanager
def _plain(conn: psycopg.Connection[Any], progress: _Progress) -> Iterator[None]:
    progress.conn = conn
    with conn.transaction():
        yield
        progress.committing = True


@contextmanager
def _pipelined(conn: psycopg.Connection[Any], progress: _Progress) -> Iterator[None]:
    """A transaction in pipeline mode: a statement whose result is not read (BEGIN, `run`,
    `many`, COMMIT) goes out with the next one that is read, or with the final sync. An
    event takes about four round trips (BEGIN and the instance row, each world record read,
    the writes with the feed number, the last insert with COMMIT), not one per statement.
    BEGIN and COMMIT are sent as statements: psycopg's `transaction()` syncs on entering."""
    progress.conn = conn
    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            yield
            progress.committing = True
            conn.execute("COMMIT")
    except BaseException:
        if (
            conn.info.transaction_status != TransactionStatus.IDLE
            and not conn.closed
            and not conn.broken
        ):
            conn.execute("ROLLBACK")
        raise


class PostgresBackend:
    name = "postgresql"
    serial = False

    def __init__(self, url: StoreUrl) -> None:
        self.where = url.display()
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in url.conninfo:
            kwargs["connect_timeout"] = CONNECT_TIMEOUT
        try:  # one direct attempt first: the pool would only say that it timed out
            psycopg.connect(url.conninfo, **kwargs).close()
        except psycopg.Error as err:
            raise StoreError(f"cannot reach the store at {self.where}: {first_line(err)}") from None
        size = int(url.options.get("pool_size", "4"))
        # A caller waits at most CONNECT_TIMEOUT for a connection: a database that went away
        # is an error in seconds (a service answers 503), not a 30 s hang.
        self.pool = ConnectionPool(
            url.conninfo,
            min_size=1,
            max_size=max(size, 1),
            kwargs=kwargs,
            open=False,
            timeout=CONNECT_TIMEOUT,
            check=_still_open,
            reconnect_timeout=RECONNECT_SECONDS,
            reconnect_failed=_start_over,
        )
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT * 2)
        except PoolTimeout as err:  # pragma: no cover - the direct attempt just worked
            self.pool.close()
            raise StoreError(f"cannot reach the store at {self.where}: {first_line(err)}") from None

    @contextmanager
    def write(self) -> Iterator[PostgresTx]:
        with self._transaction("cannot write to", _pipelined) as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[PostgresTx]:
        with self._transaction("cannot read", _plain) as tx:
            yield tx

    @contextmanager
    def _transaction(
        self,
        doing: str,
        within: Callable[[psycopg.Connection[Any], _Progress], AbstractContextManager[None]],
    ) -> Iterator[PostgresTx]:
        progress = _Progress()
        try:
            with self.pool.connection() as conn, within(conn, progress):
                yield PostgresTx(conn)
        except (
            errors.SerializationFailure,
            errors.DeadlockDetected,
            errors.UniqueViolation,
        ) as err:
            raise Retry(first_line(err)) from None
        except (psycopg.Error, PoolTimeout) as err:
            message = f"{doing} the store at {self.where}: {first_line(err)}"
            if progress.lost():
                raise ConnectionLost(message, before_commit=not progress.committing) from None
            raise StoreError(message) from None

    def close(self) -> None:
        self.pool.close()
