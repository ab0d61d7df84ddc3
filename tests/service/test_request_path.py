"""The request path's shortcuts answer exactly as the general code they stand in for."""

from __future__ import annotations

import asyncio

import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from linkflow.service.cors import METHODS, Cors

ANSWERS = {
    "no vary": [(b"content-type", b"application/json")],
    "one vary": [(b"vary", b"Accept"), (b"content-type", b"application/json")],
    "two vary": [(b"vary", b"Accept"), (b"etag", b'"3"'), (b"vary", b"Cookie")],
    "no headers": None,
}


def _answered(
    middleware: type[CORSMiddleware], headers: list[tuple[bytes, bytes]] | None
) -> Message:
    """The start message a request without Origin gets through `middleware`."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {"type": "http.response.start", "status": 200}
        if headers is not None:
            start["headers"] = list(headers)
        await send(start)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    wrapped: CORSMiddleware = (
        Cors(app, origins=())
        if middleware is Cors
        else CORSMiddleware(app, allow_origins=(), allow_methods=METHODS)
    )
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"host", b"x")]}
    asyncio.run(wrapped(scope, receive, send))
    return sent[0]


@pytest.mark.parametrize("headers", ANSWERS.values(), ids=ANSWERS.keys())
def test_no_origin_vary_is_starlettes(headers: list[tuple[bytes, bytes]] | None) -> None:
    assert _answered(Cors, headers) == _answered(CORSMiddleware, headers)
