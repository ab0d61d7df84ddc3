"""The app factory: `create_app(config)` builds the Starlette app a service process serves.

Other parts of linkflow add their own pages with `mounts` (say, the studio at /studio): they sit
behind the same token check, load shedding and request log as the API, and are not part of the
API document.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from engine.language.model import Workflow
from engine.service.access import BearerAuth, read_token
from engine.service.catalog import Catalog
from engine.service.config import CONFIG_ENV, ServiceConfig
from engine.service.limits import ConcurrencyLimit
from engine.service.problems import ServiceProblem, problem_response, response_for
from engine.service.request_log import RequestLog, configure_logging
from engine.service.routes import ROUTES
from engine.service.state import Service


class WorkflowLoadError(ValueError):
    """The workflows given to the service do not load; carries the problems in words."""


def load_catalog(paths: Sequence[str]) -> Catalog:
    from engine.language.loader import load

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


def create_app(
    config: ServiceConfig,
    *,
    workflows: Mapping[str, Workflow] | None = None,
    store: object = None,
    mounts: Sequence[BaseRoute] = (),
    token: str | None = None,
) -> Starlette:
    """The service app. `workflows` and `store` default to what `config` names; `mounts` are
    extra routes (e.g. `Mount("/studio", studio_app)`) served behind the same access checks."""
    catalog = Catalog(workflows) if workflows is not None else load_catalog(config.workflow_paths)
    service = Service(config, catalog, store)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield

    middleware = [Middleware(RequestLog)]
    if token:
        middleware.append(Middleware(BearerAuth, token=token))
    middleware.append(
        Middleware(
            ConcurrencyLimit, max_requests=config.max_requests, max_streams=config.max_streams
        )
    )
    app = Starlette(
        routes=[*ROUTES, *mounts],
        middleware=middleware,
        exception_handlers={ServiceProblem: _service_problem, HTTPException: _http_problem},
        lifespan=lifespan,
    )
    app.state.service = service
    return app


def app_from_environment() -> Starlette:
    """The factory uvicorn's worker processes call: the configuration comes in CONFIG_ENV."""
    config = ServiceConfig.from_json(os.environ[CONFIG_ENV])
    configure_logging(config.log_format)
    return create_app(config, token=read_token(config.token_file))
