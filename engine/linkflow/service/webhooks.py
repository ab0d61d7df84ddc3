"""Webhooks in the service: the `/webhooks` routes and the in-process deliverer.

The routes sit behind the same bearer token as every other route. A subscriber names a secret
file on the service's host; the file must hold a Standard Webhooks secret (`whsec_` + base64),
so a path to any other file is refused (422) and never used to sign. Answers give the path, never
the secret, and problem details never repeat what the client sent.

The deliverer (linkflow.effects.webhooks) runs as a background task of each service process,
like the timer loop: subscribers are claimed with a lease, so several processes on one
PostgreSQL store never deliver one subscriber's entries at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from linkflow.effects.webhooks import Deliverer, Policy, check_secret_file
from linkflow.errors import UsageError
from linkflow.service.instances import body_of
from linkflow.service.openapi_webhooks import WEBHOOK_ID_PATTERN
from linkflow.service.problems import ServiceProblem
from linkflow.service.request_log import log_event
from linkflow.service.state import Service, service_of
from linkflow.store import NotFound
from linkflow.store.webhooks import Webhooks


class _Unknown(Exception):
    pass


def _hooks(service: Service) -> Webhooks:
    return Webhooks(service.access().store)


def _webhook_id(request: Request) -> str:
    found = str(request.path_params["id"])
    if not re.fullmatch(WEBHOOK_ID_PATTERN, found):
        raise ServiceProblem("invalid-id", "a webhook id is 'wh_' and 16 hex digits")
    return found


async def _call(service: Service, work: Any, *args: Any) -> Any:
    """`work` in a worker thread; an unknown subscriber is a 404 `unknown-webhook`."""

    def call() -> Any:
        try:
            return work(*args)
        except NotFound:
            raise _Unknown from None

    try:
        return await service.access().call(call)
    except _Unknown:
        raise ServiceProblem("unknown-webhook", "no webhook subscriber by that id") from None


async def list_webhooks(request: Request) -> JSONResponse:
    service = service_of(request)
    found = await _call(service, _hooks(service).subscribers)
    return JSONResponse({"webhooks": [s.as_dict() for s in found]})


def _add(hooks: Webhooks, body: dict[str, Any]) -> Any:
    try:
        path = check_secret_file(body["secret_file"])
    except UsageError:
        raise ServiceProblem(
            "invalid-data",
            "the secret file cannot be read by the service or holds no webhook secret "
            "('whsec_' followed by base64)",
        ) from None
    return hooks.add(body["url"], body["events"], path, after=body.get("after"))


async def add_webhook(request: Request) -> JSONResponse:
    service = service_of(request)
    body = await body_of(request, "WebhookRequest")
    added = await _call(service, _add, _hooks(service), body)
    log_event("webhook added", logging.INFO, webhook=added.id)
    return JSONResponse(
        added.as_dict(), status_code=201, headers={"Location": f"/webhooks/{added.id}"}
    )


async def remove_webhook(request: Request) -> Response:
    service = service_of(request)
    ident = _webhook_id(request)
    await _call(service, _hooks(service).remove, ident)
    log_event("webhook removed", logging.INFO, webhook=ident)
    return Response(status_code=204)


async def retry_webhook(request: Request) -> JSONResponse:
    service = service_of(request)
    ident = _webhook_id(request)
    count = await _call(service, _hooks(service).retry, ident)
    log_event("webhook dead deliveries requeued", logging.INFO, webhook=ident, count=count)
    return JSONResponse({"id": ident, "requeued": count})


async def webhook_loop(service: Service) -> None:
    """Until the service stops: deliver what the feed holds for each subscriber. A failing
    store is logged and tried again after one interval (Deliverer.run)."""
    metrics = service.metrics
    deliverer = Deliverer(
        service.access().store,
        Policy(),
        on_result=None if metrics is None else metrics.webhook_result,
    )
    if metrics is not None:
        metrics.webhooks_pending = lambda: deliverer.pending
    interval = service.config.webhook_interval
    while not service.stopping.is_set():
        try:
            await deliverer.run(poll=interval, stop=service.stopping)
        except Exception as err:  # a fault must not end delivery for the life of the process
            log_event("webhook deliverer failed", logging.ERROR, error=type(err).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(service.stopping.wait(), timeout=interval)
    log_event("webhook deliverer stopped", logging.INFO)


async def webhooks(request: Request) -> Response:
    """`/webhooks`: one route for both methods, so a 405 there lists both in `Allow`."""
    if request.method == "POST":
        return await add_webhook(request)
    return await list_webhooks(request)


ROUTES = [
    Route("/webhooks", webhooks, methods=["GET", "POST"]),
    Route("/webhooks/{id}", remove_webhook, methods=["DELETE"]),
    Route("/webhooks/{id}/retry", retry_webhook, methods=["POST"]),
]
