"""The studio at /studio in `linkflow serve`: the playground on the served workflows and on a
copy of the store's world (read when the studio is built: the playground never writes to the
store), and the instances view on the service's store, so its reads and its confirmed sends go
through the same store code and checks as the API's. The page asks for the start data with a
form built from the start workflow's data fields.

The studio shares what the service loaded: the workflow models (no file is read again) and
the open store (its compiled definitions too). A mounted app's lifespan does not run, so the
studio here does not watch the files: a served definition changes only with a restart, as the
API's does.

Who may use it (linkflow.studio.guard): when the service has a bearer token, its own access
check (linkflow.service.access: the header, or the sign-in page's cookie) lets a request in and
the studio keeps no token of its own. Without one (a service on loopback), the studio draws a
per-launch token, printed on stderr at start as `.../studio/?token=...` (or taken from
LINKFLOW_STUDIO_TOKEN, so that several `--workers` processes share one), and needs the cookie
the first visit exchanges it for; its Host check then also takes the service's `--host`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Mount
from starlette.types import Receive, Scope, Send

from linkflow.service.access import read_token
from linkflow.service.config import ServiceConfig
from linkflow.studio.guard import Access, new_token

if TYPE_CHECKING:
    from linkflow.language.model import Workflow
    from linkflow.runtime.world import World
    from linkflow.service.state import Service
    from linkflow.store import Store

PREFIX = "/studio"
#: A studio token shared by the processes of one service (each draws its own otherwise).
STUDIO_TOKEN_ENV = "LINKFLOW_STUDIO_TOKEN"


def studio_access(config: ServiceConfig) -> Access:
    """The service's token stands in for the studio's; without one, a per-launch token."""
    if read_token(config.token_file) is not None:
        return Access(token=None, check_host=False)
    token = os.environ.get(STUDIO_TOKEN_ENV, "").strip() or new_token()
    return Access(token=token, allowed_hosts=(config.host,))


def launch_url(config: ServiceConfig, access: Access) -> str:
    host = f"[{config.host}]" if ":" in config.host else config.host
    return access.url(f"http://{host}:{config.port}{PREFIX}/")


def studio_app(
    config: ServiceConfig,
    workflows: Mapping[str, Workflow],
    store: Store,
    access: Access | None = None,
) -> Starlette:
    """The studio app on the service's loaded workflows and open store."""
    from linkflow.studio.app import create_app  # noqa: PLC0415 - the studio loads on its first request (LazyStudio), so the service starts without it
    from linkflow.studio.instances import InstancesView  # noqa: PLC0415 - the studio loads on its first request (LazyStudio), so the service starts without it
    from linkflow.studio.playground import Playground  # noqa: PLC0415 - the studio loads on its first request (LazyStudio), so the service starts without it

    playground = Playground(
        list(config.workflow_paths), workflows=workflows, world=store_world(store, workflows)
    )
    playground.notice = "Playing on a copy of the store's world: nothing here changes the store."
    return create_app(
        playground,
        watch=False,
        instances=InstancesView(store),
        access=access or studio_access(config),
    )


def store_world(store: Store, workflows: Mapping[str, Workflow]) -> World:
    """A copy of the store's world: every collection a served workflow binds a record from
    (the only ones its steps can read or write)."""
    from linkflow.runtime.world import World  # noqa: PLC0415 - the studio loads on its first request (LazyStudio), so the service starts without it

    names = sorted({b.collection for w in workflows.values() for b in w.bindings.values()})
    return World({name: store.world(name) for name in names}, "the store's world")


class LazyStudio:
    """The studio, built on its first request: drawing up the playground costs a service
    nothing until someone opens the page."""

    def __init__(self, config: ServiceConfig, access: Access | None = None) -> None:
        self.config = config
        self.access = access or studio_access(config)
        self.service: Service | None = None
        self.app: Starlette | None = None
        self._lock: asyncio.Lock | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self.app is None:
                    self.app = await run_in_threadpool(self._build)
        await self.app(scope, receive, send)

    def _build(self) -> Starlette:
        service = self.service  # set once the app is built; its store once it has started
        assert service is not None
        assert service.store is not None
        app = studio_app(self.config, service.catalog.workflows, service.store.store, self.access)
        app.state.streams.stop = service.stopping
        return app


def with_studio(
    config: ServiceConfig, build: Callable[[Sequence[BaseRoute]], Starlette]
) -> Starlette:
    """The service app `build` makes with the studio mounted; the studio's event streams end
    when the service stops (its SIGTERM handling), so an open page never holds up a shutdown."""
    studio = LazyStudio(config)
    if studio.access.token is not None:
        print(f"linkflow serve: studio at {launch_url(config, studio.access)}", file=sys.stderr)
    app = build([Mount(PREFIX, app=studio)])
    studio.service = app.state.service
    return app
