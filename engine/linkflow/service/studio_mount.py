"""The studio at /studio in `linkflow serve`: the playground on the served workflows, and the
instances view on the service's store (opened once more by the studio, so its reads and its
confirmed sends go through the same store code and checks as the API's).

A mounted app's lifespan does not run, so the studio here does not watch the files: a served
definition changes only with a restart, as the API's does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Mount
from starlette.types import Receive, Scope, Send

from linkflow.service.config import ServiceConfig

PREFIX = "/studio"


def studio_app(config: ServiceConfig) -> Starlette:
    """The studio app for the service; raises the store's errors."""
    from linkflow.store import Store
    from linkflow.studio.app import create_app
    from linkflow.studio.instances import InstancesView
    from linkflow.studio.playground import Playground

    playground = Playground(list(config.workflow_paths))
    store = Store.open(config.store_url)
    return create_app(playground, watch=False, instances=InstancesView(store))


class LazyStudio:
    """The studio, built on its first request: loading the playground's workflows and opening
    a second store connection costs a service nothing until someone opens the page."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.app: Starlette | None = None
        self.stopping: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self.app is None:
                    app = await run_in_threadpool(studio_app, self.config)
                    if self.stopping is not None:
                        app.state.streams.stop = self.stopping
                    self.app = app
        await self.app(scope, receive, send)


def with_studio(
    config: ServiceConfig, build: Callable[[Sequence[BaseRoute]], Starlette]
) -> Starlette:
    """The service app `build` makes with the studio mounted; the studio's event streams end
    when the service stops (its SIGTERM handling), so an open page never holds up a shutdown."""
    studio = LazyStudio(config)
    app = build([Mount(PREFIX, app=studio)])
    studio.stopping = app.state.service.stopping
    return app
