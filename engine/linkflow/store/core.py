"""What every part of the store stands on: the open backend, its queries, write transactions
that run again after a lost race, and the engines of stored definitions.

`Store` (store.py) is built from the parts beside this module: registry.py (definitions),
steps.py (writing a step and a handoff), timers.py and world_store.py.

Lock order
----------
Every write transaction takes its locks in one order, so that no writer ever waits for a lock
while holding one that the writer it waits for needs:

1. instance rows: a batch of events locks all of its instances first, in id order
   (`lock_instances`, batch.py); a single event locks its one instance (`instance_for_update`);
   a timer pass claims rows with `SKIP LOCKED` (`claim_due`, `claim_due_instance`), so it never
   waits for an instance row at all;
2. then the world records a step reads (`world_record_for_update`), in the order the steps
   meet them;
3. last, the feed (PostgreSQL: `linkflow_append_feed`, migration 0008), under an advisory lock
   held for that one statement, not until commit. Its holder waits for nothing else (it only
   takes numbers and inserts new rows), so waiting for it never closes a cycle.

No lock is held from the feed to the commit any more: writers of several processes do their
steps side by side and meet only on the rows they share (docs/store.md, "The change feed on
PostgreSQL", says how readers still see the feed gap-free and in order). Before schema version
8 every writer first locked one feed-counter row until it committed: a second process only
queued behind the first. An event batch (counter, then rows) and a timer pass (claimed rows,
then the counter) deadlocked before that (tests/test_store_processes.py races events against
due timers and counts deadlocks in the server log); with the order above a timer pass waits
only at step 2, which an event batch reaches only once it holds all its instance rows.

What this order cannot sort: two steps that each read two shared world records, in opposite
orders (only the workflow knows the order). PostgreSQL finds such a deadlock after
`deadlock_timeout` and fails one transaction, while its step reads a record; that read raises
`LostRace` (errors.py), which the runtime lets through instead of making it a refusal, and the
store runs the transaction again, as it does (`Retry`) for any session outside this order (a
manual SQL session, say). tests/test_store_lock_order.py races both cases. Starting an
instance, imports and definitions insert rows or lock rows no step holds while waiting.

SQLite needs nothing more: `BEGIN IMMEDIATE` makes each write transaction the only writer
until it commits (`Backend.serial`: `lock_instances` is not run there), so there is only ever
one lock, taken first. It is also why a SQLite store may remember instances and world records
between transactions (cache.py).
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from linkflow.language.loader import workflow_from_text
from linkflow.language.model import Workflow
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Clock, Instance
from linkflow.runtime.steps import Refusal, RefusalKind
from linkflow.runtime.world import copy_json
from linkflow.store.backend import Backend, Row, Tx
from linkflow.store.cache import Cache, Stale
from linkflow.store.errors import RACE_LOST, ConnectionLost, LostRace, NotFound, Retry, StoreError
from linkflow.store.queries import Queries, queries
from linkflow.store.records import InstanceRecord
from linkflow.store.world_view import StoreWorld

T = TypeVar("T")

#: How often a transaction that lost a race (PostgreSQL) is run again before giving up.
ATTEMPTS = 30


def new_id() -> str:
    return secrets.token_hex(8)


def record_of(row: Row) -> InstanceRecord:
    """An instance row (selected in records.INSTANCE_COLUMNS order) as a record."""
    (id_, workflow, definition, state, data, start, outcome, version) = row[:8]
    created, updated, entered, due, session = row[8:13]
    return InstanceRecord(
        id_,
        workflow,
        definition,
        state,
        json.loads(data),
        json.loads(start),
        outcome,
        int(version),
        float(created),
        float(updated),
        float(entered),
        None if due is None else float(due),
        session,
    )


def refusal_of(raw: Mapping[str, Any]) -> Refusal:
    return Refusal(
        RefusalKind(raw["kind"]),
        raw["message"],
        raw.get("guard", ""),
        raw.get("rule", ""),
        tuple(refusal_of(r) for r in raw.get("also", ())),
    )


class StoreCore:
    """The backend, its queries and the compiled definitions (see `Store`)."""

    def __init__(self, backend: Backend, where: str, clock: Clock = time.time) -> None:
        self.backend = backend
        self.where = where
        self.clock = clock
        #: The dialect's named queries (store/sql/*.sql): the only SQL the store runs.
        self.sql: Queries = queries(backend.name)
        self._engines: dict[str, Engine] = {}
        #: Workflows registered by this process, by content hash: never compiled again.
        self._known: dict[str, Workflow] = {}
        #: Transactions run again after losing a race, since the store opened (for metrics).
        self.retries = 0
        #: Instances and world records as this process last wrote or read them (cache.py).
        self.cache = Cache()
        #: Held around each write transaction and its cache's update (`_attempt`), where
        #: writers take turns anyway (SQLite); PostgreSQL's writers keep no cache and need none.
        self._writing: AbstractContextManager[Any] = (
            threading.RLock() if backend.serial else nullcontext()
        )

    def _write(self, work: Callable[[Tx], T], *, keeps: bool = False) -> T:
        """Run `work` in one write transaction, again if it lost a race with another writer.

        With `keeps`, `work` keeps the cache up to date (cache.py); any other writer empties it.

        A transaction whose connection broke before its COMMIT was sent applied nothing: it
        runs once more, on a new connection (the database may have failed over). One that
        broke while committing is not run again (it may have committed): ConnectionLost."""
        reconnected = False
        for attempt in range(ATTEMPTS):
            try:
                return self._attempt(work, keeps=keeps)
            except Stale:
                continue  # no race lost: the next try reads afresh what the cache held
            except (Retry, LostRace):
                self.retries += 1
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
            except ConnectionLost as lost:
                if reconnected or not lost.before_commit:
                    raise
                reconnected = True
        raise StoreError(
            f"the store at {self.where} is too busy: gave up after {ATTEMPTS} conflicting tries"
        )

    def _attempt(self, work: Callable[[Tx], T], *, keeps: bool) -> T:
        """One try of `_write`. The cache takes the transaction's entries after COMMIT and
        before another thread's write transaction can begin (`_writing`): a thread never reads
        an entry older than a commit it follows."""
        serial = self.backend.serial
        with self._writing:
            try:
                with self.backend.write() as tx:
                    self.cache.begin(keeps and serial)
                    done = work(tx)
            except BaseException:
                self.cache.end(committed=False)
                raise
            self.cache.end(committed=True)
            return done

    def _engine(self, tx: Tx, definition: str) -> Engine:
        """The engine of a stored definition: the model this process registered, or else its
        stored text built once by the loader (checked in full when it was stored, so the graph
        checks, and networkx, are left out)."""
        engine = self._engines.get(definition)
        if engine is None:
            workflow = self._known.get(definition)
            if workflow is None:
                row = tx.one(self.sql["definition_source"], (definition,))
                if row is None:  # pragma: no cover - a foreign key keeps it
                    raise StoreError(f"the store lost workflow definition {definition}")
                # with the declaration of the services it calls, kept beside its text
                workflow = workflow_from_text(
                    row[0], row[1], check_graph=False, services_source=row[2] or ""
                )
            engine = self._engines[definition] = Engine(workflow)
        return engine

    def engine(self, definition: str) -> Engine:
        """The engine of the stored definition with this content hash (compiled once)."""
        engine = self._engines.get(definition)
        if engine is None:
            with self.backend.read() as tx:
                engine = self._engine(tx, definition)
        return engine

    def _row(self, tx: Tx, instance_id: str, *, lock: bool = False) -> InstanceRecord:
        """The stored instance (locked for this writer when `lock`, and then remembered by the
        write transaction's cache), or NotFound."""
        query = self.sql["instance_for_update"] if lock else self.sql["instance"]
        row = tx.one(query, (instance_id,))
        if row is None:
            raise NotFound(f"no instance '{instance_id}' in the store at {self.where}")
        record = record_of(row)
        if lock:
            self.cache.observe(row[13])
            if self.cache.tx is not None:
                self.cache.tx.records[instance_id] = record
        return record

    def _locked(self, tx: Tx, instance_id: str) -> tuple[InstanceRecord, bool]:
        """The instance a write transaction works on: remembered (and checked at its first
        write, cache.py) or read and locked. True when it was remembered."""
        found = self.cache.record(instance_id)
        if found is not None:
            return found, True
        return self._row(tx, instance_id, lock=True), False

    def _materialize(
        self, tx: Tx, record: InstanceRecord, *, lock: bool, clock: Clock | None = None
    ) -> tuple[Instance, StoreWorld]:
        """The instance as stored, on a world that reads records by key (locked when `lock`)."""
        engine = self._engine(tx, record.definition)
        query = self.sql["world_record_for_update"] if lock else self.sql["world_record"]

        cache = self.cache if lock else None

        def fetch(collection: str, key: str) -> str | None:
            if cache is not None:
                known, text = cache.text((collection, key))
                if known:
                    return text
            try:
                found = tx.one(query, (collection, key))
            except Exception as err:
                if type(err).__name__ in RACE_LOST:
                    # Read inside a step (an action or a guard): passed as a refusal, it would
                    # leave the step writing into a dead transaction (errors.LostRace).
                    raise LostRace(str(err).splitlines()[0]) from err
                raise
            text = None if found is None else str(found[0])
            if cache is not None and cache.tx is not None:
                cache.tx.texts[(collection, key)] = text
            return text

        world = StoreWorld(fetch)
        instance = Instance(engine, copy_json(dict(record.data)), world, clock or self.clock)
        instance.state = record.state
        instance.entered_at = record.entered
        return instance, world
