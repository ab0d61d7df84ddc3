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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        # No Origin: not a cross-origin request, so all CORSMiddleware would do is add
        # "Origin" to the answer's Vary header; done here without parsing the headers.
        async def send_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                _vary_origin(message)
            await send(message)

        await self.app(scope, receive, send_vary)

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


def _vary_origin(message: Message) -> None:
    """What CORSMiddleware.send does to an answer to a request without Origin: every Vary
    header joined into the first one, with "Origin" added (appended when there is none)."""
    headers = message["headers"] = list(message.get("headers", []))
    found = [n for n, (name, _) in enumerate(headers) if name == b"vary"]
    values = [bytes(headers[n][1]).decode("latin-1") for n in found]
    value = (b"vary", ", ".join([*values, "Origin"]).encode("latin-1"))
    for n in reversed(found[1:]):
        del headers[n]
    if found:
        headers[found[0]] = value
    else:
        headers.append(value)
