"""Group commit: one writer per service process sends the events of every request.

A durable commit waits for the disk (SQLite's fsync of its log, PostgreSQL's WAL flush), and
that wait is the same for one event as for fifty. So requests do not each open a transaction:
each queues its event and waits. The writer takes everything that queued while the previous
commit was syncing (at most `max_batch`), applies it in one transaction with
`linkflow.store.batch.send_many` (each event in order, in its own savepoint, exactly as alone)
and answers each request only when the commit has returned: an answered event is on disk.

The queue is bounded: past `max_queued` waiting events a request is answered 503 with
Retry-After at once rather than waiting behind a queue that cannot drain in time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from linkflow.service.problems import ServiceProblem
from linkflow.service.request_log import log_event
from linkflow.store.batch import EventRequest, send_many

if TYPE_CHECKING:
    from linkflow.store import Sent, Store

RETRY_AFTER_SECONDS = 1
_Waiting = tuple[EventRequest, "asyncio.Future[Sent | Exception]"]


class EventWriter:
    """The queue of events waiting for a commit, and the task that commits them in batches.

    Lives in the event loop of its process; `send` is called by request handlers, `close` once
    at shutdown (it commits what is queued before returning).
    """

    def __init__(
        self,
        store: Store,
        *,
        max_batch: int,
        max_queued: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.max_batch = max(max_batch, 1)
        self.max_queued = max(max_queued, 1)
        self._queue: deque[_Waiting] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        #: The writer's own thread token: a commit never waits for request threads.
        self._limiter = anyio.CapacityLimiter(1)
        #: Batches committed and events in them, for the log at shutdown and for tests.
        self.batches = 0
        self.events = 0
        #: Told the size of each committed batch (the service's metrics).
        self.on_batch = on_batch

    @property
    def queued(self) -> int:
        """Events waiting for a commit right now."""
        return len(self._queue)

    async def send(self, request: EventRequest) -> Sent:
        """The event's outcome once its batch is durably committed; raises what `Store.send`
        would raise for it, or an `overloaded` problem when the queue is full."""
        if self._closing or len(self._queue) >= self.max_queued:
            why = (
                "the service is stopping"
                if self._closing
                else f"more than {self.max_queued} events are waiting for a commit"
            )
            raise ServiceProblem(
                "overloaded",
                f"{why}; retry after {RETRY_AFTER_SECONDS} s",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        future: asyncio.Future[Sent | Exception] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="linkflow-event-writer")
        outcome = await future
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def close(self) -> None:
        """Commit what is queued, then stop (new events are refused from now on)."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        log_event("event writer stopped", batches=self.batches, events=self.events)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                await self._commit(self._take())
            if self._closing:
                return

    def _take(self) -> list[_Waiting]:
        """Up to `max_batch` queued events, oldest first; a request that went away before its
        event was taken (the client hung up) is dropped: it was never answered."""
        batch: list[_Waiting] = []
        while self._queue and len(batch) < self.max_batch:
            waiting = self._queue.popleft()
            if not waiting[1].done():
                batch.append(waiting)
        return batch

    async def _commit(self, batch: list[_Waiting]) -> None:
        if not batch:
            return
        requests = [request for request, _ in batch]
        try:
            outcomes: list[Sent | Exception] = await anyio.to_thread.run_sync(
                send_many, self.store, requests, limiter=self._limiter
            )
        except Exception as err:  # the transaction as a whole failed: nothing was applied
            outcomes = [err] * len(batch)
        self.batches += 1
        self.events += len(batch)
        if self.on_batch is not None:
            self.on_batch(len(batch))
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
