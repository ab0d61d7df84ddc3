"""A fake API for the effects tests: Starlette on 127.0.0.1, with faults chosen by path.

Like a careful real API, it applies each `Idempotency-Key` once: the first request that
succeeds records its answer, and a later request with that key gets the recorded answer
back (counted in `replayed`), nothing applied again. `applied[key]` counts applications (the
tests assert every key's count is 1); `requests` records every request (path, key, status).

Paths (query parameters in brackets):

- `/ok`: 200 `{"id": ..., "score": 7}`, applied;
- `/fail[?times=N&status=S]`: the first N requests of each key answer S (500), then as `/ok`;
- `/limited[?times=N&after=SECONDS&date=1]`: the first N requests of each key answer 429 with
  `Retry-After` (seconds, or an HTTP date with `date=1`), then as `/ok`;
- `/slow[?seconds=S]`: answers as `/ok` after S seconds (applied when it answers, so a client
  that gave up meanwhile finds it applied on its next attempt);
- `/hang`: never answers;
- `/bad`: 200 with a body that fails a response schema declaring `id` a string;
- `/missing`: 404, not applied;
- `/big`: 200 with a body of 2 MiB;
- `/delay[?ms=N]`: as `/ok` after N milliseconds (the crash tests' mid-call window);
- `/orders/ID/reserve`: the example supplier (examples/supplier_order): 200
  `{"reservation_id": "res-ID", "eta_days": 5}`, applied; `/orders/none-.../reserve` answers
  409 (no stock), not applied.

`python tests/support/fake_api.py PORT_FILE` serves it in a process of its own (the benchmark
and the crash tests' subprocess workers need none of it in the test process) and writes its
port to PORT_FILE once listening.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.in_thread import served

#: `/big` answers this many bytes (over the worker's 1 MiB bound).
BIG = 2 << 20


@dataclass
class FakeApi:
    url: str = ""
    #: (path, Idempotency-Key, status answered) of every request, in arrival order.
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)
    replayed: int = 0
    #: The Authorization header of every request (the tests check the secret arrived).
    authorizations: list[str] = field(default_factory=list)
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    #: Requests answered so far by (Idempotency-Key, path).
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: (path, Idempotency-Key) of every request as it arrives, before it is answered.
    arrived: list[tuple[str, str]] = field(default_factory=list)
    #: Set when the server stops: a `/hang` request then ends (503) instead of being killed.
    closing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, path: str) -> list[tuple[str, str, int]]:
        with self.lock:
            return [r for r in self.requests if r[0] == path]

    def _seen(self, key: str, path: str) -> int:
        return self.seen[(key, path)]

    def _note(self, path: str, key: str, status: int) -> None:
        with self.lock:
            self.requests.append((path, key, status))
            self.seen[(key, path)] += 1

    def _apply(self, path: str, key: str, body: Any) -> Response:
        """Apply the request once per key; a repeat gets the recorded answer."""
        with self.lock:
            if key in self.answers:
                self.replayed += 1
                status, body = self.answers[key]
            else:
                status = 200
                self.applied[key] += 1
                self.answers[key] = (status, body)
            self.requests.append((path, key, status))
            self.seen[(key, path)] += 1
        return Response(json.dumps(body), status, media_type="application/json")

    async def handle(self, request: Request) -> Response:
        path = "/" + request.path_params["name"]
        key = request.headers.get("idempotency-key", "")
        with self.lock:
            self.arrived.append((path, key))
        self.authorizations.append(request.headers.get("authorization", ""))
        await request.body()
        with self.lock:
            before = self._seen(key, path)
            known = key in self.answers
        ok = {"id": f"r-{key[:8]}", "score": 7}
        if not known:
            faulty = await self._fault(path, key, before, request.query_params)
            if faulty is not None:
                return faulty
        if path.startswith("/orders/") and path.endswith("/reserve"):
            order = path.removeprefix("/orders/").removesuffix("/reserve")
            if order.startswith("none-"):
                self._note(path, key, 409)
                return Response(json.dumps({"error": "no stock"}), 409)
            return self._apply(path, key, {"reservation_id": f"res-{order}", "eta_days": 5})
        return self._apply(path, key, {"id": 12345} if path == "/bad" else ok)

    async def _fault(self, path: str, key: str, before: int, query: Any) -> Response | None:
        """The answer of a path's fault, or None to apply the request."""
        if path == "/fail" and before < int(query.get("times", "2")):
            status = int(query.get("status", "500"))
            self._note(path, key, status)
            return Response(json.dumps({"error": "try later"}), status)
        if path == "/limited" and before < int(query.get("times", "1")):
            after = float(query.get("after", "1"))
            when = formatdate(time.time() + after, usegmt=True)
            value = when if "date" in query else str(int(after))
            self._note(path, key, 429)
            return Response("slow down", 429, headers={"Retry-After": value})
        if path == "/slow":
            await asyncio.sleep(float(query.get("seconds", "2")))
        elif path == "/delay":
            await asyncio.sleep(int(query.get("ms", "20")) / 1000)
        elif path == "/hang":
            self._note(path, key, 0)
            while not self.closing:
                await asyncio.sleep(0.05)
            return Response("stopping", 503)
        elif path == "/missing":
            self._note(path, key, 404)
            return Response(json.dumps({"error": "no such thing"}), 404)
        elif path == "/big":
            self._note(path, key, 200)
            return Response(b"[" + b"0," * (BIG // 2) + b"0]", 200, media_type="application/json")
        return None


def _app(api: FakeApi) -> Starlette:
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{name:path}", api.handle, methods=methods)])


@contextmanager
def fake_api() -> Iterator[FakeApi]:
    """The fake API listening on 127.0.0.1 (a free port) until the block ends."""
    api = FakeApi()
    with served(_app(api), "the fake API", grace=1) as port:
        api.url = f"http://127.0.0.1:{port}"
        try:
            yield api
        finally:
            api.closing = True  # a hanging answer ends, so the server can stop


def main(port_file: str) -> None:
    """Serve in this process until killed; the port goes to `port_file` once listening, and
    at exit (SIGTERM) every key's application count goes beside it, as JSON."""
    import signal  # noqa: PLC0415 - only the stand-alone process needs it

    api = FakeApi()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with served(_app(api), "the fake API", grace=1) as port:
        Path(port_file).write_text(str(port), encoding="utf-8")
        stop.wait()
        api.closing = True
    counts = {"applied": dict(api.applied), "replayed": api.replayed, "requests": len(api.requests)}
    Path(port_file + ".json").write_text(json.dumps(counts), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
