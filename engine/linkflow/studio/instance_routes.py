"""The studio's view over a store: list instances, show one, send it an event.

Only a studio started with a store has one; without, every route here answers 404 saying how
to start it with one.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from linkflow.studio.body import BadRequest, read_json
from linkflow.studio.instances import UnknownInstance
from linkflow.studio.playground import PlaygroundError
from linkflow.studio.state import studio_of


async def instance_list(request: Request) -> Response:
    studio = studio_of(request)
    query = request.query_params
    try:
        view = studio.store_view()
        limit = int(query.get("limit") or 100)
    except BadRequest as err:
        return JSONResponse({"error": str(err)}, status_code=err.status)
    except ValueError:
        return JSONResponse({"error": "`limit` must be a whole number"}, status_code=400)
    async with studio.lock:
        try:
            found = view.listing(
                query.get("workflow"), query.get("state"), query.get("outcome"), limit
            )
        except PlaygroundError as err:
            return JSONResponse({"error": str(err)}, status_code=422)
    return JSONResponse(found)


async def instance_detail(request: Request) -> Response:
    studio = studio_of(request)
    try:
        view = studio.store_view()
        async with studio.lock:
            return JSONResponse(view.detail(request.path_params["id"]))
    except BadRequest as err:
        return JSONResponse({"error": str(err)}, status_code=err.status)
    except PlaygroundError as err:
        status = 404 if isinstance(err, UnknownInstance) else 422
        return JSONResponse({"error": str(err)}, status_code=status)


async def instance_send(request: Request) -> Response:
    studio = studio_of(request)
    instance_id = request.path_params["id"]
    try:
        view = studio.store_view()
        body = await read_json(request)
        event, payload = body.get("event"), body.get("payload")
        if not isinstance(event, str) or not event:
            raise BadRequest("`event` must be the name of an event")
        if payload is not None and not isinstance(payload, dict):
            raise BadRequest("`payload` must be a JSON object")
        async with studio.lock:
            sent = view.send(instance_id, event, payload)
            detail = view.detail(instance_id)
    except BadRequest as err:
        return JSONResponse({"error": str(err)}, status_code=err.status)
    except PlaygroundError as err:
        status = 404 if isinstance(err, UnknownInstance) else 422
        return JSONResponse({"error": str(err)}, status_code=status)
    studio.hub.publish({"version": studio.playground.version, "instance": instance_id})
    return JSONResponse({"result": sent, "instance": detail})
