"""What a store process remembers between its write transactions, and when it may trust it.

An event needs its instance row and the world records its guards and actions name. Read and
parsed again for every event, they cost a statement each and a JSON decode; remembered, they
cost nothing, if nothing else changed them in between.

Only a backend whose writers take turns (`Backend.serial`: SQLite, one writer at a time) keeps
a cache. There every write statement that can tell (`update_instance_checked`,
`insert_history_checked`, `instance_for_update`) also returns SQLite's `data_version`, a number
that changes when any other connection (another process, another `Store` on the same file)
commits, and stays put for this connection's own commits. The cache is valid while that number
is the one it was filled under (`seen`):

- a transaction reads from its own `staged` entries (what it read or wrote itself, always
  current inside it) and then from `records`/`texts` (committed by this connection earlier);
- an event that used a committed entry before the transaction had checked the number is
  `unchecked`: its first write statement returns the number, and a different one (or an
  instance whose version moved) raises `Stale`: the whole transaction is rolled back and run
  again from the start, after the cache is emptied;
- entries are published after COMMIT only; a rolled back transaction (or event of a batch,
  undone to its savepoint) drops its own;
- a write transaction that does not keep the cache up to date (timers, imports, pruning,
  registering) empties it.

PostgreSQL keeps no cache: its writers lock what they read, so every read is also a lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from linkflow.store.errors import Retry
from linkflow.store.records import InstanceRecord

#: A world record's key: (collection, key).
RecordKey = tuple[str, str]
#: What a transaction's cache held at a savepoint (`TxCache.mark`).
Mark = tuple[dict[str, InstanceRecord], dict[RecordKey, str | None], bool]


class Stale(Retry):
    """What this process remembered was changed by another connection: run the transaction
    again with fresh reads (never seen by callers: `_write` retries it)."""


@dataclass(slots=True)
class TxCache:
    """What one write transaction read and wrote, published after it commits."""

    records: dict[str, InstanceRecord] = field(default_factory=dict)
    texts: dict[RecordKey, str | None] = field(default_factory=dict)
    #: The data version has been read in this transaction and matched (or reset) the cache.
    checked: bool = False
    #: An event used a committed entry before `checked`: its first write must check.
    unchecked: bool = False

    def mark(self) -> Mark:
        """A copy to go back to when one event of a batch is undone to its savepoint."""
        return dict(self.records), dict(self.texts), self.unchecked

    def undo(self, mark: Mark) -> None:
        self.records, self.texts, self.unchecked = dict(mark[0]), dict(mark[1]), mark[2]


class Cache:
    """Instance records and world record texts as this connection last committed them."""

    __slots__ = ("records", "seen", "texts", "tx")

    def __init__(self) -> None:
        self.records: dict[str, InstanceRecord] = {}
        self.texts: dict[RecordKey, str | None] = {}
        #: The data version the committed entries were current at (None: never read).
        self.seen: Any = None
        #: The open write transaction's entries (None outside one, or when it keeps none).
        self.tx: TxCache | None = None

    def clear(self) -> None:
        self.records.clear()
        self.texts.clear()

    # -- inside a transaction -------------------------------------------------------------------

    def record(self, instance_id: str) -> InstanceRecord | None:
        tx = self.tx
        if tx is None:
            return None
        found = tx.records.get(instance_id)
        if found is None:
            found = self.records.get(instance_id)
            if found is not None and not tx.checked:
                tx.unchecked = True
        return found

    def text(self, key: RecordKey) -> tuple[bool, str | None]:
        """(known, text) of a world record; text None: there is no such record."""
        tx = self.tx
        if tx is None:
            return False, None
        if key in tx.texts:
            return True, tx.texts[key]
        if key in self.texts:
            if not tx.checked:
                tx.unchecked = True
            return True, self.texts[key]
        return False, None

    def stale(self, why: str) -> Stale:
        """What to raise when an entry turned out stale otherwise than by the data version (an
        instance row no longer at the remembered version): the cache is emptied first."""
        self.clear()
        self.seen = None
        return Stale(why)

    def observe(self, version: Any) -> None:
        """The data version read in this transaction (before any of its own changes count):
        raises Stale when an entry used without a check turns out older than it."""
        tx = self.tx
        if tx is None or version is None:
            return
        if version != self.seen:
            self.clear()
            self.seen = version
            if tx.unchecked:
                raise Stale("another connection changed the store since this process read it")
        tx.checked = True

    # -- around a transaction -------------------------------------------------------------------

    def begin(self, keeps: bool) -> None:
        self.tx = TxCache() if keeps else None
        if not keeps:
            self.clear()

    def end(self, committed: bool) -> None:
        tx, self.tx = self.tx, None
        if tx is None:
            self.clear()  # a writer that keeps no cache may have changed anything
        elif committed and self.seen is not None:
            # Never filled under a data version read: nothing to check it against later.
            self.records.update(tx.records)
            self.texts.update(tx.texts)
