"""Writing a step: its history entry always; for an accepted one also the instance row, the
changed world records, a handoff's next instance and the feed entry, all in the step's
transaction. Steps taken together (a batch of timers) share one statement per table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linkflow.language.model import Transition
from linkflow.runtime.effect_calls import EffectCall
from linkflow.runtime.instance import Instance
from linkflow.runtime.session import handoff_data
from linkflow.runtime.steps import Step
from linkflow.runtime.world import World
from linkflow.store.backend import Tx
from linkflow.store.core import StoreCore, new_id
from linkflow.store.errors import StoreError
from linkflow.store.outbox import stage
from linkflow.store.records import InstanceRecord, Sent
from linkflow.store.world_view import StoreWorld, dump


def _declared_index(transition: Transition) -> int:
    """The index history keeps for a step's transition: one declared in the workflow (a step
    that takes an event in several regions at once keeps its first region's), so that a
    replayed event id finds it in `Workflow.transitions`."""
    return transition.parts[0].index if transition.parts else transition.index


def recorded_answer(sent: Sent) -> dict[str, Any]:
    """What a step's first answer said beyond the history entry itself (kept per event id)."""
    return {
        "version": sent.instance.version,
        "outcome": sent.instance.outcome,
        "handed_to": None if sent.handed_to is None else sent.handed_to.id,
        "feed_seq": sent.feed_seq,
    }


class Pending:
    """The rows of steps taken in one transaction, written together by `_flush`."""

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


class StepWriter(StoreCore):
    """Inserting instances and writing the rows of steps (see `Store`)."""

    def _insert(
        self,
        tx: Tx,
        instance: Instance,
        definition: str,
        id_: str,
        session: str,
        start: Mapping[str, Any],
        hop: int = 0,
        effects: Sequence[EffectCall] = (),
    ) -> InstanceRecord:
        """Insert a new instance row; with the `effects` its start caused, written to the
        outbox in the same transaction (store/outbox.py)."""
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
            self.sql["insert_instance"],
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
        if self.cache.tx is not None:
            self.cache.tx.records[id_] = record
        stage(tx, id_, 0, now, effects, now)
        return record

    def _stage(
        self,
        tx: Tx,
        pending: Pending,
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
                None if step.transition is None else _declared_index(step.transition),
                event_id,
                request,
            )
        )
        if not step.accepted:
            pending.steps.append((step, record, None, False))
            return
        remembered = self.cache.tx
        for collection, key, text, existed in world.changes():
            if text is None:
                tx.run(self.sql["delete_world_record"], (collection, key))
            elif existed:
                tx.run(self.sql["update_world_record"], (text, collection, key))
            else:
                tx.run(self.sql["insert_world_record"], (collection, key, text))
            if remembered is not None:
                remembered.texts[(collection, key)] = text
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
        # The calls it causes, to the outbox: one statement, and none for a step without any.
        stage(tx, record.id, after.version, after.entered, step.effects, now)

    def _append_feed(self, tx: Tx, rows: list[tuple[Any, ...]]) -> int:
        """Append the feed entries of several steps, numbered consecutively in their order;
        the first number. One statement, one round trip (how they are numbered differs by
        dialect: sqlite.sql and postgresql.sql, `append_feed`)."""
        numbers = tx.all(self.sql["append_feed"], (dump(rows),))
        return min(int(row[0]) for row in numbers)

    def _flush(self, tx: Tx, pending: Pending) -> list[Sent]:
        """Write what `pending` holds, one batch per statement; the steps' outcomes. The feed
        entries go after the instance rows, as in `_flush_one`: on PostgreSQL, numbering them
        is the last thing a step does before its history (docs/store.md)."""
        if len(pending.steps) == 1:
            return [self._flush_one(tx, pending)]
        _run_rows(tx, self.sql["update_instance"], pending.instances)
        number = self._append_feed(tx, pending.feed) if pending.feed else 0
        sent: list[Sent] = []
        for step, after, handed, accepted in pending.steps:
            if accepted:
                sent.append(Sent(step, after, handed_to=handed, feed_seq=number))
                number += 1
            else:
                sent.append(Sent(step, after))
        # An entry with an event id keeps the answer it was given, for replays (`_replay`).
        history = [
            (*row, None if row[10] is None else dump(recorded_answer(outcome)))
            for row, outcome in zip(pending.history, sent, strict=True)
        ]
        _run_rows(tx, self.sql["insert_history"], history)
        return sent

    def _flush_one(self, tx: Tx, pending: Pending) -> Sent:
        """Write one step's rows, each statement returning what the next needs: the instance
        row only if it is still at the version the step started from, the feed entry with its
        number, then the history entry. Where writers take turns (SQLite), the first of them
        returns the data version that checks whatever the step used from the cache (cache.py);
        elsewhere (PostgreSQL) the rows were read locked and fresh, and only the feed entry's
        number is waited for (the other statements go out pipelined with it or with COMMIT)."""
        step, after, handed, accepted = pending.steps[0]
        (history,) = pending.history
        checked = self.backend.serial
        if accepted:
            (instance,) = pending.instances
            (feed,) = pending.feed
            if checked:
                row = tx.one(self.sql["update_instance_checked"], (*instance, after.version - 1))
                if row is None:  # another connection moved it: what the step read was stale
                    raise self.cache.stale(f"instance '{after.id}' moved on since it was read")
                self.cache.observe(row[0])
            else:
                tx.run(self.sql["update_instance"], instance)
            found = tx.one(self.sql["insert_feed_next"], feed)
            assert found is not None
            sent = Sent(step, after, handed_to=handed, feed_seq=int(found[0]))
            answered = (*history, None if history[10] is None else dump(recorded_answer(sent)))
            tx.run(self.sql["insert_history"], answered)
            remembered = self.cache.tx
            if remembered is not None:
                remembered.records[after.id] = after
                if handed is not None:
                    remembered.records[handed.id] = handed
            return sent
        sent = Sent(step, after)
        answered = (*history, None if history[10] is None else dump(recorded_answer(sent)))
        if checked:
            row = tx.one(self.sql["insert_history_checked"], answered)
            assert row is not None
            self.cache.observe(row[0])
        else:
            tx.run(self.sql["insert_history"], answered)
        return sent

    def _hand_off(self, tx: Tx, instance: Instance, after: InstanceRecord) -> InstanceRecord | None:
        """Start the workflow a final state hands off to (its newest definition), in the same
        session, one hop further."""
        target = instance.workflow.states[instance.state].handoff
        if not target:
            return None
        row = tx.one(self.sql["latest_definition_hash"], (target,))
        if row is None:  # pragma: no cover - registering a workflow checks its handoffs
            raise StoreError(f"workflow '{target}' (a handoff target) is not in the store")
        engine = self._engine(tx, row[0])
        shared = handoff_data(instance.data, engine.workflow)
        following = engine.create(shared, World(), instance.clock)
        hop = tx.one(self.sql["instance_hop"], (after.id,))
        assert hop is not None
        return self._insert(
            tx,
            following,
            row[0],
            new_id(),
            after.session,
            shared,
            int(hop[0]) + 1,
            effects=engine.start_effects(following),
        )
