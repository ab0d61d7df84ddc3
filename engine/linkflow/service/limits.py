"""Reading a request before it takes a slot, and load shedding once it has.

A request's body is read first, within `read_timeout` seconds of its headers and up to
`max_body_bytes` (a declared Content-Length above it is refused before a byte is read, so an
`Expect: 100-continue` client is answered 413 at once instead of 100). A body that does not
arrive in time is answered 408; either way the connection is closed, since the rest of the body
may still be on its way. Only then is a slot taken: a client that sends its body slowly holds a
connection, never a place among the requests in flight.

Past a number of requests in flight, the answer is 503 with Retry-After at once. Refusing early
keeps the requests already admitted fast; a client that retries after the given seconds finds
room. Long-lived streams count against their own, separate limit.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from linkflow.service.problems import problem_response

#: The scope key holding the whole body once read here, so that a handler does not read it
#: again (linkflow.service.body).
BODY_KEY = "linkflow.body"
STREAM_PATHS = frozenset({"/feed/stream"})
RETRY_AFTER_SECONDS = 1
CLOSE = {"Connection": "close"}


def _declared_length(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bytes(value).decode("latin-1")
    return None


class _Early(Exception):
    """The request is answered before the app sees it (too slow, too large, gone)."""

    def __init__(self, slug: str | None, detail: str = "", **extra: object) -> None:
        super().__init__(slug)
        self.slug = slug
        self.detail = detail
        self.extra = extra


async def _read_all(receive: Receive, seconds: float, limit: int) -> list[Message]:
    """Every message of the request's body, within `seconds` and `limit` bytes."""
    messages: list[Message] = []
    size = 0
    try:
        # asyncio's own timeout: the service runs on asyncio only (the writer's futures), and
        # it costs a third less per request than an anyio cancel scope.
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Early(None)
                messages.append(message)
                size += len(message.get("body", b""))
                if size > limit:
                    raise _Early(
                        "body-too-large", f"the body is larger than {limit} bytes", limit=limit
                    )
                if not message.get("more_body", False):
                    return messages
    except TimeoutError:
        raise _Early(
            "request-timeout", f"the request's body did not arrive within {seconds:g} s"
        ) from None


class ConcurrencyLimit:
    """ASGI middleware: reads the body (see above), then counts requests in flight (streams
    apart)."""

    def __init__(
        self,
        app: ASGIApp,
        max_requests: int,
        max_streams: int,
        read_timeout: float = 10.0,
        max_body_bytes: int = 1024 * 1024,
    ) -> None:
        self.app = app
        self.limits = {"requests": max_requests, "streams": max_streams}
        self.in_flight = {"requests": 0, "streams": 0}
        self.read_timeout = read_timeout
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            receive = await self._read_body(scope, receive)
        except _Early as early:
            if early.slug is not None:
                response = problem_response(early.slug, early.detail, headers=CLOSE, **early.extra)
                await response(scope, receive, send)
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

    async def _read_body(self, scope: Scope, receive: Receive) -> Receive:
        """A `receive` that hands the app the body already read, then the connection's own."""
        declared = _declared_length(scope)
        limit = self.max_body_bytes
        if declared is not None and declared.isascii() and declared.isdigit():  # noqa: SIM102
            # more digits than any limit has is too large (and int() refuses over 4,300)
            if len(declared) > 18 or int(declared) > limit:
                raise _Early(
                    "body-too-large", f"the body is larger than {limit} bytes", limit=limit
                )
        messages = await _read_all(receive, self.read_timeout, limit)
        scope[BODY_KEY] = b"".join(m.get("body", b"") for m in messages)

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        return replay
