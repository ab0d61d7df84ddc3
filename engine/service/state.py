"""What a running service holds: its configuration, its workflows and its store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request

from engine.output.diagram import TraceStep
from engine.service.catalog import Catalog
from engine.service.config import ServiceConfig
from engine.service.problems import ServiceProblem


class Service:
    """Shared by every request of one process (kept on `app.state.service`)."""

    def __init__(self, config: ServiceConfig, catalog: Catalog, store: Any = None) -> None:
        self.config = config
        self.catalog = catalog
        self.store = store

    async def check_store(self) -> str | None:
        """The store's backend name when it answers; a 503 problem when it does not."""
        if self.store is None:
            return None
        raise ServiceProblem("store-unavailable", "the store is not open")  # pragma: no cover

    async def trace(self, workflow: str, instance: str) -> Sequence[TraceStep]:
        raise ServiceProblem("unknown-instance", "no instance store is configured")


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service
