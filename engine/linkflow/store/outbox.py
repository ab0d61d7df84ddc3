"""The effects outbox: the calls steps caused, kept until a worker has performed them.

A step's effects (`Step.effects`, runtime/effect_calls.py) are written here by `stage`, in the
step's own transaction, with one statement for all of them: they exist exactly when the step
does. A worker (linkflow.effects.worker) claims due effects with a lease, performs them outside
any transaction, and records each outcome here (`Outbox`); an invoke's answer also goes to the
instance as an event, in the same transaction as its outcome (effects/results.py).

Statuses: `pending` (waiting for its first attempt, or for the next after a retryable failure),
`running` (claimed: a worker holds its lease), and the final ones: `done`, `failed` (an invoke
answered `.failed`; a notify refused with a 4xx), `late` (an invoke answered after its instance
left or re-entered the invoking state: the result is kept, no event sent), `dead` (a notify or
compensate whose attempts ran out), `cancelled` (an invoke whose instance had moved on before
its first attempt: never performed). `retry` puts a dead or failed one back to pending.

The queries are in sql/effects.sql, read once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from linkflow.runtime.effect_calls import EffectCall
from linkflow.store.backend import Row, Tx
from linkflow.store.core import StoreCore, new_id
from linkflow.store.errors import Conflict, NotFound
from linkflow.store.queries import read

#: Every status an effect may have (see the module docstring).
STATUSES = ("pending", "running", "done", "failed", "late", "dead", "cancelled")
#: The statuses `retry` takes back to pending.
RETRYABLE = ("dead", "failed")
#: The first page of a listing starts before this (created, id): after every row.
_FIRST = (1e300, "~")


@cache
def _queries() -> dict[str, str]:
    return read("effects.sql")


def idempotency_key(instance_id: str, version: int, index: int) -> str:
    """The Idempotency-Key of the `index`-th effect of the step that took the instance to
    `version`: the same on every attempt and in every process, so a callee may deduplicate."""
    return hashlib.sha256(f"{instance_id}:{version}:{index}".encode()).hexdigest()


def effect_rows(
    instance_id: str,
    version: int,
    entered: float,
    effects: Sequence[EffectCall],
    now: float,
) -> list[tuple[Any, ...]]:
    """The `insert_effect` rows of one step's effects (the call as JSON: no secret in it)."""
    rows = []
    for index, call in enumerate(effects):
        key = idempotency_key(instance_id, version, index)
        text = json.dumps(call.as_dict(), separators=(",", ":"), sort_keys=True)
        rows.append(
            (
                "ef_" + new_id(),
                instance_id,
                version,
                index,
                call.kind,
                call.name,
                text,
                key,
                call.state,
                entered,
                now,
                now,
                now,
            )
        )
    return rows


def stage(
    tx: Tx,
    instance_id: str,
    version: int,
    entered: float,
    effects: Sequence[EffectCall],
    now: float,
) -> None:
    """Write a step's effects in its transaction: one statement (an executemany for several);
    none at all for a step without effects."""
    if not effects:
        return
    rows = effect_rows(instance_id, version, entered, effects, now)
    sql = _queries()
    if len(rows) == 1:
        tx.run(sql["insert_effect"], rows[0])
    else:
        tx.many(sql["insert_effect"], rows)


@dataclass(frozen=True, slots=True)
class Effect:
    """One effect as stored."""

    id: str
    instance_id: str
    #: The instance's version after the step that caused it, and the effect's place in it.
    version: int
    index: int
    call: EffectCall
    idempotency_key: str
    #: When the instance entered `call.state` (a later entry makes an answer late).
    entered: float
    status: str
    attempts: int
    due: float
    last_error: str | None
    #: The outcome in brief: the answer's status and, for an invoke, the event it became.
    result: dict[str, Any] | None
    generation: int
    created: float
    updated: float

    @property
    def retrying(self) -> bool:
        """Pending again after a failed attempt."""
        return self.status == "pending" and self.attempts > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "instance": self.instance_id,
            "version": self.version,
            "index": self.index,
            "kind": self.call.kind,
            "name": self.call.name,
            "service": self.call.service,
            "method": self.call.method,
            "url": self.call.url,
            "state": self.call.state,
            "status": self.status,
            "attempts": self.attempts,
            "max_attempts": self.call.retry.attempts,
            "due": self.due,
            "last_error": self.last_error,
            "result": self.result,
            "idempotency_key": self.idempotency_key,
            "created": self.created,
            "updated": self.updated,
        }


