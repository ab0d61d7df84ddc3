"""A Starlette app served by uvicorn on a thread of the test process, on 127.0.0.1.

The fake API (effects) and the webhook receiver both need one: their own handlers, one way to
start and stop the server, so a slow start fails the same way in both.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette

#: How long a server may take to start listening before the test fails.
START_SECONDS = 10


@contextmanager
def served(app: Starlette, what: str, grace: int | None = None) -> Iterator[int]:
    """`app` listening on 127.0.0.1 (a free port, yielded) until the block ends; `grace`
    bounds uvicorn's graceful shutdown in seconds (None: uvicorn's own default)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", timeout_graceful_shutdown=grace
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover - a machine far too slow
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.01)
    try:
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
