"""The embedded default: one SQLite file in WAL mode, one writer at a time.

`BEGIN IMMEDIATE` takes the write lock before the first read, so everything an event reads
stays as read until it commits: concurrent writers queue (up to the busy timeout) instead of
losing updates. `synchronous=FULL` by default: a commit that returned survives a power cut.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from linkflow.store.backend import Row
from linkflow.store.errors import StoreError, first_line

#: How long a writer waits for another one before giving up, in seconds.
BUSY_TIMEOUT = 60.0


class SqliteTx:
    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)


class SqliteBackend:
    name = "sqlite"
    serial = True

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(
                f"cannot create the store's folder {path.parent}: {err.strerror}"
            ) from None
        try:
            self.conn = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT
            )
        except sqlite3.Error as err:
            raise self.error(err, "cannot open") from None
        self._mutex = threading.RLock()
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(f"PRAGMA synchronous={synchronous}")
        except sqlite3.Error as err:
            self.conn.close()
            raise self.error(err, "cannot open") from None

    def error(self, err: sqlite3.Error, doing: str) -> StoreError:
        return StoreError(f"{doing} the store at {self.path}: {first_line(err)}")

    @contextmanager
    def write(self) -> Iterator[SqliteTx]:
        with self._transaction("BEGIN IMMEDIATE", "cannot write to") as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[SqliteTx]:
        with self._transaction("BEGIN", "cannot read") as tx:
            yield tx

    @contextmanager
    def _transaction(self, begin: str, doing: str) -> Iterator[SqliteTx]:
        with self._mutex:
            conn = self.conn
            try:
                conn.execute(begin)
                yield SqliteTx(conn)
                conn.execute("COMMIT")
            except sqlite3.Error as err:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise self.error(err, doing) from None
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self.conn.close()
