"""The studio's routes: the page, the playground's JSON API, coverage, the store view (its
instances, effects and webhooks), events.

Every request that changes the playground goes through `action`: read the body, hold the
studio's lock for the change and the view it answers with, then tell open pages. No payload
is ever logged or echoed: answers carry the playground's view, which holds no secret field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from linkflow.store import NotFound, StoreError
from linkflow.studio.body import BadRequest, read_json
from linkflow.studio.coverage_view import coverage_view
from linkflow.studio.event_stream import events
from linkflow.studio.instance_routes import (
    instance_cancel,
    instance_detail,
    instance_list,
    instance_send,
    instance_terminate,
)
from linkflow.studio.outbound_routes import effect_list, effect_retry, webhook_list, webhook_retry
from linkflow.studio.playground import PlaygroundError
from linkflow.studio.scenario_file import (
    NAME,
    OutsideFolders,
    confined,
    save_scenario,
    scenario_text,
    secret_variables,
)
from linkflow.studio.start_form import start_form
from linkflow.studio.state import Studio, studio_of

STATIC = Path(__file__).parent / "static"

#: A change to the playground: the studio and the request's JSON body in, the result out.
Change = Callable[[Studio, dict[str, Any]], Any]


def action(change: Change) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint for one change: its answer is the result and the playground's new view."""

    async def endpoint(request: Request) -> Response:
        studio = studio_of(request)
        try:
            body = await read_json(request)
            async with studio.lock:
                result = change(studio, body)
                view = studio.playground.view(diagram_view(request))
        except BadRequest as err:
            return JSONResponse(err.answer(), status_code=err.status)
        except PlaygroundError as err:
            return JSONResponse({"error": str(err)}, status_code=422)
        studio.changed()
        return JSONResponse({"result": result, "state": view})

    return endpoint


def send(studio: Studio, body: dict[str, Any]) -> Any:
    event, payload = body.get("event"), body.get("payload")
    if not isinstance(event, str):
        raise BadRequest("`event` must be the name of an event")
    if payload is not None and not isinstance(payload, dict):
        raise BadRequest("`payload` must be a JSON object")
    record = studio.playground.send(event, payload)
    step = record.entry.step if record.entry else None
    return {"accepted": bool(step and step.accepted)}


def wait(studio: Studio, body: dict[str, Any]) -> Any:
    record = studio.playground.wait(body.get("seconds"))  # type: ignore[arg-type]
    step = record.entry.step if record.entry else None
    return {"fired": step is not None, "accepted": bool(step and step.accepted)}


def reset(studio: Studio, body: dict[str, Any]) -> Any:
    if "instance" in body:
        return start_like(studio, body["instance"])
    start, data = body.get("start"), body.get("data")
    if start is not None and not isinstance(start, str):
        raise BadRequest("`start` must be a workflow name")
    if data is not None and not isinstance(data, dict):
        raise BadRequest("`data` must be a JSON object of the workflow's data fields")
    studio.playground.reset(start or None, data)
    return {}


def start_like(studio: Studio, instance: object) -> Any:
    """A new session with the workflow and start data a stored instance started with (the
    store is only read; the session plays on the playground's own copy of the world)."""
    if not isinstance(instance, str) or not instance:
        raise BadRequest("`instance` must be the id of a stored instance", field="instance")
    store = studio.store_view().store
    try:
        record = store.get(instance)
    except NotFound:
        raise BadRequest(f"no instance '{instance}' in the store", 404, field="instance") from None
    except StoreError as err:
        raise BadRequest(f"the store could not be read: {err}", 503) from None
    studio.playground.reset(record.workflow, dict(record.start_data))
    return {"instance": instance, "workflow": record.workflow}


