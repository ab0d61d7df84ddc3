"""Cross-origin requests (CORS): none allowed unless the service is given origins.

Starlette's CORSMiddleware does the work; only its refusal of a preflight is answered as a
problem document (403 `cors-refused`, naming what was refused: origin, method or headers,
never the value sent). With no origin allowed (the default) every preflight is refused and no
answer carries `Access-Control-Allow-Origin`, so a browser lets no other site call the API.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from linkflow.service.problems import problem_response

METHODS = ("GET", "POST")
#: Request headers a browser may send besides the safelisted ones.
REQUEST_HEADERS = ("Authorization", "Idempotency-Key", "If-Match", "Last-Event-ID")
#: Answer headers a browser's script may read besides the safelisted ones.
EXPOSED_HEADERS = ("ETag", "Location", "Retry-After")
MAX_AGE_SECONDS = 600


class Cors(CORSMiddleware):
    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=tuple(origins),
            allow_methods=METHODS,
            allow_headers=REQUEST_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=MAX_AGE_SECONDS,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        text = bytes(answer.body).decode("utf-8", "replace")
        refused = text.removeprefix("Disallowed CORS ") or "the request"
        headers = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() not in ("content-type", "content-length")
        }
        allowed = "no origin is allowed" if not self.allow_origins else "see --cors-origin"
        return problem_response(
            "cors-refused",
            f"this cross-origin request is not allowed ({refused}; {allowed})",
            headers=headers,
        )
