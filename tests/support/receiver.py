"""A webhook receiver for the tests: Starlette served by uvicorn on 127.0.0.1 in a thread.

It verifies every request's signature with the standardwebhooks library and records each
attempt (webhook id, the feed entry, when, what it answered). `fault` decides the answer of
each attempt from the webhook id and how many times that id came before: an int status, a
(status, Retry-After) pair, "slow" (answers after `slow_seconds`) or None (204).
"""

from __future__ import annotations

import asyncio
import base64
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.in_thread import served

SECRET = "whsec_" + base64.b64encode(b"linkflow-test-signing-key-0123456").decode()
Fault = Callable[[str, int], Any]


def write_secret(folder: Path) -> str:
    """A secret file holding SECRET in `folder`, as `webhooks add --secret-file` reads it."""
    path = folder / "webhook.secret"
    path.write_text(SECRET + "\n", encoding="utf-8")
    return str(path)


@dataclass
class Attempt:
    webhook_id: str
    seq: int
    instance: str
    event: str
    at: float
    status: int


@dataclass
class Receiver:
    url: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    bad_signatures: int = 0
    fault: Fault = lambda webhook_id, before: None
    slow_seconds: float = 2.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[Attempt]:
        """The attempts answered 2xx, in the order they arrived."""
        with self.lock:
            return [a for a in self.attempts if 200 <= a.status < 300]

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        try:
            message = Webhook(SECRET).verify(body, dict(request.headers))
        except WebhookVerificationError:
            with self.lock:
                self.bad_signatures += 1
            return Response(status_code=400)
        webhook_id = request.headers["webhook-id"]
        with self.lock:
            before = sum(1 for a in self.attempts if a.webhook_id == webhook_id)
        answer = self.fault(webhook_id, before)
        headers = {}
        status = 204
        if answer == "slow":
            await asyncio.sleep(self.slow_seconds)
        elif isinstance(answer, tuple):
            status, headers = answer[0], {"Retry-After": str(answer[1])}
        elif isinstance(answer, int):
            status = answer
        data = message["data"]
        with self.lock:
            self.attempts.append(
                Attempt(
                    webhook_id, data["seq"], data["instance"], data["event"], time.time(), status
                )
            )
        return Response(status_code=status, headers=headers)


@contextmanager
def receiving(fault: Fault | None = None) -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 (a free port) until the block ends."""
    receiver = Receiver()
    if fault is not None:
        receiver.fault = fault
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    with served(app, "the test receiver") as port:
        receiver.url = f"http://127.0.0.1:{port}/hook"
        yield receiver


@contextmanager
def resetting() -> Iterator[str]:
    """A URL on 127.0.0.1 whose server accepts each connection and resets it at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(5)
        sock.close()
