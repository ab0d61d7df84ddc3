"""What the store asks of a database: transactions that run `?`-placeholder SQL.

The two backends differ only where the databases do: how a writer gets exclusive use of what
it reads (SQLite: one writer at a time; PostgreSQL: row locks), how a due timer is claimed
(PostgreSQL: `FOR UPDATE SKIP LOCKED`) and how feed numbers are handed out in commit order.
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

    #: "sqlite" or "postgresql"
    name: str
    #: Appended to SELECTs of rows a writer will change (PostgreSQL: " FOR UPDATE").
    lock: str
    #: Appended to the SELECT that claims a due timer (PostgreSQL: " FOR UPDATE SKIP LOCKED").
    claim: str

    def write(self) -> AbstractContextManager[Tx]:
        """A transaction that may write; raises Retry when it lost a race."""
        ...

    def read(self) -> AbstractContextManager[Tx]:
        """A read-only transaction (one consistent snapshot)."""
        ...

    def next_feed_seq(self, tx: Any, count: int = 1) -> int:
        """The first of `count` consecutive feed numbers; taken in the appending transaction,
        visible in commit order."""
        ...

    def close(self) -> None: ...
