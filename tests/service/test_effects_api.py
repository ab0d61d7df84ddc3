"""`/effects` over HTTP and the effects worker inside `linkflow serve`: effects written by
steps are performed by the service's worker; GET /effects, GET /instances/{id}/effects and
POST /effects/{id}/retry answer what the document says; /metrics counts the outcomes; bad input
is a problem that changes nothing; `--no-effects` leaves the outbox to `linkflow worker`.

The steps are taken in the test process through the effects double (tests/support/
effect_steps.py), on the store the service uses: the service finds them in the outbox.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from linkflow.store import Store
from tests.service.conftest import TEST_WORKFLOWS, new_store
from tests.service.server import ServiceProcess
from tests.service.test_openapi import check_response
from tests.support.effect_steps import causing, invoke, notify, write_flow
from tests.support.fake_api import FakeApi, fake_api

TOKEN = "effects-test-token-0123456789"


def _checked(response: httpx.Response, method: str, template: str) -> Any:
    media = response.headers.get("content-type", "")
    body = response.json() if "json" in media else None
    check_response(method, template, response.status_code, media, body)
    return body


def _asked(url: str, folder: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi) -> str:
    calls = (invoke(api.url + "/ok"), notify(api.url + "/missing"))
    with Store.open(url) as store, causing(monkeypatch, {"ask": lambda step: calls}):
        started = store.start(write_flow(folder))
        store.send(started.id, "ask")
    return started.id


def _settled(http: httpx.Client, instance_id: str, seconds: float = 20.0) -> list[Any]:
    deadline = time.monotonic() + seconds
    while True:
        found = http.get(f"/instances/{instance_id}/effects").json()["effects"]
        if all(e["status"] not in ("pending", "running") for e in found):
            return list(found)
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_service_performs_effects_and_shows_them(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_store(backend, request, tmp_path)
    with (
        fake_api() as api,
        ServiceProcess(*TEST_WORKFLOWS, store=url, token=TOKEN) as service,
        service.client() as http,
    ):
        assert httpx.get(service.url + "/effects").status_code == 401
        instance_id = _asked(url, tmp_path, monkeypatch, api)
        _settled(http, instance_id)
        listed = _checked(
            http.get(f"/instances/{instance_id}/effects"), "get", "/instances/{id}/effects"
        )
        invoked, told = listed["effects"]
        assert (invoked["kind"], invoked["status"]) == ("invoke", "done")
        assert invoked["result"]["event"] == "lookup.done"
        assert (told["kind"], told["status"], told["attempts"]) == ("notify", "failed", 1)
        assert api.applied[invoked["idempotency_key"]] == 1

        failed = _checked(http.get("/effects?status=failed"), "get", "/effects")
        assert [e["id"] for e in failed["effects"]] == [told["id"]]
        first = _checked(http.get(f"/effects?instance={instance_id}&limit=1"), "get", "/effects")
        assert len(first["effects"]) == 1
        assert first["next_cursor"] is not None
        rest = http.get("/effects", params={"limit": 1, "cursor": first["next_cursor"]}).json()
        assert {first["effects"][0]["id"], rest["effects"][0]["id"]} == {
            invoked["id"],
            told["id"],
        }

        again = _checked(http.post(f"/effects/{told['id']}/retry"), "post", "/effects/{id}/retry")
        assert (again["status"], again["attempts"]) == ("pending", 0)
        refused = http.post(f"/effects/{invoked['id']}/retry")
        assert refused.status_code == 409
        assert _checked(refused, "post", "/effects/{id}/retry")["type"].endswith("conflict")
        _settled(http, instance_id)
        metrics = http.get("/metrics").text
        assert 'linkflow_effect_outcomes_total{outcome="done"} 1.0' in metrics
        assert 'linkflow_effect_outcomes_total{outcome="failed"} 2.0' in metrics
        assert "linkflow_effect_attempts_total 3.0" in metrics
        assert 'linkflow_effects{status="pending"}' in metrics
        logs = service.logs()
    assert "effect attempt" in logs
    assert "effect retried" in logs


def test_bad_effect_requests_are_problems_and_change_nothing(tmp_path: Path) -> None:
    with ServiceProcess(*TEST_WORKFLOWS) as service, service.client() as http:
        cases = [
            ("get", "/effects?status=bogus", "/effects", 400),
            ("get", "/effects?limit=0", "/effects", 400),
            ("get", "/effects?limit=%C2%B2", "/effects", 400),
            ("get", "/effects?cursor=nope", "/effects", 400),
            ("get", "/effects?instance=%0A", "/effects", 400),
            ("post", "/effects/ef_0000000000000000/retry", "/effects/{id}/retry", 404),
            ("post", "/effects/nope/retry", "/effects/{id}/retry", 400),
            ("get", "/instances/nobody/effects", "/instances/{id}/effects", 404),
        ]
        for method, path, template, status in cases:
            answer = http.request(method.upper(), path)
            assert answer.status_code == status, (path, answer.text)
            body = _checked(answer, method, template)
            assert body["type"].startswith("urn:linkflow:problem:")
        assert http.get("/effects").json() == {"effects": [], "next_cursor": None}


def test_no_effects_leaves_the_outbox_to_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with (
        fake_api() as api,
        ServiceProcess(*TEST_WORKFLOWS, "--no-effects", store=url) as service,
        service.client() as http,
    ):
        instance_id = _asked(url, tmp_path, monkeypatch, api)
        time.sleep(1.5)  # more than the worker's poll: one would have claimed them
        found = http.get(f"/instances/{instance_id}/effects").json()["effects"]
        assert [e["status"] for e in found] == ["pending", "pending"]
        assert api.requests == []
