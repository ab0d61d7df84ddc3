"""What an attempt's end means for its effect (`decide`), and writing that down (`record`).

`decide` is pure: an attempt that may be tried again and has attempts left goes back to pending
after an exponential backoff with full jitter (a random wait between 0 and the policy's delay),
or after the answer's `Retry-After` when that is longer; anything else is final. A final invoke
becomes its `<name>.done` or `<name>.failed` event (runtime/effect_calls.py decides which, the
one place an answer becomes an event); a notify or compensate ends `done`, `failed` (refused
with a status that is not retried, or its secret is missing), or `dead` (its attempts ran out).

`record` writes a batch of decisions in ONE store transaction: each effect's new status and,
for an invoke, its result event sent to the instance through the store's exactly-once path,
with an event id derived from the effect (`Claimed.event_id`): a result written again after a
crash is answered from history, never applied twice. An invoke whose instance left the invoking
state, or entered it again, since the call was written is `late`: its result is kept on the
effect, and no event is sent. A worker that lost an effect's lease (it took longer than the
lease, and another worker claimed it) writes nothing for it: the new holder will.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from linkflow.effects.http_call import CONNECTION, STATUS, TIMEOUT, Attempt
from linkflow.language.model import PARALLEL_JOIN, is_active

# The reasons of a `.failed` sent when no answer came (the scenario stubs give the same words);
# the effect's `last_error` says more (how long, which error, how many attempts).
from linkflow.runtime.effect_calls import (
    CONNECTION_REASON,
    DONE_SUFFIX,
    TIMEOUT_REASON,
    failed_event,
    result_event,
)
from linkflow.store.backend import Tx
from linkflow.store.errors import NotFound, StoreError
from linkflow.store.outbox import Claimed, Outbox
from linkflow.store.store import Store

#: What `record` says of a decision it could not write because the lease went to another.
LOST = "lost"
LOG = logging.getLogger("linkflow.effects")


@dataclass(frozen=True, slots=True)
class Decision:
    """The new status of a claimed effect after an attempt (see the module docstring)."""

    effect: Claimed
    #: pending (to be tried again at `due`), done, failed, dead or cancelled.
    status: str
    error: str | None = None
    #: The outcome in brief, kept on the effect (status, bytes, the event it became).
    result: dict[str, Any] | None = None
    due: float | None = None
    #: An invoke's result event and payload, sent to the instance.
    event: tuple[str, dict[str, Any]] | None = None


def _summary(attempt: Attempt, event: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"status": attempt.status, "bytes": attempt.size}
    if event is not None:
        out["event"] = event
    return out


def decide(
    effect: Claimed,
    attempt: Attempt,
    now: float,
    jitter: Callable[[float, float], float] = random.uniform,
) -> Decision:
    """The decision for `effect` after `attempt` ended, at time `now`."""
    call = effect.call
    if attempt.retry and effect.attempt < call.retry.attempts:
        wait = jitter(0.0, call.retry.delay(effect.attempt))
        if attempt.retry_after is not None:
            wait = max(wait, attempt.retry_after)
        return Decision(effect, "pending", attempt.error, _summary(attempt), due=now + wait)
    error = attempt.error
    if attempt.retry:
        tries = "1 attempt" if effect.attempt == 1 else f"{effect.attempt} attempts"
        error = f"{error} (gave up after {tries})"
    if call.answers:
        event = _invoke_event(effect, attempt, error)
        done = event[0].endswith(DONE_SUFFIX)
        reason = None if done else (error or str(event[1].get("reason", "")))
        status = "done" if done else "failed"
        return Decision(effect, status, reason, _summary(attempt, event[0]), event=event)
    if attempt.answered and attempt.status is not None and 200 <= attempt.status < 300:
        return Decision(effect, "done", None, _summary(attempt))
    if attempt.retry:
        return Decision(effect, "dead", error, _summary(attempt))
    if attempt.answered:
        error = f"the service answered HTTP {attempt.status} (not retried)"
    return Decision(effect, "failed", error, _summary(attempt))


def _invoke_event(effect: Claimed, attempt: Attempt, error: str) -> tuple[str, dict[str, Any]]:
    """The result event of an invoke's final attempt: an answer read in full (or a 5xx or 429
    when the attempts ran out) is judged by `result_event`; no answer is `.failed` with the
    same words the scenario stubs give; anything else with the error."""
    call = effect.call
    status = attempt.status
    if attempt.unreadable and call.response and not attempt.failure and 200 <= (status or 0) < 300:
        return failed_event(call, status, f"the answer is not JSON: {attempt.unreadable}")
    if status is not None and attempt.failure in ("", STATUS):
        return result_event(call, status, attempt.body)
    if attempt.failure == TIMEOUT:
        return failed_event(call, None, TIMEOUT_REASON)
    if attempt.failure == CONNECTION:
        return failed_event(call, None, CONNECTION_REASON)
    return failed_event(call, attempt.status, error)


def cancelled(effect: Claimed) -> Decision:
    """An invoke whose instance moved on before its first attempt: never performed."""
    reason = f"the instance left state '{effect.call.state}', or ended, before the call was made"
    return Decision(effect, "cancelled", reason)


def _no_longer_wanted(
    effect: Claimed, state: str, entered: float, outcome: str | None, again: Callable[[], bool]
) -> str:
    """Why an invoke's answer is no longer wanted by its instance, or "": it left the state
    that invoked, entered it again since, or ended there (an operator terminated it).

    In a parallel state (the instance's state is its active leaves joined by `+`) every
    region's step sets the instance's one entry time: the invoking state must still be
    active, and not have invoked again since (`again`: it was left and entered again)."""
    if PARALLEL_JOIN in state:
        left = not is_active(state, effect.call.state) or again()
    else:
        left = state != effect.call.state or entered != effect.entered
    if left:
        return f"the instance left state '{effect.call.state}' before the answer came"
    if outcome is not None:
        return f"the instance ended ({outcome}) in state '{effect.call.state}'"
    return ""


def still_wanted(outbox: Outbox, tx: Tx, effect: Claimed) -> bool:
    """Whether the instance of invoke `effect` still runs in the state that invoked, as it
    was when it invoked (`_no_longer_wanted`, for an instance that has not ended)."""
    place = outbox.place(tx, effect.instance_id)
    if place is None:
        return False
    state, entered = place
    return not _no_longer_wanted(
        effect, state, entered, None, lambda: outbox.invoked_again(tx, effect)
    )


def _write_one(store: Store, outbox: Outbox, tx: Tx, owner: str, decision: Decision) -> str:
    effect = decision.effect
    if decision.status == "pending":
        assert decision.due is not None
        error = decision.error or ""
        return "pending" if outbox.reschedule(tx, effect, owner, decision.due, error) else LOST
    if decision.event is None:
        held = outbox.finish(tx, effect, owner, decision.status, decision.error, decision.result)
        return decision.status if held else LOST
    try:
        now = store._row(tx, effect.instance_id, lock=True)
    except NotFound:  # pruned meanwhile: nobody to tell
        held = outbox.finish(
            tx, effect, owner, "late", "the instance is no longer in the store", decision.result
        )
        return "late" if held else LOST
    reason = _no_longer_wanted(
        effect, now.state, now.entered, now.outcome, lambda: outbox.invoked_again(tx, effect)
    )
    if reason:
        result = {**(decision.result or {}), "late": True}
        return "late" if outbox.finish(tx, effect, owner, "late", reason, result) else LOST
    if not outbox.finish(tx, effect, owner, decision.status, decision.error, decision.result):
        return LOST
    name, payload = decision.event
    store._send_in(tx, effect.instance_id, name, payload, effect.event_id, None)
    return decision.status


def record(store: Store, owner: str, decisions: Sequence[Decision]) -> list[str]:
    """Write `decisions` in one transaction; each one's status as written (`late` for an
    invoke answered too late, `LOST` when the lease had gone to another worker).

    Should one of them fail to write for a reason of its own (not the store's), the others are
    written one by one and that one ends `failed` with the reason, so it is not performed again
    and again. A StoreError (the store is unreachable) is raised: nothing was written, and the
    effects are performed again once their leases run out (at least once)."""
    if not decisions:
        return []
    outbox = Outbox(store)
    # Where writers run side by side (PostgreSQL), the instances that results are sent to are
    # locked first, in id order, as an event batch locks its own (store/core.py, "Lock
    # order"): a worker and a batch sharing instances queue instead of deadlocking.
    locking = sorted({d.effect.instance_id for d in decisions if d.event is not None})

    def work(tx: Tx) -> list[str]:
        if locking and not store.backend.serial:
            tx.run(store.sql["lock_instances"], (locking,))
        return [_write_one(store, outbox, tx, owner, d) for d in decisions]

    try:
        return store._write(work, keeps=True)
    except StoreError:
        raise
    except Exception as err:
        LOG.error("effect outcomes not written as decided: %s", type(err).__name__)
        if len(decisions) == 1:
            return [_give_up(store, outbox, owner, decisions[0])]
        return [status for d in decisions for status in record(store, owner, [d])]


def _give_up(store: Store, outbox: Outbox, owner: str, decision: Decision) -> str:
    """Write a decision that could not be written as it was: the effect ends `failed`, its
    event not sent (a StoreError still rises)."""
    error = "its result could not be given to the instance"
    final = replace(decision, event=None, status="failed", error=error)

    def work(tx: Tx) -> str:
        return _write_one(store, outbox, tx, owner, final)

    status: str = store._write(work)
    return status