def _effect(row: Row) -> Effect:
    (id_, instance, version, index, _kind, _name, call, key, _state, entered) = row[:10]
    status, attempts, due, error, result, generation, created, updated = row[10:]
    return Effect(
        id_,
        instance,
        int(version),
        int(index),
        EffectCall.from_dict(json.loads(call)),
        key,
        float(entered),
        status,
        int(attempts),
        float(due),
        error,
        None if result is None else json.loads(result),
        int(generation),
        float(created),
        float(updated),
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    """An effect a worker holds the lease of, with the attempt it is about to make."""

    id: str
    instance_id: str
    version: int
    index: int
    call: EffectCall
    idempotency_key: str
    entered: float
    #: This attempt's number (1 for the first).
    attempt: int
    generation: int

    @property
    def event_id(self) -> str:
        """The id of the result event: one per effect and operator retry, so a result
        recorded twice (a worker that died after the commit) is answered from history."""
        base = f"effect:{self.id}"
        return base if self.generation == 0 else f"{base}:{self.generation}"


@dataclass(frozen=True, slots=True)
class EffectPage:
    """One page of the listing and where the next starts (None: this was the last)."""

    effects: list[Effect]
    next: tuple[float, str] | None


class Outbox:
    """The effects table of an open store (`Outbox(store)`)."""

    def __init__(self, store: StoreCore) -> None:
        self.store = store
        self.sql = _queries()

    # -- reading --------------------------------------------------------------------------------

    def get(self, effect_id: str) -> Effect:
        with self.store.backend.read() as tx:
            row = tx.one(self.sql["effect"], (effect_id,))
        if row is None:
            raise NotFound(f"no effect '{effect_id}' in the store")
        return _effect(row)

    def of_instance(self, instance_id: str) -> list[Effect]:
        """An instance's effects in the order its steps caused them."""
        with self.store.backend.read() as tx:
            rows = tx.all(self.sql["of_instance"], (instance_id,))
        return [_effect(r) for r in rows]

    def page(
        self,
        *,
        status: str | None = None,
        instance: str | None = None,
        limit: int = 100,
        after: tuple[float, str] | None = None,
    ) -> EffectPage:
        """Effects newest first, filtered by status and instance; keyset paging by the
        (created, id) of the last one of the page before."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"'{status}' is not an effect status ({', '.join(STATUSES)})")
        place = after or _FIRST
        fetch = max(limit, 0) + 1
        sql = self.sql
        args: tuple[Any, ...]
        if status is not None and instance is not None:
            query, args = sql["page_by_both"], (status, instance, *place, fetch)
        elif status is not None:
            query, args = sql["page_by_status"], (status, *place, fetch)
        elif instance is not None:
            query, args = sql["page_by_instance"], (instance, *place, fetch)
        else:
            query, args = sql["page"], (*place, fetch)
        with self.store.backend.read() as tx:
            rows = tx.all(query, args)
        found = [_effect(r) for r in rows[: max(limit, 0)]]
        more = len(rows) > len(found) and bool(found)
        return EffectPage(found, (found[-1].created, found[-1].id) if more else None)

    def counts(self, instance: str | None = None) -> dict[str, int]:
        """How many effects (of one instance, or all) have each status, and `retrying`:
        pending ones that failed before (counted in `pending` too)."""
        out = dict.fromkeys(STATUSES, 0)
        out["retrying"] = 0
        with self.store.backend.read() as tx:
            if instance is None:
                rows = tx.all(self.sql["counts"])
            else:
                rows = tx.all(self.sql["instance_counts"], (instance,))
        for status, count, tried in rows:
            out[str(status)] = int(count)
            if status == "pending":
                out["retrying"] = int(tried or 0)
        return out

    def next_due(self) -> float | None:
        """When the next pending effect is due, or when the first lease runs out."""
        with self.store.backend.read() as tx:
            due = tx.one(self.sql["next_due"])
            lease = tx.one(self.sql["lease_ends"])
        times = [float(r[0]) for r in (due, lease) if r is not None and r[0] is not None]
        return min(times) if times else None

    # -- an operator's retry --------------------------------------------------------------------

    def retry(self, effect_id: str) -> Effect:
        """Put a dead or failed effect back to pending, attempts from zero; a Conflict for
        any other status (it is still being performed, or ended as it should)."""
        now = self.store.clock()

        def work(tx: Tx) -> bool:
            return bool(tx.all(self.sql["requeue"], (now, now, effect_id)))

        if not self.store._write(work):
            found = self.get(effect_id)  # NotFound for an unknown id
            raise Conflict(
                f"effect '{effect_id}' is {found.status}: only a dead or failed effect is retried"
            )
        return self.get(effect_id)

    # -- the worker's side ----------------------------------------------------------------------

    def claim(self, owner: str, lease: float, limit: int) -> list[Claimed]:
        """Take up to `limit` due effects (and those whose lease ran out) for `owner`, each
        for `lease` seconds; each claim counts an attempt."""
        now = self.store.clock()
        dialect = self.store.backend.name
        query = self.sql[f"claim_{dialect}"]

        def work(tx: Tx) -> list[Row]:
            return tx.all(query, (owner, now + lease, now, now, now, limit))

        # Effect rows are locked by no step: a claim need not queue at the feed counter.
        rows = self.store._write(work)
        return [
            Claimed(
                r[0],
                r[1],
                int(r[2]),
                int(r[3]),
                EffectCall.from_dict(json.loads(r[4])),
                r[5],
                float(r[6]),
                int(r[7]),
                int(r[8]),
            )
            for r in rows
        ]

    def renew(self, owner: str, lease: float) -> None:
        until = self.store.clock() + lease
        self.store._write(lambda tx: tx.run(self.sql["renew"], (until, owner)))

    def release(self, owner: str) -> None:
        """Hand back what `owner` claimed and did not finish (a worker stopping cleanly)."""
        now = self.store.clock()
        self.store._write(lambda tx: tx.run(self.sql["release"], (now, owner)))

    def finish(
        self,
        tx: Tx,
        effect: Claimed,
        owner: str,
        status: str,
        error: str | None,
        result: dict[str, Any] | None,
    ) -> bool:
        """End a claimed effect with a final status in an open write transaction; False when
        `owner` no longer holds it (its lease went to another worker)."""
        text = None if result is None else json.dumps(result, separators=(",", ":"))
        now = self.store.clock()
        args = (status, error, text, now, effect.id, owner)
        return bool(tx.all(self.sql["finish"], args))

    def reschedule(self, tx: Tx, effect: Claimed, owner: str, due: float, error: str) -> bool:
        """Back to pending until `due` after a failed attempt; False when no longer held."""
        args = (due, error, self.store.clock(), effect.id, owner)
        return bool(tx.all(self.sql["reschedule"], args))

    def place(self, tx: Tx, instance_id: str) -> tuple[str, float] | None:
        """The instance's state and when it entered it while it still runs; None when it has
        ended in that state (terminated) or is gone (pruned): no answer is wanted then."""
        row = tx.one(self.sql["instance_place"], (instance_id,))
        return None if row is None or row[2] is not None else (str(row[0]), float(row[1]))

    def invoked_again(self, tx: Tx, effect: Claimed) -> bool:
        """Whether the state that placed invoke `effect` placed another one since: it was
        left and entered again (entering a state that invokes always invokes)."""
        args = (effect.instance_id, effect.version, effect.call.state)
        return tx.one(self.sql["invoked_again"], args) is not None
