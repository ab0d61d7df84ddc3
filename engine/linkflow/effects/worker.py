"""The effects worker: performs the calls steps wrote to the outbox (store/outbox.py).

It claims due effects with a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several workers
share the work; SQLite: its single writer serializes claims), performs each with one
`httpx.AsyncClient` at most `concurrency` at once (http_call.py), and writes the outcomes as
they come, all those waiting in one transaction (results.py). Claiming goes on while calls are
in flight: a slow service holds only its own slots.

A claim lasts `lease` seconds and is renewed every third of it while the worker lives; a worker
that is killed stops renewing, and its claims go to another worker once they run out (the calls
it had in flight are made again, with the same Idempotency-Key: at least once, and the callee
can make it exactly once). A worker that stops cleanly (`stop`, SIGTERM) lets its calls in flight
finish for up to `grace` seconds, writes their outcomes and hands back the rest.

An invoke whose instance moved on (left or re-entered the invoking state) before the first
attempt is not performed: it ends `cancelled`. After its first attempt it is performed to its
end, and a result that comes too late ends `late` (results.py).

Each attempt is logged as one line of the `linkflow.effects` logger (effect, instance, kind,
name, service, attempt, outcome, HTTP status, error): never a header, body or secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from linkflow.effects.http_call import REFUSED, Attempt, perform
from linkflow.effects.results import LOST, Decision, cancelled, decide, record, still_wanted
from linkflow.runtime.effect_calls import failed_event
from linkflow.store.core import new_id
from linkflow.store.errors import StoreError
from linkflow.store.outbox import Claimed, Outbox
from linkflow.store.store import Store

LOG = logging.getLogger("linkflow.effects")
#: The outcomes counted (`Worker.counts`); `retried` counts attempts to be made again.
OUTCOMES = ("done", "failed", "late", "dead", "cancelled", "retried")


#: Looks at a failing store in a row after which a bounded run (`once`, `until_idle`) gives up.
BOUNDED_FAILURES = 3


@dataclass(frozen=True, slots=True)
class Options:
    """How a worker runs."""

    #: Calls in flight at once.
    concurrency: int = 32
    #: Seconds a claim lasts (renewed while the worker lives).
    lease: float = 30.0
    #: The longest sleep between looks at the outbox when nothing is due.
    poll: float = 1.0
    #: Seconds calls in flight may take to finish when the worker is stopped.
    grace: float = 10.0

    def check(self) -> Options:
        """These options, or a ValueError naming the first one out of range."""
        for name in ("concurrency", "lease", "poll", "grace"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"--{name} must be more than 0 (got {value})")
        return self


def _log(decision: Decision, status: str) -> None:
    effect = decision.effect
    fields = {
        "effect": effect.id,
        "instance": effect.instance_id,
        "kind": effect.call.kind,
        "name": effect.call.name,
        "service": effect.call.service,
        "attempt": effect.attempt,
        "outcome": "retry" if status == "pending" else status,
    }
    if decision.result is not None and decision.result.get("status") is not None:
        fields["http_status"] = decision.result["status"]
    if decision.due is not None:
        fields["retry_in"] = round(max(decision.due - time.time(), 0.0), 3)
    if decision.error:
        fields["error"] = decision.error
    level = logging.INFO if status in ("done", "pending", "late", "cancelled") else logging.WARNING
    if LOG.isEnabledFor(level):
        record_ = LOG.makeRecord(
            LOG.name,
            level,
            "(unknown file)",
            0,
            "effect attempt",
            (),
            None,
            extra={"fields": fields},
        )
        LOG.handle(record_)


class Worker:
    """Performs one store's effects; `run` until stopped, idle or done with what is due."""

    def __init__(
        self,
        store: Store,
        options: Options | None = None,
        *,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.outbox = Outbox(store)
        self.options = options or Options()
        self.owner = "worker_" + new_id()
        #: Called with each attempt's outcome (one of OUTCOMES) once it is written.
        self.on_outcome = on_outcome
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.attempts = 0
        self._inflight: set[asyncio.Task[None]] = set()
        self._unrecorded = 0
        self._changed = asyncio.Event()
        #: Whether the last claim found nothing due.
        self._empty = False
        #: Once stopping: when outcomes the store will not take are given up.
        self._give_up: float | None = None

    # -- performing -----------------------------------------------------------------------------

    async def _perform(
        self, client: httpx.AsyncClient, effect: Claimed, results: asyncio.Queue[Decision | None]
    ) -> None:
        try:
            attempt = await perform(client, effect.call, effect.idempotency_key)
        except Exception as err:  # a defect, not the service's doing: the call ends failed
            LOG.error("effect attempt failed inside the worker: %s", type(err).__name__)
            error = f"the attempt failed inside the worker ({type(err).__name__})"
            attempt = Attempt(None, error=error, failure=REFUSED)
        self.attempts += 1
        try:
            decision = decide(effect, attempt, self.store.clock())
        except Exception as err:  # likewise: the call ends failed, its invoke answered so
            LOG.error("effect outcome not decided: %s", type(err).__name__)
            reason = f"its outcome could not be decided ({type(err).__name__})"
            event = failed_event(effect.call, attempt.status, reason)
            decision = Decision(
                effect, "failed", reason, event=event if effect.call.answers else None
            )
        await results.put(decision)

    def _moved_on(self, claimed: list[Claimed]) -> set[str]:
        """The ids of first-attempt invokes whose instance has left or re-entered the state
        that invoked (one read for all)."""
        first = [c for c in claimed if c.call.answers and c.attempt == 1 and c.call.state]
        if not first:
            return set()
        moved = set()
        with self.store.backend.read() as tx:
            for effect in first:
                if not still_wanted(self.outbox, tx, effect):
                    moved.add(effect.id)
        return moved

    async def _recorder(self, results: asyncio.Queue[Decision | None]) -> None:
        """Write outcomes as attempts end: all those waiting, in one transaction, until the
        end (None) is read."""
        while True:
            batch = [await results.get()]
            while not results.empty():
                batch.append(results.get_nowait())
            decisions = [d for d in batch if d is not None]
            if decisions:
                await self._record(decisions)
                self._unrecorded -= len(decisions)
                self._changed.set()
            if len(decisions) < len(batch):
                return

    async def _record(self, decisions: list[Decision]) -> None:
        """Write outcomes; a store that fails is tried again, every `poll`, for as long as
        the worker runs (its claims are renewed meanwhile whenever the store answers, so
        nobody else performs them). A worker stopped while the store is down drops them after
        `grace`: the claims run out and the calls are made again by whoever claims them
        next, with the same Idempotency-Key."""
        while True:
            try:
                statuses = await asyncio.to_thread(record, self.store, self.owner, decisions)
                break
            except StoreError as err:
                if self._give_up is not None and time.monotonic() > self._give_up:
                    LOG.warning(
                        "effect outcomes not written (performed again after the lease): %s",
                        err,
                        extra={"fields": {"count": len(decisions)}},
                    )
                    return
                LOG.warning("effect outcomes not written yet, trying again: %s", err)
                await asyncio.sleep(self.options.poll)
        for decision, status in zip(decisions, statuses, strict=True):
            _log(decision, status)
            if status == LOST:
                continue
            outcome = "retried" if status == "pending" else status
            self.counts[outcome] += 1
            if self.on_outcome is not None:
                self.on_outcome(outcome)

    async def _renew(self) -> None:
        """Every third of a lease, extend the claims this worker holds."""
        while True:
            await asyncio.sleep(self.options.lease / 3)
            try:
                await asyncio.to_thread(self.outbox.renew, self.owner, self.options.lease)
            except StoreError as err:
                LOG.warning("effect leases not renewed: %s", err)

    def _start(
        self,
        client: httpx.AsyncClient,
        claimed: list[Claimed],
        moved: set[str],
        results: asyncio.Queue[Decision | None],
    ) -> None:
        for effect in claimed:
            self._unrecorded += 1
            if effect.id in moved:
                results.put_nowait(cancelled(effect))
                continue
            task = asyncio.create_task(self._perform(client, effect, results))
            self._inflight.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._changed.set()
        if not task.cancelled() and task.exception() is not None:
            LOG.error("effect attempt failed: %r", task.exception())

    async def _claim(self) -> tuple[list[Claimed], set[str]]:
        free = self.options.concurrency - len(self._inflight)
        # Claims are write transactions: taken in batches, not one per freed slot.
        if free <= 0 or (self._inflight and free < max(1, self.options.concurrency // 4)):
            return [], set()

        def claim() -> tuple[list[Claimed], set[str]]:
            if self._empty:
                # The last claim found nothing: a read says whether one would now, so an idle
                # worker takes no write lock (SQLite: the service's writer never waits for it).
                due = self.outbox.next_due()
                if due is None or due > self.store.clock():
                    return [], set()
            claimed = self.outbox.claim(self.owner, self.options.lease, free)
            self._empty = not claimed
            return claimed, self._moved_on(claimed)

        return await asyncio.to_thread(claim)

    async def _wait(self, stop: asyncio.Event, longest: float) -> None:
        """Until an attempt ends, an outcome is written, `stop` is set, or `longest` seconds."""
        self._changed.clear()
        waiting = [asyncio.create_task(self._changed.wait()), asyncio.create_task(stop.wait())]
        try:
            await asyncio.wait(waiting, timeout=max(longest, 0.005), return_when="FIRST_COMPLETED")
        finally:
            for task in waiting:
                task.cancel()

    async def run(
        self, *, once: bool = False, until_idle: bool = False, stop: asyncio.Event | None = None
    ) -> dict[str, int]:
        """Perform effects until `stop` is set; with `once`, until nothing is due now; with
        `until_idle`, until no effect is pending or running. The counts of this run.

        A failing store is logged and tried again after `poll`; with `once` or `until_idle`,
        a StoreError is raised once the store has failed BOUNDED_FAILURES looks in a row (a
        connection the database dropped is replaced by the next look, as after a failover)."""
        stop = stop or asyncio.Event()
        bounded = once or until_idle
        concurrency = self.options.concurrency
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        results: asyncio.Queue[Decision | None] = asyncio.Queue()
        async with httpx.AsyncClient(limits=limits, timeout=None) as client:
            recorder = asyncio.create_task(self._recorder(results))
            renewer = asyncio.create_task(self._renew())
            failures = 0
            try:
                while not stop.is_set():
                    try:
                        claimed, moved = await self._claim()
                        if claimed:
                            self._start(client, claimed, moved, results)
                            continue
                        busy = bool(self._inflight) or self._unrecorded > 0
                        if not busy and once:
                            break
                        wait = self.options.poll
                        if not busy:
                            due = await asyncio.to_thread(self.outbox.next_due)
                            if due is None and until_idle:
                                break
                            if due is not None:
                                wait = min(wait, due - self.store.clock())
                        failures = 0
                    except StoreError as err:
                        failures += 1
                        if bounded and failures >= BOUNDED_FAILURES:
                            raise
                        LOG.warning("effects worker: the store failed: %s", err)
                        wait = self.options.poll
                    await self._wait(stop, wait)
            finally:
                await self._finish(results, recorder, renewer)
        return dict(self.counts)

    async def _finish(
        self,
        results: asyncio.Queue[Decision | None],
        recorder: asyncio.Task[None],
        renewer: asyncio.Task[None],
    ) -> None:
        """Let calls in flight end (up to `grace`), write their outcomes, hand back the rest."""
        self._give_up = time.monotonic() + 2 * self.options.grace
        if self._inflight:
            _, late = await asyncio.wait(set(self._inflight), timeout=self.options.grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        results.put_nowait(None)
        with contextlib.suppress(Exception):
            await recorder
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        try:
            await asyncio.to_thread(self.outbox.release, self.owner)
        except StoreError as err:  # its claims run out by themselves
            LOG.warning("effect claims not handed back: %s", err)
