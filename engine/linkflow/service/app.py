"""The app factory: `create_app(config)` builds the Starlette app a service process serves.

Other parts of linkflow add their own pages with `mounts` (say, the studio at /studio): they sit
behind the same token check, load shedding and request log as the API, and are not part of the
API document.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from linkflow.language.loader import load
from linkflow.language.model import Workflow
from linkflow.service import effects, feed_stream, instances, operations, webhooks
from linkflow.service.access import BearerAuth, read_token
from linkflow.service.catalog import Catalog
from linkflow.service.config import CONFIG_ENV, ServiceConfig
from linkflow.service.cors import Cors
from linkflow.service.limits import ConcurrencyLimit
from linkflow.service.metrics import METRICS_PATH, Metrics, metrics_endpoint
from linkflow.service.problems import ServiceProblem, problem_response, response_for
from linkflow.service.request_log import RequestLog, configure_logging
from linkflow.service.routes import ROUTES
from linkflow.service.state import Service
from linkflow.service.store_access import StoreAccess
from linkflow.service.studio_mount import with_studio
from linkflow.service.timers import timer_loop
from linkflow.store import Store


class WorkflowLoadError(ValueError):
    """The workflows given to the service do not load; carries the problems in words."""


def load_catalog(paths: Sequence[str]) -> Catalog:
    """The served workflows, each file read once: the store registers these same models."""
    result = load(list(paths), kinds=["workflow"])
    if not result.ok:
        raise WorkflowLoadError("\n".join(str(p) for p in result.problems))
    if not result.workflows:
        raise WorkflowLoadError(f"no workflow found in {', '.join(paths)}")
    return Catalog(result.workflows)


async def _service_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceProblem)
    return response_for(exc)


_HTTP_SLUGS = {404: "not-found", 405: "method-not-allowed"}


async def _http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    slug = _HTTP_SLUGS.get(exc.status_code, "invalid-request")
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return problem_response(slug, "no such resource; see /openapi.json for the API")
    if exc.status_code == 405:
        allowed = headers.get("Allow", "")
        return problem_response(
            slug, f"the method is not allowed here (allowed: {allowed})", headers=headers
        )
    return problem_response(slug, str(exc.detail))


def open_store(config: ServiceConfig, catalog: Catalog) -> Store:
    """Open (create, migrate) the store and register the served workflows' definitions, so
    new instances run on the YAML as it is now: the catalog's models, with the text they were
    loaded from, in one transaction (no file is read again). Blocking; raises the store's
    errors."""
    store = Store.open(config.store_url)
    try:
        if catalog.workflows:
            store.register(*catalog.workflows.values())
    except BaseException:
        store.close()
        raise
    return store


def _on_terminate(loop: asyncio.AbstractEventLoop, stopping: asyncio.Event) -> None:
    """Chain onto the server's SIGTERM/SIGINT handlers: streams and the timer loop must end
    before the server waits for open connections, not after."""
    for number in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(number)
        if not callable(previous):
            continue

        def handler(sig: int, frame: Any, previous: Any = previous) -> None:
            loop.call_soon_threadsafe(stopping.set)
            previous(sig, frame)

        signal.signal(number, handler)


def create_app(
    config: ServiceConfig,
    *,
    workflows: Mapping[str, Workflow] | None = None,
    store: Store | None = None,
    mounts: Sequence[BaseRoute] = (),
    token: str | None = None,
) -> Starlette:
    """The service app. `workflows` and `store` default to what `config` names (the store is
    then opened at start-up and closed at shutdown); `mounts` are extra routes (e.g.
    `Mount("/studio", studio_app)`) served behind the same access checks and request log."""
    catalog = Catalog(workflows) if workflows is not None else load_catalog(config.workflow_paths)
    access = StoreAccess(store) if store is not None else None
    service = Service(config, catalog, access, secured=bool(token))
    metrics = service.metrics = Metrics(service.queued_events, service.store_retries)
    if service.store is not None:
        service.store.on_error = metrics.store_error

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if service.store is None:
            service.store = StoreAccess(await run_in_threadpool(open_store, config, catalog))
            service.store.on_error = metrics.store_error
        _on_terminate(asyncio.get_running_loop(), service.stopping)
        timers = None
        if config.timer_interval > 0:
            timers = asyncio.create_task(timer_loop(service))
        deliverer = None
        if config.webhook_interval > 0:
            deliverer = asyncio.create_task(webhooks.webhook_loop(service))
        performer = None
        if config.effects:
            performer = asyncio.create_task(effects.effects_loop(service))
        try:
            yield
        finally:
            service.stopping.set()
            if timers is not None:
                await timers  # a pass in progress commits first: nothing is left half done
            if deliverer is not None:
                await deliverer  # attempts in flight end (or time out) and are recorded
            if performer is not None:
                await performer  # calls in flight end (up to a grace) and are recorded
            await service.close_writer()  # queued events are committed and answered first
            service.store.store.close()

    middleware = [
        Middleware(RequestLog, on_request=metrics.request),
        Middleware(Cors, origins=config.cors_origins),
    ]
    if token:
        middleware.append(Middleware(BearerAuth, token=token))
    middleware.append(
        Middleware(
            ConcurrencyLimit,
            max_requests=config.max_requests,
            max_streams=config.max_streams,
            read_timeout=config.read_timeout,
            max_body_bytes=config.max_body_bytes,
        )
    )

    app = Starlette(
        routes=[
            *instances.ROUTES,  # first: the router tries routes in order, events are most
            *ROUTES,
            *operations.ROUTES,
            *feed_stream.ROUTES,
            *webhooks.ROUTES,
            *effects.ROUTES,
            Route(METRICS_PATH, metrics_endpoint, methods=["GET"]),
            *mounts,
        ],
        middleware=middleware,
        exception_handlers={ServiceProblem: _service_problem, HTTPException: _http_problem},
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.metrics = metrics
    return app


def app_from_environment() -> Starlette:
    """The factory uvicorn's worker processes call: the configuration comes in CONFIG_ENV."""
    config = ServiceConfig.from_json(os.environ[CONFIG_ENV])
    configure_logging(config.log_format)
    token = read_token(config.token_file)
    return with_studio(config, lambda mounts: create_app(config, token=token, mounts=mounts))
