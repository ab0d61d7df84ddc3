"""The studio at /studio in `linkflow serve`: the playground on the served workflows, and the
instances view on the service's store (opened once more by the studio, so its reads and its
confirmed sends go through the same store code and checks as the API's).

A mounted app's lifespan does not run, so the studio here does not watch the files: a served
definition changes only with a restart, as the API's does.
"""

from __future__ import annotations

from starlette.routing import Mount

from engine.service.config import ServiceConfig

PREFIX = "/studio"


def studio_mount(config: ServiceConfig) -> Mount:
    """The mount; raises the store's errors (the service reports those before binding)."""
    from engine.store import Store
    from engine.studio.app import create_app
    from engine.studio.instances import InstancesView
    from engine.studio.playground import Playground

    playground = Playground(list(config.workflow_paths))
    store = Store.open(config.store_url)
    app = create_app(playground, watch=False, instances=InstancesView(store))
    return Mount(PREFIX, app=app)
