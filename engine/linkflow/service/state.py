"""What a running service holds: its configuration, its workflows and its store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from linkflow.output.diagram import TraceStep
from linkflow.service.catalog import Catalog, trace_of
from linkflow.service.config import ServiceConfig
from linkflow.service.openapi import build_document
from linkflow.service.problems import ServiceProblem
from linkflow.service.writer import EventWriter

if TYPE_CHECKING:
    from linkflow.service.metrics import Metrics
    from linkflow.service.store_access import StoreAccess


class Service:
    """Shared by every request of one process (kept on `app.state.service`)."""

    def __init__(
        self,
        config: ServiceConfig,
        catalog: Catalog,
        store: StoreAccess | None = None,
        *,
        secured: bool = False,
    ) -> None:
        self.config = config
        self.catalog = catalog
        self.store = store
        #: Whether requests need the bearer token (the API document says so only then).
        self.secured = secured
        self._document: dict[str, Any] | None = None
        #: Set when the process is asked to stop: streams end, the timer loop stops.
        self.stopping = asyncio.Event()
        self._writer: EventWriter | None = None
        #: The process's metrics (`GET /metrics`), set by the app factory.
        self.metrics: Metrics | None = None

    def api_document(self) -> dict[str, Any]:
        """The OpenAPI document of this service: its security and its workflows (built once)."""
        if self._document is None:
            self._document = build_document(secured=self.secured, workflows=self.catalog.workflows)
        return self._document

    def writer(self) -> EventWriter:
        """The process's one event writer (group commit), made on first use."""
        if self._writer is None:
            self._writer = EventWriter(
                self.access().store,
                max_batch=self.config.max_batch,
                max_queued=self.config.max_queued_events,
                on_batch=None if self.metrics is None else self.metrics.batch,
            )
        return self._writer

    async def close_writer(self) -> None:
        """Commit the events still queued; called at shutdown, before the store closes."""
        if self._writer is not None:
            await self._writer.close()

    def queued_events(self) -> int:
        """Events waiting for the writer's next commit (0 before the first event)."""
        return 0 if self._writer is None else self._writer.queued

    def store_retries(self) -> int:
        """Write transactions the open store ran again after losing a race."""
        return 0 if self.store is None else self.store.store.retries

    def access(self) -> StoreAccess:
        if self.store is None:
            raise ServiceProblem(
                "store-unavailable", "the store is not open yet", headers={"Retry-After": "1"}
            )
        return self.store

    async def check_store(self) -> str:
        """The store's backend name when it answers; a 503 problem when it does not."""
        access = self.access()
        await access.call(access.store.next_due)
        name: str = access.store.backend.name
        return name

    async def trace(self, workflow: str, instance: str) -> Sequence[TraceStep]:
        """The accepted steps of `instance`, which must run `workflow`, for its diagram."""
        access = self.access()
        record = await access.call(access.store.get, instance, instance=instance)
        if record.workflow != workflow:
            raise ServiceProblem(
                "unknown-instance",
                f"instance '{instance}' runs '{record.workflow}', not '{workflow}'",
            )
        entries = await access.call(access.store.history, instance, instance=instance)
        steps = [
            (e.entry.event, e.entry.source, e.entry.target) for e in entries if e.entry.accepted
        ]
        return trace_of(self.catalog.get(workflow), steps)


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service
