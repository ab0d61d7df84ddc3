"""`/webhooks` over HTTP and the deliverer inside `linkflow serve`: subscribers added by the API
receive the steps sent through it, signed; the answers fit the document; the state shows in
GET /webhooks and /metrics; bad input is a problem, nothing stored; the secret is in no
answer, log line or table."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.conftest import TEST_WORKFLOWS, new_store
from tests.service.server import ServiceProcess
from tests.service.test_openapi import check_response
from tests.support.receiver import SECRET, Receiver, receiving

TOKEN = "webhook-test-token-0123456789"


def _checked(response: httpx.Response, method: str, template: str) -> Any:
    media = response.headers.get("content-type", "")
    body = response.json() if "json" in media else None
    if response.status_code != 204:
        check_response(method, template, response.status_code, media, body)
    return body


def _wait_for(receiver: Receiver, count: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while len(receiver.delivered()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(receiver.delivered()) >= count, receiver.attempts


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_subscribers_over_http_receive_the_steps_signed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET, encoding="utf-8")
    url = new_store(backend, request, tmp_path)
    with (
        receiving() as receiver,
        ServiceProcess(*TEST_WORKFLOWS, store=url, token=TOKEN) as service,
        service.client() as http,
    ):
        body = {"url": receiver.url, "events": ["workflow:tally"], "secret_file": str(secret_file)}
        assert httpx.get(service.url + "/webhooks").status_code == 401
        added = _checked(http.post("/webhooks", json=body), "post", "/webhooks")
        assert added["secret_file"] == str(secret_file)
        ident = added["id"]

        made = http.post("/instances", json={"workflow": "tally", "data": {"board": "main"}})
        instance = made.json()["id"]
        for item in ("a", "b", "c"):
            sent = http.post(
                f"/instances/{instance}/events", json={"event": "add", "payload": {"item": item}}
            )
            assert sent.json()["accepted"] is True
        _wait_for(receiver, 3)
        assert receiver.bad_signatures == 0
        assert [a.seq for a in receiver.delivered()] == sorted(a.seq for a in receiver.delivered())

        deadline = time.monotonic() + 10
        while True:
            listed = _checked(http.get("/webhooks"), "get", "/webhooks")
            [row] = listed["webhooks"]
            if row["delivered"] == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert (row["delivered"], row["pending"], row["retrying"], row["dead"]) == (3, 0, 0, 0)
        metrics = http.get("/metrics").text
        assert 'linkflow_webhook_attempts_total{result="delivered"} 3.0' in metrics
        assert "linkflow_webhook_pending 0.0" in metrics

        retried = _checked(http.post(f"/webhooks/{ident}/retry"), "post", "/webhooks/{id}/retry")
        assert retried == {"id": ident, "requeued": 0}
        assert http.delete(f"/webhooks/{ident}").status_code == 204
        gone = http.delete(f"/webhooks/{ident}")
        assert _checked(gone, "delete", "/webhooks/{id}")["type"].endswith("unknown-webhook")
        assert _checked(http.get("/webhooks"), "get", "/webhooks") == {"webhooks": []}
        logs = service.logs()
    key = SECRET.removeprefix("whsec_")
    assert key not in logs
    assert "webhook added" in logs
    if backend == "sqlite":
        stored = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))
        assert key.encode() not in stored


def test_bad_webhook_requests_are_problems_and_store_nothing(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("hello", encoding="utf-8")
    good = tmp_path / "hook.secret"
    good.write_text(SECRET, encoding="utf-8")
    cases = [
        ({"url": "ftp://x/h", "events": ["*"], "secret_file": str(good)}, 400),
        ({"url": "http://x/h", "events": [], "secret_file": str(good)}, 400),
        ({"url": "http://x/h", "events": ["colour:red"], "secret_file": str(good)}, 400),
        ({"url": "http://x/h", "events": ["*"], "secret_file": "relative/path"}, 400),
        ({"url": "http://x/h", "events": ["*"], "secret_file": str(tmp_path / "none")}, 422),
        ({"url": "http://x/h", "events": ["*"], "secret_file": str(tmp_path / "plain.txt")}, 422),
        ({"url": "http://x/h", "events": ["*"], "secret_file": str(good), "extra": 1}, 400),
    ]
    with ServiceProcess(*TEST_WORKFLOWS) as service, service.client() as http:
        for body, status in cases:
            answer = http.post("/webhooks", json=body)
            assert answer.status_code == status, (body, answer.text)
            _checked(answer, "post", "/webhooks")
            assert str(tmp_path) not in answer.text  # the detail repeats nothing sent
        for method, path in (
            ("post", "/webhooks/wh_0000000000000000/retry"),
            ("delete", "/webhooks/wh_0000000000000000"),
        ):
            answer = http.request(method.upper(), path)
            assert answer.status_code == 404
            template = path.replace("wh_0000000000000000", "{id}")
            _checked(answer, method, template)
        assert http.delete("/webhooks/nope").status_code == 400
        assert http.get("/webhooks").json() == {"webhooks": []}
