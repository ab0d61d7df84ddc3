"""The routes that need no store: probes, the API document, the workflows and their diagrams."""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from linkflow.output.diagram import TraceStep
from linkflow.service.catalog import workflow_detail
from linkflow.service.openapi_schemas import ID_PATTERN
from linkflow.service.problems import ServiceProblem
from linkflow.service.state import service_of


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> JSONResponse:
    service = service_of(request)
    backend = await service.check_store()
    return JSONResponse({"status": "ready", "store": backend})


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(service_of(request).api_document())


async def list_workflows(request: Request) -> JSONResponse:
    return JSONResponse({"workflows": service_of(request).catalog.listing()})


async def get_workflow(request: Request) -> JSONResponse:
    workflow = service_of(request).catalog.get(request.path_params["name"])
    return JSONResponse(workflow_detail(workflow))


async def workflow_diagram(request: Request) -> Response:
    service = service_of(request)
    name = request.path_params["name"]
    service.catalog.get(name)
    instance = request.query_params.get("instance")
    trace: Sequence[TraceStep] = ()
    if instance is not None:
        if not re.fullmatch(ID_PATTERN, instance):
            raise ServiceProblem("invalid-parameter", "'instance' is not a valid instance id")
        trace = await service.trace(name, instance)
    svg = await service.catalog.svg(name, trace)
    return Response(svg, media_type="image/svg+xml")


ROUTES = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/workflows", list_workflows, methods=["GET"]),
    Route("/workflows/{name}", get_workflow, methods=["GET"]),
    Route("/workflows/{name}/diagram.svg", workflow_diagram, methods=["GET"]),
]
