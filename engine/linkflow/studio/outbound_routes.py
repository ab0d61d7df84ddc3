"""The studio's routes over what a store sends out (linkflow.studio.outbound): the effects
across instances with the retry of a dead or failed one, and the webhook subscribers with the
retry of a subscriber's dead deliveries.

Like every studio route they sit behind the studio's guard (linkflow.studio.guard): the token
or the service's own access check, the Host, and for the two POSTs the JSON Content-Type and
the studio's own Origin (or its header). Without a store every route here answers 404 saying
how to start the studio with one.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from linkflow.errors import UsageError
from linkflow.store.listing import decode_cursor, encode_cursor
from linkflow.studio.body import BadRequest, read_json
from linkflow.studio.instance_routes import status_code_of
from linkflow.studio.instances import MAX_LISTED
from linkflow.studio.outbound import BadFilter, Outbound
from linkflow.studio.playground import PlaygroundError
from linkflow.studio.state import studio_of

#: The ids the store gives effects and subscribers.
EFFECT_ID = re.compile(r"ef_[0-9a-f]{16}")
WEBHOOK_ID = re.compile(r"wh_[0-9a-f]{16}")


def _outbound(request: Request) -> Outbound:
    return Outbound(studio_of(request).store_view().store)


def _error(err: BadRequest | PlaygroundError) -> Response:
    if isinstance(err, BadRequest):
        return JSONResponse(err.answer(), status_code=err.status)
    return JSONResponse({"error": str(err)}, status_code=status_code_of(err))


async def effect_list(request: Request) -> Response:
    """GET /api/effects?status=&limit=&cursor=: one page of the outbox, newest first."""
    studio = studio_of(request)
    query = request.query_params
    try:
        outbound = _outbound(request)
        raw = query.get("limit") or "100"
        # at most 9 digits: int() refuses text of over 4,300 digits with a ValueError
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
            raise BadRequest(f"`limit` must be a whole number from 1 to {MAX_LISTED}")
        cursor = query.get("cursor")
        after = decode_cursor(cursor) if cursor else None
        async with studio.lock:
            found = outbound.effects(query.get("status") or None, int(raw), after)
    except (UsageError, BadFilter) as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    except (BadRequest, PlaygroundError) as err:
        return _error(err)
    following = found["next"]
    found["next"] = None if following is None else encode_cursor(following)
    return JSONResponse(found)


async def effect_retry(request: Request) -> Response:
    """POST /api/effects/{id}/retry: a dead or failed effect back to pending (409 otherwise)."""
    studio = studio_of(request)
    ident = str(request.path_params["id"])
    try:
        outbound = _outbound(request)
        await read_json(request)  # a body, when there is one, must be a JSON object
        if not EFFECT_ID.fullmatch(ident):
            raise BadRequest("an effect id is 'ef_' and 16 hex digits", 404)
        async with studio.lock:
            effect = outbound.retry_effect(ident)
    except (BadRequest, PlaygroundError) as err:
        return _error(err)
    studio.hub.publish({"version": studio.playground.version, "instance": effect["instance"]})
    return JSONResponse({"effect": effect})


async def webhook_list(request: Request) -> Response:
    """GET /api/webhooks: every subscriber, its delivery counts and dead deliveries."""
    studio = studio_of(request)
    try:
        outbound = _outbound(request)
        async with studio.lock:
            return JSONResponse(outbound.webhooks())
    except (BadRequest, PlaygroundError) as err:
        return _error(err)


async def webhook_retry(request: Request) -> Response:
    """POST /api/webhooks/{id}/retry: requeue the subscriber's dead deliveries."""
    studio = studio_of(request)
    ident = str(request.path_params["id"])
    try:
        outbound = _outbound(request)
        await read_json(request)
        if not WEBHOOK_ID.fullmatch(ident):
            raise BadRequest("a webhook subscriber id is 'wh_' and 16 hex digits", 404)
        async with studio.lock:
            done = outbound.retry_webhook(ident)
    except (BadRequest, PlaygroundError) as err:
        return _error(err)
    return JSONResponse(done)
