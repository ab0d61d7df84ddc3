"""Load shedding: past a number of requests in flight, answer 503 with Retry-After at once.

Refusing early keeps the requests already admitted fast; a client that retries after the given
seconds finds room. Long-lived streams count against their own, separate limit.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from linkflow.service.problems import problem_response

STREAM_PATHS = frozenset({"/feed/stream"})
RETRY_AFTER_SECONDS = 1


class ConcurrencyLimit:
    """ASGI middleware counting requests in flight (streams apart)."""

    def __init__(self, app: ASGIApp, max_requests: int, max_streams: int) -> None:
        self.app = app
        self.limits = {"requests": max_requests, "streams": max_streams}
        self.in_flight = {"requests": 0, "streams": 0}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = "streams" if scope["path"] in STREAM_PATHS else "requests"
        if self.in_flight[kind] >= self.limits[kind]:
            response = problem_response(
                "overloaded",
                f"more than {self.limits[kind]} {kind} at once; retry after "
                f"{RETRY_AFTER_SECONDS} s",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
            return
        self.in_flight[kind] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[kind] -= 1
