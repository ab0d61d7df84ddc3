"""PostgreSQL for several processes or hosts: psycopg 3 with a connection pool.

Writers lock what they read (`SELECT ... FOR UPDATE`), so two events on the same records
queue rather than lose an update; a deadlock or a duplicate insert between two writers rolls
one back with `Retry`, and the store runs it again. Due timers are claimed with
`FOR UPDATE SKIP LOCKED`, so several timer processes never fire one twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from engine.store.backend import Row
from engine.store.errors import Retry, StoreError
from engine.store.url import StoreUrl

if TYPE_CHECKING:
    import psycopg

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


def _reason(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class PostgresBackend:
    name = "postgresql"
    lock = " FOR UPDATE"
    claim = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: StoreUrl) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool, PoolTimeout

        self.where = url.display()
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in url.conninfo:
            kwargs["connect_timeout"] = CONNECT_TIMEOUT
        try:  # one direct attempt first: the pool would only say that it timed out
            psycopg.connect(url.conninfo, **kwargs).close()
        except psycopg.Error as err:
            raise StoreError(f"cannot reach the store at {self.where}: {_reason(err)}") from None
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
            raise StoreError(f"cannot reach the store at {self.where}: {_reason(err)}") from None

    @contextmanager
    def write(self) -> Iterator[PostgresTx]:
        with self._transaction("cannot write to", pipeline=True) as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[PostgresTx]:
        with self._transaction("cannot read", pipeline=False) as tx:
            yield tx

    @contextmanager
    def _transaction(self, doing: str, pipeline: bool) -> Iterator[PostgresTx]:
        """A transaction; in pipeline mode a statement whose result is not read (`run`,
        `many`, BEGIN, COMMIT) is sent with the next one that is: an event's writes and its
        commit take one round trip or two, not one each."""
        import psycopg
        from psycopg import errors
        from psycopg_pool import PoolTimeout

        try:
            with (
                self.pool.connection() as conn,
                conn.pipeline() if pipeline else nullcontext(),
                conn.transaction(),
            ):
                yield PostgresTx(conn)
        except (
            errors.SerializationFailure,
            errors.DeadlockDetected,
            errors.UniqueViolation,
        ) as err:
            raise Retry(_reason(err)) from None
        except (psycopg.Error, PoolTimeout) as err:
            raise StoreError(f"{doing} the store at {self.where}: {_reason(err)}") from None

    def next_feed_seq(self, tx: PostgresTx, count: int = 1) -> int:
        # The counter row stays locked until this transaction commits: feed numbers become
        # visible in order, so a reader that follows `seq > N` never skips a late commit.
        row = tx.one("UPDATE feed_head SET seq = seq + ? RETURNING seq", (count,))
        assert row is not None
        return int(row[0]) - count + 1

    def close(self) -> None:
        self.pool.close()
