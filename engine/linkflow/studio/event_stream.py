"""The studio's server-sent events: each open page hears when the playground or a stored
instance changed, and reloads what it shows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from linkflow.studio.state import studio_of

#: How often an idle event stream sends a comment, so proxies and browsers keep it open.
KEEPALIVE_SECONDS = 15.0


async def events(request: Request) -> Response:
    studio = studio_of(request)
    queue = studio.hub.subscribe()

    async def stream() -> AsyncIterator[str]:
        # read `stop` now, not at create_app: a host app may have put its own signal there
        stopping = asyncio.ensure_future(studio.streams.stop.wait())
        try:
            yield f"retry: 1000\ndata: {json.dumps({'version': studio.playground.version})}\n\n"
            while True:
                getting = asyncio.ensure_future(queue.get())
                await asyncio.wait(
                    {getting, stopping},
                    timeout=KEEPALIVE_SECONDS,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if stopping.done():
                    getting.cancel()
                    return
                if not getting.done():
                    getting.cancel()
                    yield ": keep-alive\n\n"
                    continue
                message = getting.result()
                if message is None:
                    return
                yield f"data: {message}\n\n"
        finally:
            stopping.cancel()
            studio.hub.unsubscribe(queue)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
