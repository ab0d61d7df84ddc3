"""The studio's web app: the page, its static files, a small JSON API and server-sent events.

Every request that changes the playground is handled on the event loop, one at a time (an
asyncio lock), so two tabs never interleave half a step. Request bodies are bounded and
checked; a bad one gets a 4xx with the reason in words and changes nothing. No payload is
ever logged or echoed: responses carry the playground's view, which holds no secret field.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from linkflow.studio.coverage_view import coverage_view
from linkflow.studio.instances import InstancesView, UnknownInstance
from linkflow.studio.playground import Playground, PlaygroundError, payload_size_ok
from linkflow.studio.scenario_file import save_scenario, scenario_text, secret_variables

STATIC = Path(__file__).parent / "static"
#: How often an idle event stream sends a comment, so proxies and browsers keep it open.
KEEPALIVE_SECONDS = 15.0


class BadRequest(Exception):
    """The request itself is malformed (not JSON, too big, wrong shape): a 400 or 413."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Hub:
    """Fans a message out to every open event stream."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[str | None]] = set()

    def subscribe(self) -> asyncio.Queue[str | None]:
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self.queues.discard(queue)

    def publish(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        for queue in self.queues:
            queue.put_nowait(text)

    def close(self) -> None:
        for queue in self.queues:
            queue.put_nowait(None)


async def read_json(request: Request) -> dict[str, Any]:
    from linkflow.language import json_text

    body = await request.body()
    if not payload_size_ok(body):
        raise BadRequest("the request is too large", 413)
    try:
        value = json_text.read_json(body.decode("utf-8")) if body else {}
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 text") from None
    except json_text.JsonRefused as err:
        raise BadRequest(f"the request body is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise BadRequest("the request body must be a JSON object")
    return value


def create_app(
    playground: Playground,
    *,
    scenario_folder: str = "tests/scenarios/studio",
    coverage_folder: str = "tests/scenarios",
    watch: bool = True,
    instances: InstancesView | None = None,
) -> Starlette:
    """The studio app; `watch` reloads the definitions when their files change; `instances`
    adds the view over a store."""
    lock = asyncio.Lock()
    hub = Hub()
    # Open event streams end when `streams.stop` is set: by this app's shutdown, or, mounted
    # in another app (whose shutdown this one never sees), by that app's stop signal.
    streams = SimpleNamespace(stop=asyncio.Event())

    def changed() -> None:
        hub.publish({"version": playground.version, "problems": len(playground.problems)})

    Handler = Callable[[dict[str, Any]], Any]

    def action(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                body = await read_json(request)
                async with lock:
                    result = handler(body)
                    view = playground.view()
            except BadRequest as err:
                return JSONResponse({"error": str(err)}, status_code=err.status)
            except PlaygroundError as err:
                return JSONResponse({"error": str(err)}, status_code=422)
            changed()
            return JSONResponse({"result": result, "state": view})

        return endpoint

    def send(body: dict[str, Any]) -> Any:
        event, payload = body.get("event"), body.get("payload")
        if not isinstance(event, str):
            raise BadRequest("`event` must be the name of an event")
        if payload is not None and not isinstance(payload, dict):
            raise BadRequest("`payload` must be a JSON object")
        record = playground.send(event, payload)
        step = record.entry.step if record.entry else None
        return {"accepted": bool(step and step.accepted)}

    def wait(body: dict[str, Any]) -> Any:
        record = playground.wait(body.get("seconds"))  # type: ignore[arg-type]
        step = record.entry.step if record.entry else None
        return {"fired": step is not None, "accepted": bool(step and step.accepted)}

    def reset(body: dict[str, Any]) -> Any:
        start, data = body.get("start"), body.get("data")
        if start is not None and not isinstance(start, str):
            raise BadRequest("`start` must be a workflow name")
        if data is not None and not isinstance(data, dict):
            raise BadRequest("`data` must be a JSON object of the workflow's data fields")
        playground.reset(start or None, data)
        return {}

    def scenario(body: dict[str, Any]) -> Any:
        name = body.get("name")
        description = body.get("description") or ""
        folder = body.get("folder") or scenario_folder
        if not isinstance(name, str) or not isinstance(description, str):
            raise BadRequest("`name` and `description` must be text")
        if not isinstance(folder, str):
            raise BadRequest("`folder` must be a path")
        text = scenario_text(playground, name, description, Path(folder))
        written = ""
        if body.get("write"):
            written = str(save_scenario(playground, name, description, folder))
        needed = sorted(
            {v for fields in secret_variables(playground).values() for v in fields.values()}
        )
        return {"text": text, "file": written, "name": f"{name}.yaml", "secrets": needed}

    async def state(request: Request) -> Response:
        async with lock:
            return JSONResponse(playground.view())

    async def coverage(request: Request) -> Response:
        folder = request.query_params.get("folder") or coverage_folder
        try:
            view = await asyncio.to_thread(coverage_view, folder)
        except PlaygroundError as err:
            return JSONResponse({"error": str(err)}, status_code=422)
        return JSONResponse(view)

    async def defaults(request: Request) -> Response:
        return JSONResponse(
            {
                "scenario_folder": scenario_folder,
                "coverage_folder": coverage_folder,
                "instances": instances is not None,
            }
        )

    def store_view() -> InstancesView:
        if instances is None:
            raise BadRequest("this studio has no store: start it with --store URL", 404)
        return instances

    async def instance_list(request: Request) -> Response:
        query = request.query_params
        try:
            view = store_view()
            limit = int(query.get("limit") or 100)
        except BadRequest as err:
            return JSONResponse({"error": str(err)}, status_code=err.status)
        except ValueError:
            return JSONResponse({"error": "`limit` must be a whole number"}, status_code=400)
        async with lock:
            try:
                found = view.listing(
                    query.get("workflow"), query.get("state"), query.get("outcome"), limit
                )
            except PlaygroundError as err:
                return JSONResponse({"error": str(err)}, status_code=422)
        return JSONResponse(found)

    async def instance_detail(request: Request) -> Response:
        try:
            view = store_view()
            async with lock:
                return JSONResponse(view.detail(request.path_params["id"]))
        except BadRequest as err:
            return JSONResponse({"error": str(err)}, status_code=err.status)
        except PlaygroundError as err:
            status = 404 if isinstance(err, UnknownInstance) else 422
            return JSONResponse({"error": str(err)}, status_code=status)

    async def instance_send(request: Request) -> Response:
        instance_id = request.path_params["id"]
        try:
            view = store_view()
            body = await read_json(request)
            event, payload = body.get("event"), body.get("payload")
            if not isinstance(event, str) or not event:
                raise BadRequest("`event` must be the name of an event")
            if payload is not None and not isinstance(payload, dict):
                raise BadRequest("`payload` must be a JSON object")
            async with lock:
                sent = view.send(instance_id, event, payload)
                detail = view.detail(instance_id)
        except BadRequest as err:
            return JSONResponse({"error": str(err)}, status_code=err.status)
        except PlaygroundError as err:
            status = 404 if isinstance(err, UnknownInstance) else 422
            return JSONResponse({"error": str(err)}, status_code=status)
        hub.publish({"version": playground.version, "instance": instance_id})
        return JSONResponse({"result": sent, "instance": detail})

    async def events(request: Request) -> Response:
        queue = hub.subscribe()

        async def stream() -> AsyncIterator[str]:
            stopping = asyncio.ensure_future(streams.stop.wait())
            try:
                yield f"retry: 1000\ndata: {json.dumps({'version': playground.version})}\n\n"
                while True:
                    getting = asyncio.ensure_future(queue.get())
                    await asyncio.wait(
                        {getting, stopping},
                        timeout=KEEPALIVE_SECONDS,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if stopping.done():
                        getting.cancel()
                        return
                    if not getting.done():
                        getting.cancel()
                        yield ": keep-alive\n\n"
                        continue
                    message = getting.result()
                    if message is None:
                        return
                    yield f"data: {message}\n\n"
            finally:
                stopping.cancel()
                hub.unsubscribe(queue)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def watcher(stop: asyncio.Event) -> None:
        from watchfiles import awatch

        paths = [p for p in [*playground.paths, playground.world_file] if p and Path(p).exists()]
        if not paths:
            return
        async for _ in awatch(*paths, stop_event=stop, debounce=50, step=30):
            async with lock:
                playground.apply_reload()
            changed()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(watcher(stop)) if watch else None
        try:
            yield
        finally:
            stop.set()
            streams.stop.set()
            hub.close()
            if task is not None:
                await task

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/defaults", defaults),
        Route("/api/send", action(send), methods=["POST"]),
        Route("/api/wait", action(wait), methods=["POST"]),
        Route("/api/reset", action(reset), methods=["POST"]),
        Route("/api/scenario", action(scenario), methods=["POST"]),
        Route("/api/coverage", coverage),
        Route("/api/events", events),
        Route("/api/instances", instance_list),
        Route("/api/instances/{id}", instance_detail),
        Route("/api/instances/{id}/send", instance_send, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.streams = streams
    return app
