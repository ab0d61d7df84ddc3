"""What the store asks of a database: transactions that run `?`-placeholder SQL.

The two backends differ in how a transaction begins and how a writer gets exclusive use of
what it reads (SQLite: one writer at a time; PostgreSQL: row locks). The SQL that differs with
them (locking reads, claiming due timers, handing out feed numbers) is in the store's query
files (store/sql/sqlite.sql, postgresql.sql), chosen by the backend's `name`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

Row = tuple[Any, ...]


class Tx(Protocol):
    """One open transaction."""

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters (the driver's executemany: one
        prepared statement, no Python round trip per row)."""
        ...


class Backend(Protocol):
    """A database the store runs on."""

    #: "sqlite" or "postgresql": also the dialect of the store's queries.
    name: str
    #: Writers take turns (one write transaction at a time, whoever opened it): nothing a
    #: writer reads needs a lock, and what it remembered can be checked (store/cache.py).
    serial: bool

    def write(self) -> AbstractContextManager[Tx]:
        """A transaction that may write; raises Retry when it lost a race."""
        ...

    def read(self) -> AbstractContextManager[Tx]:
        """A read-only transaction (one consistent snapshot)."""
        ...

    def close(self) -> None: ...
