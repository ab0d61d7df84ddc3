"""Operator actions over HTTP: cancel and terminate an instance (store/operator.py says what
each does). The body names the operator (`{"operator": "ana", "reason": "..."}`); the history
entry records it with `via: api`. The same checks as sending an event: the bearer token when
the service has one, If-Match for the version, 404 for an unknown instance; an action the
instance does not allow now is a 409 `action-not-allowed` with the reason, nothing written.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from linkflow.service.instances import body_of, etag, instance_id
from linkflow.service.problems import ServiceProblem
from linkflow.service.state import service_of
from linkflow.store import Conflict, NotAllowed, Sent

_IF_MATCH = re.compile(r'"([0-9]{1,18})"')


def _expected_version(request: Request) -> int | None:
    match = request.headers.get("if-match")
    if match is None:
        return None
    found = _IF_MATCH.fullmatch(match.strip())
    if found is None:
        raise ServiceProblem("invalid-parameter", 'If-Match must be a version in quotes, e.g. "3"')
    return int(found.group(1))


async def _act(request: Request, action: str) -> JSONResponse:
    service = service_of(request)
    ident = instance_id(request)
    version = _expected_version(request)
    body: dict[str, Any] = await body_of(request, "OperatorRequest")
    access = service.access()
    store = access.store
    kwargs: dict[str, Any] = {"by": body["operator"], "via": "api", "expect_version": version}
    if action == "terminate":
        kwargs["reason"] = body.get("reason")
    work = store.terminate if action == "terminate" else store.cancel
    try:
        sent: Sent = await access.call(_unwrapped(work), ident, instance=ident, **kwargs)
    except _Refused as refused:
        raise ServiceProblem("action-not-allowed", refused.reason) from None
    except _Stale:
        current = await access.call(store.get, ident, instance=ident)
        raise ServiceProblem(
            "version-mismatch",
            f"instance '{ident}' is at version {current.version}, not the one in If-Match: "
            "read it again",
            current_version=current.version,
        ) from None
    return JSONResponse(sent.as_dict(), headers=etag(sent.instance.version))


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Stale(Exception):
    pass


def _unwrapped(work: Any) -> Any:
    """`work` with the store's refusals told apart before the store's generic mapping (409
    conflict) sees them: not allowed, or a stale version."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return work(*args, **kwargs)
        except NotAllowed as err:
            raise _Refused(str(err)) from None
        except Conflict:
            raise _Stale from None

    return call


async def cancel_instance(request: Request) -> JSONResponse:
    return await _act(request, "cancel")


async def terminate_instance(request: Request) -> JSONResponse:
    return await _act(request, "terminate")


ROUTES = [
    Route("/instances/{id}/cancel", cancel_instance, methods=["POST"]),
    Route("/instances/{id}/terminate", terminate_instance, methods=["POST"]),
]
