"""Effects in the service: the `/effects` routes and the in-process worker.

The routes sit behind the same bearer token as every other route and only read the outbox or
put a dead or failed effect back to pending; they never perform a call. Answers carry an
effect's call (where it goes, which service, the Idempotency-Key) and its outcome in brief,
never a secret: the outbox holds none.

The worker (linkflow.effects.worker) runs as a background task of each service process, like
the webhook deliverer, unless `linkflow serve --no-effects` leaves the effects to separate
`linkflow worker` processes. Claims have leases, so several processes on one PostgreSQL store
never perform one effect at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from linkflow.effects.worker import Options, Worker
from linkflow.service.instances import (
    DEFAULT_PAGE,
    ID_RULE,
    MAX_PAGE,
    decode_cursor,
    encode_cursor,
    instance_id,
    is_id,
)
from linkflow.service.openapi_effects import EFFECT_ID_PATTERN, EFFECT_STATUSES
from linkflow.service.problems import ServiceProblem
from linkflow.service.request_log import log_event
from linkflow.service.state import Service, service_of
from linkflow.store import NotFound
from linkflow.store.errors import Conflict
from linkflow.store.outbox import Outbox

#: Seconds between two reads of the effect counts the /metrics gauges show.
COUNTS_INTERVAL = 5.0


class _Unknown(Exception):
    pass


class _NotRetryable(Exception):
    pass


def _outbox(service: Service) -> Outbox:
    return Outbox(service.access().store)


def _effect_id(request: Request) -> str:
    found = str(request.path_params["id"])
    if not re.fullmatch(EFFECT_ID_PATTERN, found):
        raise ServiceProblem("invalid-id", "an effect id is 'ef_' and 16 hex digits")
    return found


async def _call(service: Service, work: Any, *args: Any, **kw: Any) -> Any:
    """`work` in a worker thread; an unknown effect is a 404 `unknown-effect`, a retry of an
    effect that is neither dead nor failed a 409 `conflict`."""

    def call() -> Any:
        try:
            return work(*args, **kw)
        except NotFound:
            raise _Unknown from None
        except Conflict as err:
            raise _NotRetryable(str(err)) from None

    try:
        return await service.access().call(call)
    except _Unknown:
        raise ServiceProblem("unknown-effect", "no effect by that id") from None
    except _NotRetryable as err:
        raise ServiceProblem("conflict", str(err)) from None


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", str(DEFAULT_PAGE))
    # at most 9 digits: int() refuses text of over 4,300 digits with a ValueError
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or not 1 <= int(raw) <= MAX_PAGE:
        raise ServiceProblem("invalid-parameter", f"'limit' must be a number from 1 to {MAX_PAGE}")
    return int(raw)


async def list_effects(request: Request) -> JSONResponse:
    """GET /effects: newest first, by status and instance, keyset paging by `cursor`."""
    service = service_of(request)
    status = request.query_params.get("status")
    if status is not None and status not in EFFECT_STATUSES:
        raise ServiceProblem(
            "invalid-parameter", f"'status' must be one of {', '.join(EFFECT_STATUSES)}"
        )
    instance = request.query_params.get("instance")
    if instance is not None and not is_id(instance):
        raise ServiceProblem("invalid-parameter", f"'instance': {ID_RULE}")
    cursor = request.query_params.get("cursor")
    after = decode_cursor(cursor) if cursor is not None else None
    page = await _call(
        service,
        _outbox(service).page,
        status=status,
        instance=instance,
        limit=_limit(request),
        after=after,
    )
    following = None if page.next is None else encode_cursor(*page.next)
    return JSONResponse({"effects": [e.as_dict() for e in page.effects], "next_cursor": following})


async def instance_effects(request: Request) -> JSONResponse:
    """GET /instances/{id}/effects: the instance's effects in the order its steps caused them."""
    service = service_of(request)
    ident = instance_id(request)
    access = service.access()
    await access.call(access.store.get, ident, instance=ident)  # 404 for an unknown one
    found = await _call(service, _outbox(service).of_instance, ident)
    return JSONResponse({"instance": ident, "effects": [e.as_dict() for e in found]})


async def retry_effect(request: Request) -> JSONResponse:
    """POST /effects/{id}/retry: a dead or failed effect back to pending (409 otherwise)."""
    service = service_of(request)
    ident = _effect_id(request)
    effect = await _call(service, _outbox(service).retry, ident)
    log_event("effect retried", logging.INFO, effect=ident)
    return JSONResponse(effect.as_dict())


async def _counts(service: Service) -> None:
    """Keep the /metrics gauges' effect counts fresh (one read per interval)."""
    metrics = service.metrics
    if metrics is None:
        return
    outbox = _outbox(service)
    while not service.stopping.is_set():
        with contextlib.suppress(Exception):  # a store down: the gauges keep their last value
            metrics.effect_counts = await asyncio.to_thread(outbox.counts)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(service.stopping.wait(), timeout=COUNTS_INTERVAL)


async def effects_loop(service: Service) -> None:
    """Until the service stops: perform the outbox's due effects. A failing store is logged and
    tried again (Worker.run); a fault of the worker itself restarts it after a second."""
    metrics = service.metrics
    options = Options(concurrency=service.config.effects_concurrency)
    worker = Worker(
        service.access().store,
        options,
        on_outcome=None if metrics is None else metrics.effect_outcome,
    )
    counting = asyncio.create_task(_counts(service))
    while not service.stopping.is_set():
        try:
            await worker.run(stop=service.stopping)
        except Exception as err:  # a fault must not end the effects for the life of the process
            log_event("effects worker failed", logging.ERROR, error=type(err).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(service.stopping.wait(), timeout=1.0)
    await counting
    log_event("effects worker stopped", logging.INFO)


ROUTES = [
    Route("/effects", list_effects, methods=["GET"]),
    Route("/effects/{id}/retry", retry_effect, methods=["POST"]),
    Route("/instances/{id}/effects", instance_effects, methods=["GET"]),
]
