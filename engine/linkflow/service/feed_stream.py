"""`GET /feed/stream`: the change feed as server-sent events.

Each accepted step is one event whose `id` is its feed number, so a client that reconnects
with `Last-Event-ID` (browsers do it by themselves) continues exactly where it stopped: nothing
missed, nothing repeated. The store is polled; a stream ends after a while with a `retry` hint,
so a shutting-down server is never held open by its listeners. A store that stops answering
while a stream is open (a database failing over) ends the stream cleanly too (the store error
is logged once): the client reconnects, is answered 503 until the store is back, then goes on.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from linkflow.service.instances import feed_number
from linkflow.service.problems import ServiceProblem
from linkflow.service.state import service_of

POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 10.0
BATCH = 200


def _start_after(request: Request) -> int:
    """Last-Event-ID when sent (not empty), else `after`; both are checked when both come."""
    after = feed_number(request.query_params.get("after", "0"), "'after'")
    header = request.headers.get("last-event-id")
    return feed_number(header, "Last-Event-ID") if header else after


async def feed_stream(request: Request) -> StreamingResponse:
    service = service_of(request)
    after = _start_after(request)
    access = service.access()
    await access.call(access.store.feed, after, 1)  # a store that is down is a 503, up front
    seconds = service.config.stream_seconds

    async def events() -> AsyncIterator[str]:
        nonlocal after
        yield "retry: 1000\n\n"
        ends = time.monotonic() + seconds
        quiet_since = time.monotonic()
        while time.monotonic() < ends and not service.stopping.is_set():
            try:
                entries = await access.call(access.store.feed, after, BATCH)
            except ServiceProblem:  # the store went away: end here, the client reconnects
                return
            for entry in entries:
                data = json.dumps(entry.as_dict(), separators=(",", ":"))
                yield f"id: {entry.seq}\nevent: step\ndata: {data}\n\n"
                after = entry.seq
            if entries:
                quiet_since = time.monotonic()
                if len(entries) == BATCH:
                    continue
            elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            with anyio.move_on_after(POLL_SECONDS):
                await service.stopping.wait()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


ROUTES = [Route("/feed/stream", feed_stream, methods=["GET"])]