def scenario(studio: Studio, body: dict[str, Any]) -> Any:
    playground = studio.playground
    name = body.get("name")
    description = body.get("description") or ""
    folder = body.get("folder") or studio.scenario_folder
    if not isinstance(name, str):
        raise BadRequest("`name` must be text", field="name")
    if not isinstance(description, str):
        raise BadRequest("`description` must be text", field="description")
    if not isinstance(folder, str):
        raise BadRequest("`folder` must be a path", field="folder")
    if not NAME.fullmatch(name):
        raise BadRequest(
            "`name` is lowercase letters, digits and underscores, starting with a letter, "
            "at most 100",
            422,
            field="name",
        )
    roots = [studio.scenario_folder, studio.coverage_folder]
    try:
        where = confined(folder, roots)
    except OutsideFolders as err:
        raise BadRequest(str(err), 403, field="folder") from None
    text = scenario_text(playground, name, description, where)
    written = ""
    if body.get("write"):
        try:
            written = str(save_scenario(playground, name, description, folder, roots))
        except OutsideFolders as err:
            raise BadRequest(str(err), 403, field="folder") from None
        except OSError as err:
            reason = err.strerror or "the file could not be written"
            raise BadRequest(f"`folder`: {reason}", 422, field="folder") from None
    needed = sorted(
        {v for fields in secret_variables(playground).values() for v in fields.values()}
    )
    return {"text": text, "file": written, "name": f"{name}.yaml", "secrets": needed}


def diagram_view(request: Request) -> str:
    """The diagram the page asks for (`?view=engineer`); the reader view otherwise."""
    return "engineer" if request.query_params.get("view") == "engineer" else "reader"


async def state(request: Request) -> Response:
    studio = studio_of(request)
    async with studio.lock:
        return JSONResponse(studio.playground.view(diagram_view(request)))


async def start_form_view(request: Request) -> Response:
    """The start data form of another workflow (`?workflow=`), for the page's Start again."""
    studio = studio_of(request)
    name = request.query_params.get("workflow", "")
    async with studio.lock:
        playground = studio.playground
        if name not in playground.workflows:
            known = ", ".join(sorted(playground.workflows))
            return JSONResponse(
                {"error": f"no workflow named '{name}' (loaded: {known})"}, status_code=404
            )
        return JSONResponse(start_form(playground.workflows, name, playground.world()))


async def coverage(request: Request) -> Response:
    folder = request.query_params.get("folder") or studio_of(request).coverage_folder
    try:
        view = await asyncio.to_thread(coverage_view, folder)
    except PlaygroundError as err:
        return JSONResponse({"error": str(err)}, status_code=422)
    return JSONResponse(view)


async def defaults(request: Request) -> Response:
    studio = studio_of(request)
    return JSONResponse(
        {
            "scenario_folder": studio.scenario_folder,
            "coverage_folder": studio.coverage_folder,
            "instances": studio.instances is not None,
            "watch": studio.watch,
        }
    )


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


ROUTES: list[BaseRoute] = [
    Route("/", index),
    Route("/api/state", state),
    Route("/api/defaults", defaults),
    Route("/api/start-form", start_form_view),
    Route("/api/send", action(send), methods=["POST"]),
    Route("/api/wait", action(wait), methods=["POST"]),
    Route("/api/reset", action(reset), methods=["POST"]),
    Route("/api/scenario", action(scenario), methods=["POST"]),
    Route("/api/coverage", coverage),
    Route("/api/events", events),
    Route("/api/instances", instance_list),
    Route("/api/instances/{id}", instance_detail),
    Route("/api/instances/{id}/send", instance_send, methods=["POST"]),
    Route("/api/instances/{id}/cancel", instance_cancel, methods=["POST"]),
    Route("/api/instances/{id}/terminate", instance_terminate, methods=["POST"]),
    Route("/api/effects", effect_list),
    Route("/api/effects/{id}/retry", effect_retry, methods=["POST"]),
    Route("/api/webhooks", webhook_list),
    Route("/api/webhooks/{id}/retry", webhook_retry, methods=["POST"]),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]
