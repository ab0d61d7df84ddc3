"""PostgreSQL for several processes or hosts: psycopg 3 with a connection pool.

Writers lock what they read (`SELECT ... FOR UPDATE`), so two events on the same records
queue rather than lose an update, and take the feed counter before anything else (core.py,
"Lock order"), so writers of several processes queue rather than deadlock. A deadlock or a
duplicate insert between two writers still rolls one back with `Retry`, and the store runs it
again. Due timers are claimed with `FOR UPDATE SKIP LOCKED`, so several timer processes never
fire one twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg import errors
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from linkflow.store.backend import Row
from linkflow.store.errors import Retry, StoreError, first_line
from linkflow.store.url import StoreUrl

CONNECT_TIMEOUT = 5
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


def _plain(conn: psycopg.Connection[Any]) -> AbstractContextManager[None]:
    return conn.transaction()  # type: ignore[return-value]


@contextmanager
def _pipelined(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """A transaction in pipeline mode: a statement whose result is not read (BEGIN, `run`,
    `many`, COMMIT) goes out with the next one that is read, or with the final sync. An
    event takes about four round trips (BEGIN and the instance row, each world record read,
    the writes with the feed number, the last insert with COMMIT), not one per statement.
    BEGIN and COMMIT are sent as statements: psycopg's `transaction()` syncs on entering."""
    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            yield
            conn.execute("COMMIT")
    except BaseException:
        if conn.info.transaction_status != TransactionStatus.IDLE and not conn.closed:
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
        self, doing: str, within: Callable[[psycopg.Connection[Any]], AbstractContextManager[None]]
    ) -> Iterator[PostgresTx]:
        try:
            with self.pool.connection() as conn, within(conn):
                yield PostgresTx(conn)
        except (
            errors.SerializationFailure,
            errors.DeadlockDetected,
            errors.UniqueViolation,
        ) as err:
            raise Retry(first_line(err)) from None
        except (psycopg.Error, PoolTimeout) as err:
            raise StoreError(f"{doing} the store at {self.where}: {first_line(err)}") from None

    def close(self) -> None:
        self.pool.close()
