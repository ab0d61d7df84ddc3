"""RFC 9457 problem documents: every error the service answers has a stable `type`.

A client branches on `type` (never on `title` or `detail`, which are words for people). The
types are URNs so they never pretend to be a web page that does not exist. `detail` is written
by the service and never repeats a value the client sent, so a secret cannot leak through it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"
PREFIX = "urn:linkflow:problem:"


@dataclass(frozen=True, slots=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return PREFIX + self.slug


_TYPES = [
    ProblemType("malformed-json", 400, "The request body is not valid JSON"),
    ProblemType("json-too-deep", 400, "The request body nests too deeply"),
    ProblemType("invalid-request", 400, "The request does not have the expected form"),
    ProblemType("invalid-parameter", 400, "A query parameter or header has a wrong value"),
    ProblemType("invalid-id", 400, "An id in the path does not have the expected form"),
    ProblemType("unauthorized", 401, "A valid bearer token is required"),
    ProblemType("cors-refused", 403, "The cross-origin request is not allowed"),
    ProblemType("not-found", 404, "No such resource"),
    ProblemType("unknown-workflow", 404, "No workflow by that name"),
    ProblemType("unknown-instance", 404, "No instance by that id"),
    ProblemType("unknown-webhook", 404, "No webhook subscriber by that id"),
    ProblemType("unknown-effect", 404, "No effect by that id"),
    ProblemType("method-not-allowed", 405, "The method is not allowed on this resource"),
    ProblemType("not-acceptable", 406, "The response cannot be given in the requested type"),
    ProblemType("request-timeout", 408, "The request did not arrive in time"),
    ProblemType("conflict", 409, "The request conflicts with what the store holds"),
    ProblemType("action-not-allowed", 409, "The instance does not allow this action now"),
    ProblemType("idempotency-key-reused", 409, "The Idempotency-Key was used for other content"),
    ProblemType("version-mismatch", 412, "The instance changed since the version given"),
    ProblemType("body-too-large", 413, "The request body is larger than the limit"),
    ProblemType("unsupported-media-type", 415, "The request body must be application/json"),
    ProblemType("unknown-event", 422, "The workflow has no such event"),
    ProblemType("invalid-payload", 422, "The payload does not fit the event's schema"),
    ProblemType("invalid-data", 422, "The data do not fit the workflow"),
    ProblemType("headers-too-large", 431, "The request's headers are larger than the limit"),
    ProblemType("overloaded", 503, "Too many requests at once; retry shortly"),
    ProblemType("store-unavailable", 503, "The store cannot be reached; retry shortly"),
    ProblemType("internal-error", 500, "The service failed; nothing was changed"),
]
TYPES: Mapping[str, ProblemType] = {t.slug: t for t in _TYPES}


class ServiceProblem(Exception):
    """Raised anywhere in a request; the app turns it into a problem+json response."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        if slug not in TYPES:  # pragma: no cover - a programming error, caught by the tests
            raise KeyError(f"unknown problem type {slug!r}")
        super().__init__(detail)
        self.type = TYPES[slug]
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


def problem_bytes(slug: str, detail: str, headers: Mapping[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response (closing the connection) for the protocol layer, which
    answers before any ASGI app runs (a request too slow or too large to parse, a connection
    over the cap); `headers` are added (Retry-After)."""
    kind = TYPES[slug]
    body = json.dumps(
        {"type": kind.uri, "title": kind.title, "status": kind.status, "detail": detail},
        separators=(",", ":"),
    ).encode("utf-8")
    reason = HTTPStatus(kind.status).phrase
    head = (
        f"HTTP/1.1 {kind.status} {reason}\r\ncontent-type: {MEDIA_TYPE}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        + "\r\n"
    )
    return head.encode("ascii") + body


def problem_response(
    slug: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    kind = TYPES[slug]
    body: dict[str, Any] = {
        "type": kind.uri,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
    }
    body.update(extra)
    return JSONResponse(body, status_code=kind.status, headers=headers, media_type=MEDIA_TYPE)


def response_for(problem: ServiceProblem) -> JSONResponse:
    return problem_response(
        problem.type.slug,
        problem.detail,
        headers=problem.headers,
        **problem.extra,
    )
