"""Numbers of thousands of digits in a query or a Content-Length: Python's int() refuses text of
over 4,300 digits with a ValueError, which the effects routes of the service and the studio
let through as a 500. Each is a 4xx now, a problem+json (service) or a JSON error (studio)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from linkflow.language.loader import load_workflow
from linkflow.service.app import create_app as service_app
from linkflow.service.config import ServiceConfig
from linkflow.store import Store
from linkflow.studio.app import create_app as studio_app
from linkflow.studio.instances import InstancesView
from linkflow.studio.playground import Playground
from tests.studio_browser import CLIENT_BASE, signed_in
from tests.support.effect_steps import write_flow

HUGE = "9" * 5000
PROBLEM = "application/problem+json"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


@pytest.fixture
def service(tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # The test client runs the app in a thread, where signal handlers cannot be set.
    monkeypatch.setattr("linkflow.service.app._on_terminate", lambda *a: None)
    flow = write_flow(tmp_path)
    config = ServiceConfig(effects=False, timer_interval=0, webhook_interval=0)
    app = service_app(config, workflows={"asking": load_workflow(flow)}, store=store)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("limit", [HUGE, "1" + "0" * 9, "0", "-1", "\u00b2", "1.5"])
def test_the_services_effects_limit_is_a_problem_whatever_its_size(
    service: TestClient, limit: str
) -> None:
    answer = service.get("/effects", params={"limit": limit})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["type"].endswith(":invalid-parameter")


def test_a_content_length_of_thousands_of_digits_is_too_large_not_a_500(
    service: TestClient,
) -> None:
    answer = service.post(
        "/webhooks",
        content=b"{}",
        headers={"content-type": "application/json", "content-length": HUGE},
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert service.get("/webhooks").json() == {"webhooks": []}  # nothing changed


@pytest.mark.parametrize("limit", [HUGE, "0", "-1", "\u00b2", "1.5"])
def test_the_studios_effects_limit_is_a_json_400_whatever_its_size(
    tmp_path: Path, store: Store, limit: str
) -> None:
    playground = Playground([str(write_flow(tmp_path))])
    app = studio_app(playground, watch=False, instances=InstancesView(store))
    with TestClient(app, base_url=CLIENT_BASE, raise_server_exceptions=False) as client:
        answer = signed_in(client).get("/api/effects", params={"limit": limit})
    assert answer.status_code == 400
    assert "limit" in answer.json()["error"]


def test_a_webhook_url_urllib_cannot_split_is_a_422_not_a_500(
    service: TestClient, tmp_path: Path
) -> None:
    secret = tmp_path / "hook.secret"
    secret.write_text("whsec_" + "A" * 32 + "\n", encoding="utf-8")
    body = {"url": "http://[::1", "events": ["*"], "secret_file": str(secret)}
    answer = service.post("/webhooks", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert "is not a usable URL" in answer.json()["detail"]
    assert service.get("/webhooks").json() == {"webhooks": []}
