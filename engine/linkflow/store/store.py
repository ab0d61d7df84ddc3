"""Durable instances: every instance, its history and the world, kept in SQLite or PostgreSQL.

Each event runs on the in-memory runtime (`Engine`, `Instance`) against a world view that
fetches records by key inside the event's transaction; then the changed records, the instance
row, the history entry, a handoff's next instance and the feed entry are written in that same
transaction. A crash at any moment leaves either all of it or none.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from linkflow.errors import UsageError
from linkflow.language.model import Workflow
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Clock, Instance
from linkflow.runtime.session import handoff_data
from linkflow.runtime.steps import EventOption, HistoryEntry, Refusal, RefusalKind, Step
from linkflow.runtime.world import World, copy_json
from linkflow.store.backend import Backend, Row, Tx
from linkflow.store.definitions import Definition, compile_source, read_definitions
from linkflow.store.errors import Conflict, NotFound, Retry, StoreError
from linkflow.store.migrations import migrate
from linkflow.store.records import INSTANCE_COLUMNS, FeedEntry, InstanceRecord, Sent, StoredEntry
from linkflow.store.url import StoreUrl, parse, resolve
from linkflow.store.world_view import StoreWorld, dump

T = TypeVar("T")

#: How often a transaction that lost a race (PostgreSQL) is run again before giving up.
ATTEMPTS = 30
#: How many due timers one transaction claims and fires: one commit (one fsync) for many
#: timers, yet a short enough transaction that other writers do not wait long behind it.
FIRE_BATCH = 500
FEED_COLUMNS = "seq, instance, workflow, event, source, target, outcome, time"
HISTORY_COLUMNS = "seq, time, event, source, target, accepted, payload, refusal, event_id"


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _record(row: Row) -> InstanceRecord:
    (id_, workflow, definition, state, data, start, outcome, version) = row[:8]
    created, updated, entered, due, session = row[8:]
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


def _refusal(raw: Mapping[str, Any]) -> Refusal:
    return Refusal(
        RefusalKind(raw["kind"]),
        raw["message"],
        raw.get("guard", ""),
        raw.get("rule", ""),
        tuple(_refusal(r) for r in raw.get("also", ())),
    )


def _fingerprint(event: str, public: Mapping[str, Any]) -> str:
    """What an event id stands for: the event and its recordable payload (never a secret)."""
    text = json.dumps([event, public], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_id() -> str:
    return secrets.token_hex(8)


#: A history entry's number is the instance's next one, taken in the insert itself.
HISTORY_INSERT = (
    "INSERT INTO history (instance, seq, time, event, source, target, accepted, payload, "
    "refusal, transition, event_id, request) VALUES (?, "
    "(SELECT COALESCE(MAX(seq), 0) + 1 FROM history WHERE instance = ?), "
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSTANCE_UPDATE = (
    "UPDATE instances SET state = ?, data = ?, outcome = ?, version = ?, updated = ?, "
    "entered = ?, due = ? WHERE id = ?"
)
FEED_INSERT = f"INSERT INTO feed ({FEED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


class _Pending:
    """The rows of steps taken in one transaction, written together by `Store._flush`."""

    __slots__ = ("feed", "history", "instances", "steps")

    def __init__(self) -> None:
        self.history: list[tuple[Any, ...]] = []
        self.instances: list[tuple[Any, ...]] = []
        self.feed: list[tuple[Any, ...]] = []
        #: (step, instance after it, handed-off instance, accepted) in the order taken.
        self.steps: list[tuple[Step, InstanceRecord, InstanceRecord | None, bool]] = []


def _run_rows(tx: Tx, sql: str, rows: list[tuple[Any, ...]]) -> None:
    if len(rows) == 1:
        tx.run(sql, rows[0])
    elif rows:
        tx.many(sql, rows)


def check_send(payload: object, event_id: str | None) -> None:
    """The arguments of a send that are wrong whatever the store holds: a UsageError."""
    if payload is not None and not isinstance(payload, Mapping):
        raise UsageError("the payload must be a mapping of fields")
    if event_id is not None and not event_id.strip():
        raise UsageError("an event id cannot be empty")


class Store:
    """A durable home for instances. Open with `Store.open(url)`; close when done."""

    def __init__(self, backend: Backend, where: str, clock: Clock = time.time) -> None:
        self.backend = backend
        self.where = where
        self.clock = clock
        self._engines: dict[str, Engine] = {}

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, url: str | None = None, *, clock: Clock = time.time, schema: int | None = None
    ) -> Store:
        """Open (and create or upgrade) the store at `url`, `$LINKFLOW_STORE` or the default.

        `schema` stops the migrations at an older version (for tests of upgrades only).
        """
        parsed = parse(resolve(url))
        backend = open_backend(parsed)
        store = cls(backend, parsed.display(), clock)
        try:
            migrate(backend, store.where, schema)
        except BaseException:
            backend.close()
            raise
        return store

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------------------

    def _write(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in one write transaction, again if it lost a race with another writer."""
        for attempt in range(ATTEMPTS):
            try:
                with self.backend.write() as tx:
                    return work(tx)
            except Retry:
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise StoreError(
            f"the store at {self.where} is too busy: gave up after {ATTEMPTS} conflicting tries"
        )

    # -- definitions ----------------------------------------------------------------------------

    def register(self, path: str | Path) -> Definition:
        """Store the workflow in a file (and those it hands off to); its definition."""
        name, found = read_definitions(path)
        now = self.clock()

        def work(tx: Tx) -> None:
            for d in found:
                tx.run(
                    "INSERT INTO definitions (hash, name, file, source, registered) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO UPDATE "
                    "SET registered = excluded.registered",
                    (d.hash, d.name, d.file, d.source, now),
                )

        self._write(work)
        return next(d for d in found if d.name == name)

    def definition(self, name_or_hash: str) -> Definition:
        """A stored definition by content hash (or its prefix), or the newest of a name."""
        with self.backend.read() as tx:
            row = tx.one(
                "SELECT hash, name, file, source FROM definitions WHERE name = ? "
                "ORDER BY registered DESC, hash LIMIT 1",
                (name_or_hash,),
            ) or tx.one(
                "SELECT hash, name, file, source FROM definitions WHERE hash >= ? AND hash < ? "
                "ORDER BY hash LIMIT 1",
                (name_or_hash, name_or_hash + "g"),
            )
            if row is None:
                names = [r[0] for r in tx.all("SELECT DISTINCT name FROM definitions ORDER BY 1")]
        if row is None:
            known = ", ".join(names) or "none yet"
            raise NotFound(
                f"no workflow named '{name_or_hash}' in the store (stored: {known}); "
                "start it from its YAML file once"
            )
        return Definition(*row)

    def _engine(self, tx: Tx, definition: str) -> Engine:
        engine = self._engines.get(definition)
        if engine is None:
            row = tx.one("SELECT source, file FROM definitions WHERE hash = ?", (definition,))
            if row is None:  # pragma: no cover - a foreign key keeps it
                raise StoreError(f"the store lost workflow definition {definition}")
            engine = self._engines[definition] = Engine(compile_source(row[0], row[1]))
        return engine

    def _resolve_start(self, workflow: str | Path | Workflow) -> Definition:
        if isinstance(workflow, Workflow):
            return self.register(workflow.file)
        path = Path(workflow)
        if path.suffix in (".yaml", ".yml") or path.is_file():
            return self.register(path)
        return self.definition(str(workflow))

    # -- instances ------------------------------------------------------------------------------

    def start(
        self,
        workflow: str | Path | Workflow,
        data: Mapping[str, Any] | None = None,
        *,
        instance_id: str | None = None,
    ) -> InstanceRecord:
        """A new instance of a workflow (a YAML file, a loaded Workflow or a stored name).

        With `instance_id`, starting again with the same workflow and data returns the same
        instance; other data under that id is a Conflict.
        """
        definition = self._resolve_start(workflow)
        start = copy_json(dict(data or {}))
        if instance_id is not None and not instance_id.strip():
            raise UsageError("an instance id cannot be empty")
        wanted = instance_id or new_id()

        def work(tx: Tx) -> InstanceRecord:
            row = tx.one(f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = ?", (wanted,))
            if row is not None:
                found = _record(row)
                if found.workflow == definition.name and dict(found.start_data) == start:
                    return found
                raise Conflict(
                    f"instance '{wanted}' already exists with other start data "
                    f"(workflow '{found.workflow}'); use another id"
                )
            engine = self._engine(tx, definition.hash)
            instance = engine.create(start, World(), self.clock)
            return self._insert(tx, instance, definition.hash, wanted, wanted, start)

        return self._write(work)

    def _insert(
        self,
        tx: Tx,
        instance: Instance,
        definition: str,
        id_: str,
        session: str,
        start: Mapping[str, Any],
        hop: int = 0,
    ) -> InstanceRecord:
        now = instance.entered_at
        record = InstanceRecord(
            id_,
            instance.workflow.name,
            definition,
            instance.state,
            instance.data,
            start,
            instance.outcome,
            0,
            now,
            now,
            now,
            instance.due,
            session,
        )
        tx.run(
            f"INSERT INTO instances ({INSTANCE_COLUMNS}, hop) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                id_,
                record.workflow,
                definition,
                record.state,
                dump(record.data),
                dump(start),
                record.outcome,
                0,
                now,
                now,
                now,
                record.due,
                session,
                hop,
            ),
        )
        return record

    def _row(self, tx: Tx, instance_id: str, lock: str = "") -> InstanceRecord:
        """The stored instance, or NotFound."""
        row = tx.one(f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = ?{lock}", (instance_id,))
        if row is None:
            raise NotFound(f"no instance '{instance_id}' in the store at {self.where}")
        return _record(row)

    def get(self, instance_id: str) -> InstanceRecord:
        with self.backend.read() as tx:
            return self._row(tx, instance_id)

    def current(self, instance_id: str) -> InstanceRecord:
        """The newest instance of the handoff chain `instance_id` belongs to."""
        first = self.get(instance_id)
        with self.backend.read() as tx:
            row = tx.one(
                f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE session = ? "
                "ORDER BY hop DESC LIMIT 1",
                (first.session,),
            )
        return first if row is None else _record(row)

    def instances(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        outcome: str | None = None,
        limit: int = 100,
        before: tuple[float, str] | None = None,
    ) -> list[InstanceRecord]:
        """Stored instances, newest first, filtered by workflow, state and outcome.

        `before` (created, id) of the last instance of a page continues after it (keyset
        paging: stable while instances are added, and as cheap on the last page as the first).
        """
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("workflow", workflow), ("state", state), ("outcome", outcome)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if before is not None:
            where.append("(created < ? OR (created = ? AND id < ?))")
            params.extend((before[0], before[0], before[1]))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self.backend.read() as tx:
            rows = tx.all(
                f"SELECT {INSTANCE_COLUMNS} FROM instances{clause} "
                "ORDER BY created DESC, id DESC LIMIT ?",
                (*params, max(limit, 0)),
            )
        return [_record(r) for r in rows]

    def history(self, instance_id: str) -> list[StoredEntry]:
        self.get(instance_id)  # NotFound for an unknown id, rather than an empty history
        with self.backend.read() as tx:
            rows = tx.all(
                f"SELECT {HISTORY_COLUMNS} FROM history WHERE instance = ? ORDER BY seq",
                (instance_id,),
            )
        return [self._entry(r) for r in rows]

    @staticmethod
    def _entry(row: Row) -> StoredEntry:
        seq, at, event, source, target, accepted, payload, refusal, event_id = row
        entry = HistoryEntry(
            float(at),
            event,
            source,
            target,
            bool(accepted),
            _load(payload) or {},
            None if refusal is None else _refusal(json.loads(refusal)),
        )
        return StoredEntry(int(seq), entry, event_id)

    def available(self, instance_id: str) -> list[EventOption]:
        """Every event of the instance and whether it could be sent now (nothing is changed)."""
        with self.backend.read() as tx:
            instance, _ = self._materialize(tx, self._row(tx, instance_id), lock="")
            return instance.available_events()

    def _materialize(
        self, tx: Tx, record: InstanceRecord, lock: str, clock: Clock | None = None
    ) -> tuple[Instance, StoreWorld]:
        engine = self._engine(tx, record.definition)
        sql = f"SELECT record FROM world WHERE collection = ? AND key = ?{lock}"

        def fetch(collection: str, key: str) -> str | None:
            found = tx.one(sql, (collection, key))
            return None if found is None else str(found[0])

        world = StoreWorld(fetch)
        instance = Instance(engine, copy_json(dict(record.data)), world, clock or self.clock)
        instance.state = record.state
        instance.entered_at = record.entered
        return instance, world

    # -- events ---------------------------------------------------------------------------------

    def send(
        self,
        instance_id: str,
        event: str,
        payload: Mapping[str, Any] | None = None,
        *,
        event_id: str | None = None,
        expect_version: int | None = None,
    ) -> Sent:
        """Send one event to a stored instance; accepted or refused, the outcome is a value.

        `event_id` makes the send idempotent: the same id again returns the recorded step and
        applies nothing; the same id with another event or payload is a Conflict. With
        `expect_version`, a stale version (another step came first) is a Conflict.
        """
        check_send(payload, event_id)
        return self._write(
            lambda tx: self._send_in(tx, instance_id, event, payload, event_id, expect_version)
        )

    def _send_in(
        self,
        tx: Tx,
        instance_id: str,
        event: str,
        payload: Mapping[str, Any] | None,
        event_id: str | None,
        expect_version: int | None,
    ) -> Sent:
        """One event inside an open write transaction (`send`, or a batch of them)."""
        record = self._row(tx, instance_id, self.backend.lock)
        engine = self._engine(tx, record.definition)
        request = None
        if event_id is not None:
            recordable = engine.recordable_fields.get(event, frozenset())
            public = {k: v for k, v in (payload or {}).items() if k in recordable}
            request = _fingerprint(event, public)
            prior = self._replay(tx, record, engine, event_id, request)
            if prior is not None:
                return prior
        if expect_version is not None and expect_version != record.version:
            raise Conflict(
                f"instance '{instance_id}' is at version {record.version}, not "
                f"{expect_version}: another step came first; read it again"
            )
        instance, world = self._materialize(tx, record, self.backend.lock)
        step = instance.send(event, payload)
        pending = _Pending()
        self._stage(tx, pending, record, instance, world, step, event_id, request)
        return self._flush(tx, pending)[0]

    def _replay(
        self, tx: Tx, record: InstanceRecord, engine: Engine, event_id: str, request: str
    ) -> Sent | None:
        """The recorded step of an event id seen before, or None; a Conflict when the id
        was used for another event or payload."""
        row = tx.one(
            "SELECT event, source, target, refusal, transition, request FROM history "
            "WHERE instance = ? AND event_id = ?",
            (record.id, event_id),
        )
        if row is None:
            return None
        event, source, target, refusal, transition, seen = row
        if seen != request:
            raise Conflict(
                f"event id '{event_id}' was already used on instance '{record.id}' for "
                f"another event or payload ('{event}'); use a new id"
            )
        taken = None if transition is None else engine.workflow.transitions[int(transition)]
        refused = None if refusal is None else _refusal(json.loads(refusal))
        return Sent(Step(event, source, target, taken, refused), record, replayed=True)

    def _stage(
        self,
        tx: Tx,
        pending: _Pending,
        record: InstanceRecord,
        instance: Instance,
        world: StoreWorld,
        step: Step,
        event_id: str | None,
        request: str | None,
    ) -> None:
        """Write one step: history always; for an accepted step also the instance row, the
        changed world records, a handoff's next instance and the feed entry. The history,
        instance and feed rows go to `pending` (`_flush` writes a batch of steps' rows
        together); world changes and a handoff's next instance are written at once."""
        entry = instance.history[-1]
        pending.history.append(
            (
                record.id,
                record.id,
                entry.time,
                entry.event,
                entry.source,
                entry.target,
                int(entry.accepted),
                dump(dict(entry.payload)) if entry.payload else None,
                None if entry.refusal is None else dump(entry.refusal.as_dict()),
                None if step.transition is None else step.transition.index,
                event_id,
                request,
            )
        )
        if not step.accepted:
            pending.steps.append((step, record, None, False))
            return
        for collection, key, text, existed in world.changes():
            if text is None:
                tx.run("DELETE FROM world WHERE collection = ? AND key = ?", (collection, key))
            elif existed:
                tx.run(
                    "UPDATE world SET record = ?, version = version + 1 "
                    "WHERE collection = ? AND key = ?",
                    (text, collection, key),
                )
            else:
                tx.run(
                    "INSERT INTO world (collection, key, record, version) VALUES (?, ?, ?, 1)",
                    (collection, key, text),
                )
        now = entry.time
        after = InstanceRecord(
            record.id,
            record.workflow,
            record.definition,
            instance.state,
            instance.data,
            record.start_data,
            instance.outcome,
            record.version + 1,
            record.created,
            now,
            instance.entered_at,
            instance.due,
            record.session,
        )
        pending.instances.append(
            (
                after.state,
                dump(after.data),
                after.outcome,
                after.version,
                now,
                after.entered,
                after.due,
                record.id,
            )
        )
        handed = self._hand_off(tx, instance, after)
        pending.feed.append(
            (record.id, record.workflow, step.event, step.source, step.target, after.outcome, now)
        )
        pending.steps.append((step, after, handed, True))

    def _flush(self, tx: Tx, pending: _Pending) -> list[Sent]:
        """Write what `pending` holds, one batch per statement; the steps' outcomes."""
        _run_rows(tx, HISTORY_INSERT, pending.history)
        _run_rows(tx, INSTANCE_UPDATE, pending.instances)
        number = self.backend.next_feed_seq(tx, len(pending.feed)) if pending.feed else 0
        _run_rows(tx, FEED_INSERT, [(number + i, *row) for i, row in enumerate(pending.feed)])
        sent: list[Sent] = []
        for step, after, handed, accepted in pending.steps:
            if accepted:
                sent.append(Sent(step, after, handed_to=handed, feed_seq=number))
                number += 1
            else:
                sent.append(Sent(step, after))
        return sent

    def _hand_off(self, tx: Tx, instance: Instance, after: InstanceRecord) -> InstanceRecord | None:
        target = instance.workflow.states[instance.state].handoff
        if not target:
            return None
        row = tx.one(
            "SELECT hash FROM definitions WHERE name = ? ORDER BY registered DESC, hash LIMIT 1",
            (target,),
        )
        if row is None:  # pragma: no cover - registering a workflow registers its handoffs
            raise StoreError(f"workflow '{target}' (a handoff target) is not in the store")
        engine = self._engine(tx, row[0])
        shared = handoff_data(instance.data, engine.workflow)
        clock = instance.clock
        following = engine.create(shared, World(), clock)
        hop = tx.one("SELECT hop FROM instances WHERE id = ?", (after.id,))
        assert hop is not None
        return self._insert(tx, following, row[0], new_id(), after.session, shared, int(hop[0]) + 1)

    # -- timers ---------------------------------------------------------------------------------

    def fire_due(self, now: float | None = None, limit: int | None = None) -> list[Sent]:
        """Fire every timeout due by `now` (default: the store's clock), each exactly once.

        A timeout is stamped with its due time, so the next state's wait counts from then:
        a -> b -> c with 10 s each, fired late at 25 s, fires a and b and leaves c due at 30 s.

        Up to FIRE_BATCH due instances are claimed and fired in one transaction (one commit,
        one fsync, for many timers). When a batch fails because one timer's step raised, it is
        rolled back and its timers are fired one transaction each: the others are fired, the
        failing one stays due, and its error is raised once every other due timer has been
        fired. A failing store (a StoreError: unreachable, full, too busy) stops at once.
        """
        moment = self.clock() if now is None else now
        fired: list[Sent] = []
        failed: dict[str, Exception] = {}
        while limit is None or len(fired) < limit:
            size = FIRE_BATCH if limit is None else min(FIRE_BATCH, limit - len(fired))
            skip = tuple(failed)
            try:
                claimed, sent = self._write(
                    partial(self._fire_batch, now=moment, size=size, skip=skip)
                )
            except StoreError:
                raise  # the store failed (unreachable, full, too busy), not one timer's step
            except Exception:
                claimed, sent = self._fire_singly(moment, size, skip, failed)
            fired.extend(sent)
            if not claimed:
                break
        if failed:
            raise next(iter(failed.values()))
        return fired

    def _due_sql(self, skip: tuple[str, ...], columns: str, claim: str) -> str:
        # Failed timers of this call are left out: the rest fire behind them.
        leave_out = f" AND id NOT IN ({', '.join('?' * len(skip))})" if skip else ""
        return (
            f"SELECT {columns} FROM instances WHERE due IS NOT NULL AND due <= ?{leave_out} "
            f"ORDER BY due, id LIMIT ?{claim}"
        )

    def _fire_batch(
        self, tx: Tx, now: float, size: int, skip: tuple[str, ...]
    ) -> tuple[int, list[Sent]]:
        """Claim up to `size` due instances and fire each; how many were claimed, what fired.

        The steps' history, instance and feed rows are written together at the end, one
        batched statement each: a timer costs its step, not several statements."""
        sql = self._due_sql(skip, INSTANCE_COLUMNS, self.backend.claim)
        rows = tx.all(sql, (now, *skip, size))
        pending = _Pending()
        for row in rows:
            self._fire_row(tx, row, pending)
        return len(rows), self._flush(tx, pending)

    def _fire_singly(
        self, now: float, size: int, skip: tuple[str, ...], failed: dict[str, Exception]
    ) -> tuple[int, list[Sent]]:
        """The timers of a failed batch, one transaction each; a failure is kept in `failed`."""
        with self.backend.read() as tx:
            ids = [row[0] for row in tx.all(self._due_sql(skip, "id", ""), (now, *skip, size))]
        fired: list[Sent] = []
        for instance_id in ids:
            try:
                sent = self._write(partial(self._fire_id, instance_id=instance_id, now=now))
            except StoreError:
                raise
            except Exception as err:
                failed[instance_id] = err
                continue
            if sent is not None:
                fired.append(sent)
        return len(ids), fired

    def _fire_id(self, tx: Tx, instance_id: str, now: float) -> Sent | None:
        row = tx.one(
            f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = ? AND due IS NOT NULL "
            f"AND due <= ?{self.backend.claim}",
            (instance_id, now),
        )
        if row is None:
            return None  # another process fired it first
        pending = _Pending()
        self._fire_row(tx, row, pending)
        return next(iter(self._flush(tx, pending)), None)

    def _fire_row(self, tx: Tx, row: Row, pending: _Pending) -> None:
        """Fire the timeout of one claimed instance row into `pending` (nothing when its
        state has no timeout)."""
        record = _record(row)
        due = float(row[11])
        instance, world = self._materialize(tx, record, self.backend.lock, clock=lambda: due)
        step = instance.time_out()
        if step is None or not step.accepted:
            # The definition has no timeout here (or its step failed): stop the timer, so the
            # instance is not fired again and again; a refusal is in its history.
            tx.run("UPDATE instances SET due = NULL WHERE id = ?", (record.id,))
            if step is None:
                return
        self._stage(tx, pending, record, instance, world, step, None, None)

    def next_due(self) -> float | None:
        """When the next timeout is due, or None."""
        with self.backend.read() as tx:
            row = tx.one("SELECT MIN(due) FROM instances WHERE due IS NOT NULL")
        return None if row is None or row[0] is None else float(row[0])

    # -- change feed ----------------------------------------------------------------------------

    def feed(self, after: int = 0, limit: int = 1000) -> list[FeedEntry]:
        """Accepted steps numbered above `after`, oldest first."""
        with self.backend.read() as tx:
            rows = tx.all(
                f"SELECT {FEED_COLUMNS} FROM feed WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, max(limit, 0)),
            )
        return [FeedEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], float(r[7])) for r in rows]

    # -- world ----------------------------------------------------------------------------------

    def load_world(self, world: World | str | Path) -> int:
        """Import a world (or world file): each record replaces the stored one of its key, all
        in one transaction with one executemany (100,000 records: benchmarks/world_load.py)."""
        if not isinstance(world, World):
            from linkflow.errors import DefinitionError
            from linkflow.runtime.world_loader import load_world

            loaded, problems = load_world(world)
            if loaded is None:
                raise DefinitionError(problems)
            world = loaded
        records = [
            (name, str(key), dump(value))
            for name, items in world.collections.items()
            for key, value in items.items()
        ]

        def work(tx: Tx) -> int:
            tx.many(
                "INSERT INTO world (collection, key, record, version) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (collection, key) DO UPDATE "
                "SET record = excluded.record, version = world.version + 1",
                records,
            )
            return len(records)

        return self._write(work)

    def world(self, collection: str, key: str | None = None) -> dict[str, Any]:
        """The records of a collection (or the one record of `key`), by key."""
        with self.backend.read() as tx:
            if key is None:
                rows = tx.all(
                    "SELECT key, record FROM world WHERE collection = ? ORDER BY key",
                    (collection,),
                )
            else:
                rows = tx.all(
                    "SELECT key, record FROM world WHERE collection = ? AND key = ?",
                    (collection, key),
                )
        return {str(k): json.loads(v) for k, v in rows}


def open_backend(url: StoreUrl) -> Backend:
    if url.backend == "sqlite":
        from linkflow.store.sqlite_backend import SqliteBackend

        return SqliteBackend(url.path, url.options.get("synchronous", "FULL"))
    from linkflow.store.postgres_backend import PostgresBackend

    return PostgresBackend(url)
