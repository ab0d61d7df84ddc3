"""The studio at /studio in `linkflow serve`: the playground on the served workflows, and the
instances view on the service's store (opened once more by the studio, so its reads and its
confirmed sends go through the same store code and checks as the API's).

A mounted app's lifespan does not run, so the studio here does not watch the files: a served
definition changes only with a restart, as the API's does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from engine.service.config import ServiceConfig

PREFIX = "/studio"


def studio_app(config: ServiceConfig) -> Starlette:
    """The studio app for the service; raises the store's errors."""
    from engine.store import Store
    from engine.studio.app import create_app
    from engine.studio.instances import InstancesView
    from engine.studio.playground import Playground

    playground = Playground(list(config.workflow_paths))
    store = Store.open(config.store_url)
    return create_app(playground, watch=False, instances=InstancesView(store))


def with_studio(
    config: ServiceConfig, build: Callable[[Sequence[BaseRoute]], Starlette]
) -> Starlette:
    """The service app `build` makes with the studio mounted; the studio's event streams end
    when the service stops (its SIGTERM handling), so an open page never holds up a shutdown."""
    studio = studio_app(config)
    app = build([Mount(PREFIX, app=studio)])
    studio.state.streams.stop = app.state.service.stopping
    return app
