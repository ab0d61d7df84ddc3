"""Durable instances: every instance, its history and the world, kept in SQLite or PostgreSQL.

Each event runs on the in-memory runtime (`Engine`, `Instance`) against a world view that
fetches records by key inside the event's transaction; then the changed records, the instance
row, the history entry, a handoff's next instance and the feed entry are written in that same
transaction. A crash at any moment leaves either all of it or none.

`Store` is put together from parts: core.py (transactions, engines), registry.py
(definitions), steps.py (writing steps and handoffs), timers.py and world_store.py. Its SQL is
in sql/*.sql, by name (queries.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from linkflow.errors import UsageError
from linkflow.language.model import Workflow
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Clock
from linkflow.runtime.steps import EventOption, HistoryEntry, Step
from linkflow.runtime.world import World, copy_json
from linkflow.store.backend import Backend, Row, Tx
from linkflow.store.core import new_id, record_of, refusal_of
from linkflow.store.errors import Conflict
from linkflow.store.feed import read_feed
from linkflow.store.listing import SCAN_LIMIT, Filters, Page, read_page
from linkflow.store.migrations import migrate
from linkflow.store.operator import OperatorActions
from linkflow.store.records import FeedEntry, InstanceRecord, Sent, StoredEntry
from linkflow.store.registry import Registry
from linkflow.store.sqlite_backend import SqliteBackend
from linkflow.store.steps import Pending
from linkflow.store.timers import Timers
from linkflow.store.url import StoreUrl, parse, resolve
from linkflow.store.world_store import WorldStore

__all__ = ["Store", "check_send", "new_id", "open_backend"]


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _fingerprint(event: str, public: Mapping[str, Any]) -> str:
    """What an event id stands for: the event and its recordable payload (never a secret)."""
    text = json.dumps([event, public], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_send(payload: object, event_id: str | None) -> None:
    """The arguments of a send that are wrong whatever the store holds: a UsageError."""
    if payload is not None and not isinstance(payload, Mapping):
        raise UsageError("the payload must be a mapping of fields")
    if event_id is not None and not event_id.strip():
        raise UsageError("an event id cannot be empty")


class Store(Registry, Timers, WorldStore, OperatorActions):
    """A durable home for instances. Open with `Store.open(url)`; close when done."""

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
        try:
            store = cls(backend, parsed.display(), clock)
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

    # -- instances ------------------------------------------------------------------------------

    def start(
        self,
        workflow: str | Path | Workflow,
        data: Mapping[str, Any] | None = None,
        *,
        instance_id: str | None = None,
    ) -> InstanceRecord:
        """A new instance of a workflow (a YAML file, a loaded Workflow or a stored name).

        A loaded Workflow is registered as it is (its file is not read again). With
        `instance_id`, starting again with the same workflow and data returns the same
        instance; other data under that id is a Conflict.
        """
        definition = self._resolve_start(workflow)
        start = copy_json(dict(data or {}))
        if instance_id is not None and not instance_id.strip():
            raise UsageError("an instance id cannot be empty")
        wanted = instance_id or new_id()

        def work(tx: Tx) -> InstanceRecord:
            row = tx.one(self.sql["instance"], (wanted,))
            if row is not None:
                found = record_of(row)
                if found.workflow == definition.name and dict(found.start_data) == start:
                    return found
                raise Conflict(
                    f"instance '{wanted}' already exists with other start data "
                    f"(workflow '{found.workflow}'); use another id"
                )
            engine = self._engine(tx, definition.hash)
            instance = engine.create(start, World(), self.clock)
            return self._insert(
                tx,
                instance,
                definition.hash,
                wanted,
                wanted,
                start,
                effects=engine.start_effects(instance),
            )

        return self._write(work, keeps=True)

    def get(self, instance_id: str) -> InstanceRecord:
        with self.backend.read() as tx:
            return self._row(tx, instance_id)

    def current(self, instance_id: str) -> InstanceRecord:
        """The newest instance of the handoff chain `instance_id` belongs to."""
        first = self.get(instance_id)
        with self.backend.read() as tx:
            row = tx.one(self.sql["session_head"], (first.session,))
        return first if row is None else record_of(row)

    def session(self, instance_id: str) -> list[InstanceRecord]:
        """Every instance of the handoff chain `instance_id` belongs to, the entry first."""
        first = self.get(instance_id)
        with self.backend.read() as tx:
            rows = tx.all(self.sql["session_members"], (first.session,))
        return [record_of(r) for r in rows]

    def delivery_target(self, instance_id: str, event_id: str | None = None) -> str:
        """Where an event sent to `instance_id` goes: the current instance of its handoff
        chain (as `current` answers), the one rule for the CLI, the service and the facade. An
        event id already recorded on the instance named stays there, to be replayed, so
        retrying the send that caused the handoff applies nothing."""
        current = self.current(instance_id).id
        if current == instance_id or event_id is None:
            return current
        if any(entry.event_id == event_id for entry in self.history(instance_id)):
            return instance_id
        return current

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

        `before` (created, id) of the last instance of a page continues after it. `page`
        takes every filter and says where the next page starts.
        """
        filters = Filters(workflow=workflow, state=state, outcome=outcome)
        return self.page(filters, limit=limit, after=before).records

    def page(
        self,
        filters: Filters | None = None,
        *,
        limit: int = 100,
        after: tuple[float, str] | None = None,
        scan: int = SCAN_LIMIT,
    ) -> Page:
        """One page of the instance listing (keyset paging: stable while instances are added,
        and as cheap on the last page as on the first); listing.py says how each filter is
        answered and when a page holds fewer than `limit` although more remain."""
        with self.backend.read() as tx:
            return read_page(tx, self.sql, filters or Filters(), limit, after, scan)

    def history(self, instance_id: str) -> list[StoredEntry]:
        self.get(instance_id)  # NotFound for an unknown id, rather than an empty history
        with self.backend.read() as tx:
            rows = tx.all(self.sql["history"], (instance_id,))
        return [self._entry(r) for r in rows]

    @staticmethod
    def _entry(row: Row) -> StoredEntry:
        seq, at, event, source, target, accepted, payload, refusal, event_id, actor = row
        entry = HistoryEntry(
            float(at),
            event,
            source,
            target,
            bool(accepted),
            _load(payload) or {},
            None if refusal is None else refusal_of(json.loads(refusal)),
        )
        return StoredEntry(int(seq), entry, event_id, _load(actor))

    def available(self, instance_id: str) -> list[EventOption]:
        """Every event of the instance and whether it could be sent now (nothing is changed)."""
        with self.backend.read() as tx:
            instance, _ = self._materialize(tx, self._row(tx, instance_id), lock=False)
            return instance.available_events()

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
            lambda tx: self._send_in(tx, instance_id, event, payload, event_id, expect_version),
            keeps=True,
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
        record, remembered = self._locked(tx, instance_id)
        engine = self._engine(tx, record.definition)
        request = None
        if event_id is not None:
            recordable = engine.recordable_fields.get(event, frozenset())
            public = {k: v for k, v in (payload or {}).items() if k in recordable}
            request = _fingerprint(event, public)
            prior = self._replay(tx, record, engine, event_id, request)
            if prior is not None and remembered:  # answered from the row as it is now
                prior = self._replay(
                    tx, self._row(tx, instance_id, lock=True), engine, event_id, request
                )
            if prior is not None:
                return prior
        if remembered and expect_version is not None and expect_version != record.version:
            record = self._row(tx, instance_id, lock=True)  # the version to compare is current
        if expect_version is not None and expect_version != record.version:
            raise Conflict(
                f"instance '{instance_id}' is at version {record.version}, not "
                f"{expect_version}: another step came first; read it again"
            )
        instance, world = self._materialize(tx, record, lock=True)
        step = instance.send(event, payload)
        pending = Pending()
        self._stage(tx, pending, record, instance, world, step, event_id, request)
        return self._flush(tx, pending)[0]

    def _replay(
        self, tx: Tx, record: InstanceRecord, engine: Engine, event_id: str, request: str
    ) -> Sent | None:
        """The recorded step of an event id seen before, as first answered (version, outcome,
        handoff, feed number), or None; a Conflict when the id was used for another event or
        payload."""
        row = tx.one(self.sql["step_by_event_id"], (record.id, event_id))
        if row is None:
            return None
        event, source, target, refusal, transition, seen, answer, seq, accepted = row
        if seen != request:
            raise Conflict(
                f"event id '{event_id}' was already used on instance '{record.id}' for "
                f"another event or payload ('{event}'); use a new id"
            )
        taken = None if transition is None else engine.workflow.transitions[int(transition)]
        refused = None if refusal is None else refusal_of(json.loads(refusal))
        first = (
            json.loads(answer)
            if answer is not None
            else self._answer_before_v3(tx, record, int(seq), bool(accepted))
        )
        then = replace(record, version=int(first["version"]), outcome=first["outcome"])
        handed = None if first["handed_to"] is None else self._row(tx, first["handed_to"])
        step = Step(event, source, target, taken, refused)
        return Sent(step, then, replayed=True, handed_to=handed, feed_seq=first["feed_seq"])

    def _answer_before_v3(
        self, tx: Tx, record: InstanceRecord, seq: int, accepted: bool
    ) -> dict[str, Any]:
        """The first answer of an entry recorded before schema version 3 kept it, as far as
        the rows tell: the version is its accepted entries so far; outcome and handoff happen
        only on the last accepted step (a final state takes none after it). Its feed number is
        not known (the feed is not indexed by instance): None."""
        row = tx.one(self.sql["accepted_up_to"], (record.id, seq))
        version = 0 if row is None else int(row[0])
        latest = version == record.version
        handed = None
        if accepted and latest and record.outcome is not None:
            found = tx.one(self.sql["handed_instance"], (record.session, record.id))
            handed = None if found is None else str(found[0])
        outcome = record.outcome if latest else None
        return {"version": version, "outcome": outcome, "handed_to": handed, "feed_seq": None}

    # -- change feed ----------------------------------------------------------------------------

    def feed(self, after: int = 0, limit: int = 1000) -> list[FeedEntry]:
        """Accepted steps numbered above `after`, oldest first, as far as a reader may see
        now (store/feed.py): going on from the last number given misses none."""
        with self.backend.read() as tx:
            return read_feed(tx, self.sql, after, limit)


def open_backend(url: StoreUrl) -> Backend:
    if url.backend == "sqlite":
        return SqliteBackend(url.path, url.options.get("synchronous", "FULL"))
    from linkflow.store.postgres_backend import PostgresBackend  # noqa: PLC0415 - postgres_backend needs psycopg (the postgres extra): only a postgresql:// URL loads it

    return PostgresBackend(url)
