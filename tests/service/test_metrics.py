"""`GET /metrics`: a scrape after some events and a timer pass counts exactly what happened,
behind the service token like the rest of the API."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from linkflow.service.app import create_app, load_catalog
from linkflow.service.config import ServiceConfig
from linkflow.store import Store
from tests.service.conftest import SERVICE_CASES
from tests.support.store import FakeClock

ALARM = SERVICE_CASES / "alarm.yaml"
TOKEN = "metrics-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


Scrape = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Scrape:
    """Every sample of a scrape, by name and labels."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name, frozenset(sample.labels.items())] = sample.value
    return out


def value(found: Scrape, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def no_signals(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test client runs the app in a thread, where signal handlers cannot be set.
    monkeypatch.setattr("linkflow.service.app._on_terminate", lambda *a: None)


def traffic(tmp_path: Path) -> Scrape:
    """Three alarms, four events (two accepted, one refused, one stale), a timer pass that
    fires two alarms 2.5 s late; then a scrape."""
    clock = FakeClock()
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}", clock=clock)
    catalog = load_catalog([str(ALARM)])
    store.register(*catalog.workflows.values())
    app = create_app(
        ServiceConfig(timer_interval=0.02), workflows=catalog.workflows, store=store, token=TOKEN
    )
    with TestClient(app, base_url="http://127.0.0.1:8123") as client:
        assert client.get("/metrics").status_code == 401
        ids = []
        for _ in range(3):
            started = client.post("/instances", json={"workflow": "alarm"}, headers=AUTH)
            assert started.status_code == 201, started.text
            ids.append(started.json()["id"])
        first, second, third = ids

        def send(ident: str, event: str, **headers: str) -> int:
            answer = client.post(
                f"/instances/{ident}/events", json={"event": event}, headers={**AUTH, **headers}
            )
            return answer.status_code

        assert send(first, "snooze") == 200  # accepted
        assert send(second, "turn_off") == 200  # accepted: the alarm is off, for good
        refused = client.post(
            f"/instances/{second}/events", json={"event": "snooze"}, headers=AUTH
        ).json()
        assert refused["accepted"] is False
        assert (
            send(third, "snooze", **{"If-Match": '"7"'}) == 412
        )  # a stale version: the store says conflict
        # The first and third alarms come due at +1 s; the store's clock moves to +3.5 s, so
        # the timer loop fires both 2.5 s late.
        clock.advance(3.5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if all(store.get(i).state == "rung" for i in (first, third)):
                break
            time.sleep(0.02)
        assert [store.get(i).state for i in ids] == ["rung", "off", "rung"]
        scrape = client.get("/metrics", headers=AUTH)
        assert scrape.status_code == 200
        assert scrape.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        return samples(scrape.text)


@pytest.mark.usefixtures("no_signals")
def test_a_scrape_counts_requests_events_batches_timers_and_conflicts(tmp_path: Path) -> None:
    found = traffic(tmp_path)
    requests = "linkflow_http_requests_total"
    assert value(found, requests, method="POST", route="/instances", status="201") == 3
    events_route = "/instances/{id}/events"
    assert value(found, requests, method="POST", route=events_route, status="200") == 3
    assert value(found, requests, method="POST", route=events_route, status="412") == 1
    assert value(found, requests, method="GET", route="(no route)", status="401") == 1
    routes = {dict(labels)["route"] for _, labels in found if "route" in dict(labels)}
    assert all(r == "(no route)" or not re.search(r"/[0-9a-f]{16}", r) for r in routes)

    assert value(found, "linkflow_events_total", result="accepted") == 2
    assert value(found, "linkflow_events_total", result="refused") == 1
    assert value(found, "linkflow_event_latency_seconds_count") == 2

    # every event that reached the writer was committed in some batch (the conflict too)
    assert value(found, "linkflow_commit_batch_events_sum") == 4
    assert 1 <= value(found, "linkflow_commit_batch_events_count") <= 4
    assert value(found, "linkflow_event_queue_depth") == 0

    assert value(found, "linkflow_timers_fired_total") == 2
    assert value(found, "linkflow_timer_passes_total") >= 1
    assert value(found, "linkflow_timer_lateness_seconds_count") == 2
    assert value(found, "linkflow_timer_lateness_seconds_sum") == pytest.approx(5.0)
    assert value(found, "linkflow_timer_lateness_seconds_bucket", le="2.0") == 0
    assert value(found, "linkflow_timer_lateness_seconds_bucket", le="5.0") == 2

    assert value(found, "linkflow_store_errors_total", kind="conflict") == 1
    assert value(found, "linkflow_store_errors_total", kind="unavailable") == 0
    assert value(found, "linkflow_store_retries_total") == 0


@pytest.mark.usefixtures("no_signals")
def test_metrics_are_open_without_a_token_and_per_app(tmp_path: Path) -> None:
    catalog = load_catalog([str(ALARM)])
    config = ServiceConfig(timer_interval=0, store_url=f"sqlite:///{tmp_path / 'store.db'}")
    first = create_app(config, workflows=catalog.workflows)
    second = create_app(config, workflows=catalog.workflows)
    with TestClient(first) as one, TestClient(second) as other:
        assert one.get("/healthz").status_code == 200
        scraped = samples(one.get("/metrics").text)
        assert (
            value(
                scraped,
                "linkflow_http_requests_total",
                method="GET",
                route="/healthz",
                status="200",
            )
            == 1
        )
        elsewhere = samples(other.get("/metrics").text)
        assert (
            value(
                elsewhere,
                "linkflow_http_requests_total",
                method="GET",
                route="/healthz",
                status="200",
            )
            == 0
        )
