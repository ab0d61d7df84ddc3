"""The instance routes: start, read, list, send events, history; and the change feed.

Sending an event is checked before it reaches the store: an unknown event or a payload that
fails its schema is a 422 and changes nothing (not even a refusal line in history). A guard
that refuses is an answer, not an error: 200 with `accepted: false` and the guard, rule and
message. An event for an instance that handed off goes to the current instance of its chain;
the answer's `instance` names the one that took it.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from linkflow.language.workflow_builder import TIMEOUT_EVENT
from linkflow.service.body import read_json
from linkflow.service.openapi import validate_body
from linkflow.service.openapi_schemas import (
    CURSOR_PATTERN,
    DATA_FILTER_PATTERN,
    DATA_RULE,
    FILTER_PATTERN,
    ID_PATTERN,
    KEY_PATTERN,
    MAX_FEED_NUMBER,
    NUMBER_PATTERN,
)
from linkflow.service.problems import ServiceProblem
from linkflow.service.request_log import STARTED_KEY
from linkflow.service.state import Service, service_of
from linkflow.service.store_access import store_errors
from linkflow.store.batch import EventRequest
from linkflow.store.listing import Filters, data_condition

_ID = re.compile(ID_PATTERN)
_CURSOR = re.compile(CURSOR_PATTERN)
_FILTER = re.compile(FILTER_PATTERN)
_KEY = re.compile(KEY_PATTERN)
_DATA = re.compile(DATA_FILTER_PATTERN)
_NUMBER = re.compile(NUMBER_PATTERN)
_IF_MATCH = re.compile(r'"([0-9]{1,18})"')
MAX_PAGE = 500
DEFAULT_PAGE = 50


ID_RULE = "an instance id is 1 to 128 letters, digits or _ . : - and starts with a letter or digit"


def is_id(text: object) -> bool:
    """An instance id, whole: `fullmatch`, so no newline (Python's `$` allows a final one)."""
    return isinstance(text, str) and _ID.fullmatch(text) is not None


def instance_id(request: Request) -> str:
    found = request.path_params["id"]
    if not is_id(found):
        raise ServiceProblem("invalid-id", ID_RULE)
    assert isinstance(found, str)
    return found


def ascii_number(raw: str, max_digits: int = 18) -> int | None:
    """A query or header value of ASCII digits only, as a number; None for anything else
    (`str.isdigit` alone takes '²' and '٣')."""
    if raw.isascii() and raw.isdigit() and len(raw) <= max_digits:
        return int(raw)
    return None


async def body_of(request: Request, schema: str) -> dict[str, Any]:
    config = service_of(request).config
    value = await read_json(request, limit=config.max_body_bytes, max_depth=config.max_json_depth)
    validate_body(schema, value)
    assert isinstance(value, dict)
    return value


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


async def instance_view(service: Service, ident: str) -> dict[str, Any]:
    access = service.access()
    record = await access.call(access.store.get, ident, instance=ident)
    options = await access.call(access.store.available, ident, instance=ident)
    view = record.as_dict()
    view["available"] = [
        {"event": o.event, "available": o.available, "reason": o.reason, "rule": o.rule}
        for o in options
    ]
    return view


async def start_instance(request: Request) -> JSONResponse:
    service = service_of(request)
    body = await body_of(request, "StartRequest")
    workflow = service.catalog.get(body["workflow"]).name
    access = service.access()
    wanted = body.get("id")
    if wanted is not None and not is_id(wanted):
        raise ServiceProblem("invalid-request", f"field 'id': {ID_RULE}")
    existed = False
    if wanted is not None:
        try:
            await access.call(access.store.get, wanted, instance=wanted)
            existed = True
        except ServiceProblem as problem:
            if problem.type.slug != "unknown-instance":
                raise
    record = await access.call(
        access.store.start,
        workflow,
        body.get("data") or {},
        instance_id=wanted,
        instance=wanted or "",
    )
    view = await instance_view(service, record.id)
    headers = {"Location": f"/instances/{record.id}", **etag(record.version)}
    return JSONResponse(view, status_code=200 if existed else 201, headers=headers)


async def get_instance(request: Request) -> JSONResponse:
    ident = instance_id(request)
    view = await instance_view(service_of(request), ident)
    return JSONResponse(view, headers=etag(view["version"]))


def _query(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is not None and not _FILTER.fullmatch(value):
        raise ServiceProblem(
            "invalid-parameter", f"'{name}' must be 1 to 200 characters, no control character"
        )
    return value


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_PAGE
    number = ascii_number(raw)
    if number is None or not 1 <= number <= MAX_PAGE:
        raise ServiceProblem("invalid-parameter", f"'limit' must be a number from 1 to {MAX_PAGE}")
    return number


def encode_cursor(created: float, ident: str) -> str:
    """Where a page ended: its last instance's creation time (repr: exact) and id."""
    return f"{float(created)!r}~{ident}"


def decode_cursor(text: str) -> tuple[float, str]:
    """Any text of CURSOR_PATTERN names a place in the listing: the pattern is the whole
    rule (a client keeps it opaque all the same)."""
    if _CURSOR.fullmatch(text):
        created, _, ident = text.partition("~")
        return float(created), ident
    raise ServiceProblem("invalid-parameter", "'cursor' is not a cursor this service gave out")


TIME_RULE = "must be a time in seconds since the epoch (a finite number)"


def _time(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = float(raw) if _NUMBER.fullmatch(raw) else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ServiceProblem("invalid-parameter", f"'{name}' {TIME_RULE}")
    return value


def _data(request: Request) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for text in request.query_params.getlist("data"):
        if not _DATA.fullmatch(text):
            raise ServiceProblem("invalid-parameter", f"'data': {DATA_RULE}")
        key, value = data_condition(text)
        found[key] = value
    return found


def listing_filters(request: Request) -> Filters:
    """The filters of a listing request (GET /instances and the studio's operations view)."""
    return Filters(
        workflow=_query(request, "workflow"),
        state=_query(request, "state"),
        outcome=_query(request, "outcome"),
        created_from=_time(request, "created_from"),
        created_to=_time(request, "created_to"),
        updated_from=_time(request, "updated_from"),
        updated_to=_time(request, "updated_to"),
        data=_data(request),
    )


async def list_instances(request: Request) -> JSONResponse:
    service = service_of(request)
    limit = _limit(request)
    cursor = _query(request, "cursor")
    after = decode_cursor(cursor) if cursor is not None else None
    filters = listing_filters(request)
    access = service.access()
    page = await access.call(access.store.page, filters, limit=limit, after=after)
    following = None if page.after is None else encode_cursor(*page.after)
    body = {"instances": [r.as_dict() for r in page.records], "next_cursor": following}
    return JSONResponse(body)


def _event_headers(request: Request) -> tuple[str | None, int | None]:
    key = request.headers.get("idempotency-key")
    if key is not None and not _KEY.fullmatch(key):
        raise ServiceProblem(
            "invalid-parameter", "Idempotency-Key must be 1 to 200 visible ASCII characters"
        )
    match = request.headers.get("if-match")
    version = None
    if match is not None:
        found = _IF_MATCH.fullmatch(match.strip())
        if found is None:
            raise ServiceProblem(
                "invalid-parameter", 'If-Match must be a version in quotes, e.g. "3"'
            )
        version = int(found.group(1))
    return key, version


async def send_event(request: Request) -> JSONResponse:
    service = service_of(request)
    ident = instance_id(request)
    key, version = _event_headers(request)
    body = await body_of(request, "EventRequest")
    event: str = body["event"]
    payload: dict[str, Any] = body.get("payload") or {}
    access = service.access()
    engine = access.pinned_engine(ident)
    if engine is None:
        engine = await access.call(access.engine_of, ident, instance=ident)
    if any(state.handoff for state in engine.workflow.states.values()):
        target = await access.call(access.store.delivery_target, ident, key, instance=ident)
        if target != ident:
            ident = target
            pinned = access.pinned_engine(ident)
            if pinned is None:
                pinned = await access.call(access.engine_of, ident, instance=ident)
            engine = pinned
    workflow = engine.workflow
    if event not in workflow.events or event == TIMEOUT_EVENT:
        known = ", ".join(e for e in workflow.events if e != TIMEOUT_EVENT) or "none"
        shown = event if re.fullmatch(r"[a-z][a-z0-9_]{0,99}", event) else "(a malformed name)"
        raise ServiceProblem(
            "unknown-event", f"workflow '{workflow.name}' has no event '{shown}' (events: {known})"
        )
    problem = engine.check_payload(event, payload)
    if problem:
        raise ServiceProblem("invalid-payload", problem, event=event)
    try:
        with store_errors(ident, access.on_error):
            sent = await service.writer().send(EventRequest(ident, event, payload, key, version))
    except ServiceProblem as conflict:
        if conflict.type.slug != "conflict":
            raise
        raise await _which_conflict(service, ident, key, version) from None
    if service.metrics is not None:
        service.metrics.event(sent, request.scope.get(STARTED_KEY, time.perf_counter()))
    out = sent.as_dict()
    return JSONResponse(out, headers=etag(sent.instance.version))


async def _which_conflict(
    service: Service, ident: str, key: str | None, version: int | None
) -> ServiceProblem:
    """A reused key (409) or a stale If-Match (412): the store says conflict for both."""
    access = service.access()
    if key is not None:
        history = await access.call(access.store.history, ident, instance=ident)
        if any(entry.event_id == key for entry in history):
            return ServiceProblem(
                "idempotency-key-reused",
                f"this Idempotency-Key was already used on instance '{ident}' for another "
                "event or payload; use a new key",
            )
    if version is not None:
        current = await access.call(access.store.get, ident, instance=ident)
        return ServiceProblem(
            "version-mismatch",
            f"instance '{ident}' is at version {current.version}, not the one in If-Match: "
            "read it again",
            current_version=current.version,
        )
    return ServiceProblem("conflict", f"the event conflicts with instance '{ident}'")


async def instance_history(request: Request) -> JSONResponse:
    ident = instance_id(request)
    access = service_of(request).access()
    entries = await access.call(access.store.history, ident, instance=ident)
    return JSONResponse({"instance": ident, "history": [e.as_dict() for e in entries]})


FEED_NUMBER_RULE = f"must be a feed number from 0 to {MAX_FEED_NUMBER} (ASCII digits)"


def feed_number(raw: str, name: str) -> int:
    """A feed number of a query parameter or header (18 digits at most)."""
    number = ascii_number(raw)
    if number is None or number > MAX_FEED_NUMBER:
        raise ServiceProblem("invalid-parameter", f"{name} {FEED_NUMBER_RULE}")
    return number


def _after(request: Request) -> int:
    return feed_number(request.query_params.get("after", "0"), "'after'")


async def read_feed(request: Request) -> JSONResponse:
    after = _after(request)
    limit = _limit(request)
    access = service_of(request).access()
    entries = await access.call(access.store.feed, after, limit + 1)
    page = entries[:limit]
    last = page[-1].seq if page else after
    body = {"entries": [e.as_dict() for e in page], "last": last, "more": len(entries) > limit}
    return JSONResponse(body)


async def instances(request: Request) -> JSONResponse:
    """One route for both methods, so a 405 there lists both in Allow."""
    if request.method == "POST":
        return await start_instance(request)
    return await list_instances(request)


#: Sending an event first: the router tries routes in order, and events are most requests.
#: (No two of these paths match the same request, so the order changes nothing else.)
ROUTES = [
    Route("/instances/{id}/events", send_event, methods=["POST"]),
    Route("/instances", instances, methods=["GET", "POST"]),
    Route("/instances/{id}", get_instance, methods=["GET"]),
    Route("/instances/{id}/history", instance_history, methods=["GET"]),
    Route("/feed", read_feed, methods=["GET"]),
]
