"""SIGTERM: requests in flight finish, streams end promptly, the process exits 0, and every
event that was answered 2xx is in history exactly once."""

from __future__ import annotations

import collections
import signal
import threading
import time
from pathlib import Path

import httpx

from linkflow.store import Store
from tests.service.conftest import TEST_WORKFLOWS, new_store
from tests.service.server import ServiceProcess


def _client(
    url: str, ident: str, number: int, stop: threading.Event, statuses: dict[str, int | str]
) -> None:
    """Send up to 200 events (each with its own idempotency key) until `stop`, recording each
    answer's status, or the transport error that ended the client."""
    with httpx.Client(base_url=url, timeout=10.0) as http:
        i = 0
        while not stop.is_set() and i < 200:
            key = f"c{number}-{i}"
            try:
                response = http.post(
                    f"/instances/{ident}/events",
                    json={"event": "add", "payload": {"item": key}},
                    headers={"Idempotency-Key": key},
                )
                statuses[key] = response.status_code
            except httpx.TransportError as err:
                statuses[key] = type(err).__name__
                return
            i += 1


def _listen(url: str, streamed: list[str]) -> None:
    """Hold the feed stream open, recording its lines ("cut" when the connection drops)."""
    with httpx.Client(base_url=url, timeout=30.0) as http:
        try:
            with http.stream("GET", "/feed/stream") as stream:
                for line in stream.iter_lines():
                    streamed.append(line)
        except httpx.TransportError:
            streamed.append("cut")


def test_sigterm_lets_requests_finish_and_exits_cleanly(request: object, tmp_path: Path) -> None:
    url = new_store("sqlite", request, tmp_path)  # type: ignore[arg-type]
    service = ServiceProcess(*TEST_WORKFLOWS, store=url).start()
    try:
        with service.client() as http:
            ident = http.post(
                "/instances", json={"workflow": "tally", "data": {"board": "main"}}
            ).json()["id"]
        statuses: dict[str, int | str] = {}
        stop = threading.Event()
        streamed: list[str] = []
        threads = [
            threading.Thread(target=_client, args=(service.url, ident, n, stop, statuses))
            for n in range(4)
        ]
        listener = threading.Thread(target=_listen, args=(service.url, streamed))
        listener.start()
        for thread in threads:
            thread.start()
        warm = time.monotonic() + 20
        while len(statuses) < 8 and time.monotonic() < warm:
            time.sleep(0.05)
        began = time.monotonic()
        code = service.stop(timeout=30)
        took = time.monotonic() - began
        stop.set()
        for thread in [*threads, listener]:
            thread.join(30)
        logs = service.logs()
    finally:
        service.close()
    # uvicorn ends by re-raising the signal it caught, once everything is done: -SIGTERM.
    assert code in (0, -signal.SIGTERM), logs[-2000:]
    assert took < 8, f"shutdown took {took:.1f} s: the open stream held it"
    answered = {k: s for k, s in statuses.items() if isinstance(s, int)}
    assert answered, "no request was answered before the shutdown"
    assert all(200 <= s < 300 for s in answered.values()), answered
    assert "Traceback" not in logs
    with Store.open(url) as store:
        keys = collections.Counter(h.event_id for h in store.history(ident) if h.event_id)
    for key in answered:
        assert keys[key] == 1
    assert "timer loop stopped" in logs
