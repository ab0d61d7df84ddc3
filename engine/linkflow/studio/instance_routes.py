"""The studio's operations view over a store: list instances (filters, keyset pages), show one
(with its run and pending timeout), and the operator actions: send an event, cancel, terminate.

Only a studio started with a store has one; without, every route here answers 404 saying how
to start it with one. The actions carry the version the operator saw (`expect_version`): a step
that came first makes them a 409 and changes nothing, as If-Match does in the API. Who did it
(`operator`) is recorded in history; cancel and terminate need it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from linkflow.errors import UsageError
from linkflow.store import NotAllowed
from linkflow.store.listing import data_condition, decode_cursor
from linkflow.store.operator import MAX_ACTOR, check_actor
from linkflow.studio.body import BadRequest, read_json
from linkflow.studio.instances import InstancesView, Refused, Stale, UnknownInstance
from linkflow.studio.playground import PlaygroundError
from linkflow.studio.state import studio_of


def status_code_of(err: PlaygroundError) -> int:
    if isinstance(err, UnknownInstance):
        return 404
    if isinstance(err, Stale | Refused):
        return 409
    return 422


async def instance_list(request: Request) -> Response:
    studio = studio_of(request)
    query = request.query_params
    try:
        view = studio.store_view()
        limit = int(query.get("limit") or 100)
        cursor = query.get("cursor")
        after = decode_cursor(cursor) if cursor else None
        data = dict(data_condition(text) for text in query.getlist("data") if text.strip())
    except BadRequest as err:
        return JSONResponse({"error": str(err)}, status_code=err.status)
    except ValueError:
        return JSONResponse({"error": "`limit` must be a whole number"}, status_code=400)
    except UsageError as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    async with studio.lock:
        try:
            found = view.listing(
                query.get("workflow"),
                query.get("state"),
                query.get("outcome"),
                limit,
                data=data,
                after=after,
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
        return JSONResponse({"error": str(err)}, status_code=status_code_of(err))


def _operator(body: dict[str, Any], required: bool) -> str | None:
    who = body.get("operator")
    if who is None or (isinstance(who, str) and not who.strip()):
        if required:
            raise BadRequest("give an operator name: who does this is recorded in history")
        return None
    if not isinstance(who, str):
        raise BadRequest(f"`operator` must be a name of 1 to {MAX_ACTOR} characters")
    try:
        return check_actor(who)
    except NotAllowed as err:
        raise BadRequest(f"`operator`: {err}") from None


def _version(body: dict[str, Any]) -> int | None:
    version = body.get("expect_version")
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version < 10**18:
        raise BadRequest("`expect_version` must be the version shown (a whole number)")
    return version


async def _action(request: Request, action: str) -> Response:
    studio = studio_of(request)
    instance_id = request.path_params["id"]
    try:
        view: InstancesView = studio.store_view()
        body = await read_json(request)
        version = _version(body)
        event, payload, reason = body.get("event"), body.get("payload"), body.get("reason")
        if action == "send":
            if not isinstance(event, str) or not event:
                raise BadRequest("`event` must be the name of an event")
            if payload is not None and not isinstance(payload, dict):
                raise BadRequest("`payload` must be a JSON object")
            who = _operator(body, required=False)
        else:
            who = _operator(body, required=True)
            if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_ACTOR):
                raise BadRequest(f"`reason` must be text of at most {MAX_ACTOR} characters")
        async with studio.lock:
            if action == "send":
                assert isinstance(event, str)
                sent = view.send(instance_id, event, payload, by=who, expect_version=version)
            elif action == "cancel":
                assert who is not None
                sent = view.cancel(instance_id, by=who, expect_version=version)
            else:
                assert who is not None
                sent = view.terminate(
                    instance_id, by=who, reason=reason or None, expect_version=version
                )
            detail = view.detail(instance_id)
    except BadRequest as err:
        return JSONResponse({"error": str(err)}, status_code=err.status)
    except PlaygroundError as err:
        return JSONResponse({"error": str(err)}, status_code=status_code_of(err))
    studio.hub.publish({"version": studio.playground.version, "instance": instance_id})
    return JSONResponse({"result": sent, "instance": detail})


async def instance_send(request: Request) -> Response:
    return await _action(request, "send")


async def instance_cancel(request: Request) -> Response:
    return await _action(request, "cancel")


async def instance_terminate(request: Request) -> Response:
    return await _action(request, "terminate")
