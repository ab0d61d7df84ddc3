"""The effects example project (examples/supplier_order) run for real: its YAML, a durable
store, the worker and a fake supplier API on 127.0.0.1, on SQLite and PostgreSQL.

The other effects tests put calls on steps through a test double; these take them from the
workflow's own `invoke:` and `notify:`, so what `validate` and the scenarios check is what runs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkflow.effects.worker import Options, Worker
from linkflow.store import Store
from linkflow.store.outbox import Outbox
from tests.support.fake_api import FakeApi, fake_api

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "supplier_order"
TOKEN = "supplier-token-never-written-7731"
FAST = Options(concurrency=4, lease=5.0, poll=0.02, grace=2.0)


@pytest.fixture(scope="module")
def api() -> Iterator[FakeApi]:
    with fake_api() as served:
        yield served


@pytest.fixture
def project(tmp_path: Path, api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example whose services point at the fake API; the token in the env."""
    shutil.copytree(EXAMPLE, tmp_path / "project")
    services = tmp_path / "project" / "services.yaml"
    text = services.read_text(encoding="utf-8")
    assert text.count("http://127.0.0.1:8099") == 3
    services.write_text(text.replace("http://127.0.0.1:8099", api.url), encoding="utf-8")
    monkeypatch.setenv("SUPPLIER_TOKEN", TOKEN)
    return tmp_path / "project"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        yield opened


def work(store: Store) -> dict[str, int]:
    return asyncio.run(Worker(store, FAST).run(until_idle=True))


def place(store: Store, project: Path, order: str) -> str:
    """A placed order (its id made unique: the fake API serves every test of the module)."""
    started = store.start(project / "supplier_order.yaml")
    payload = {"order_id": order, "sku": "bolt-8", "quantity": 3}
    sent = store.send(started.id, "place", payload)
    assert sent.instance.state == "reserving"
    return started.id


def test_an_order_is_reserved_by_the_supplier_and_the_team_is_told(
    store: Store, project: Path, api: FakeApi
) -> None:
    order = f"o-{uuid.uuid4().hex[:8]}"
    order_id = place(store, project, order)
    (effect,) = Outbox(store).of_instance(order_id)
    assert (effect.call.kind, effect.call.name, effect.status) == ("invoke", "reserve", "pending")
    assert effect.call.url == f"{api.url}/orders/{order}/reserve"
    assert effect.call.body == {"sku": "bolt-8", "quantity": 3}

    work(store)
    record = store.get(order_id)
    assert record.state == "reserved"
    assert record.data["reservation"] == f"res-{order}"
    assert record.data["eta_days"] == 5
    calls = api.calls(f"/orders/{order}/reserve")
    assert [status for _, _, status in calls] == [200]
    assert f"Bearer {TOKEN}" in api.authorizations
    (done,) = [e for e in store.history(order_id) if e.entry.event == "reserve.done"]
    assert done.entry.accepted
    assert (done.event_id or "").startswith("effect:")

    store.send(order_id, "confirm")
    work(store)
    assert store.get(order_id).outcome == "completed"
    hooks = [e for e in Outbox(store).of_instance(order_id) if e.call.kind == "notify"]
    assert [(e.call.service, e.status) for e in hooks] == [("team_hook", "done")]
    assert api.calls("/hooks/team")


def test_no_stock_is_a_failed_answer_the_workflow_handles(store: Store, project: Path) -> None:
    order = f"none-{uuid.uuid4().hex[:8]}"
    order_id = place(store, project, order)
    work(store)
    record = store.get(order_id)
    assert record.state == "unavailable"
    (failed,) = [e.entry for e in store.history(order_id) if e.entry.event == "reserve.failed"]
    assert failed.accepted
    assert failed.payload["status"] == 409


def test_cancelling_after_the_reservation_releases_it_once(
    store: Store, project: Path, api: FakeApi
) -> None:
    order = f"o-{uuid.uuid4().hex[:8]}"
    order_id = place(store, project, order)
    work(store)
    store.send(order_id, "cancel")
    work(store)
    assert store.get(order_id).outcome == "cancelled"
    released = [e for e in Outbox(store).of_instance(order_id) if e.call.kind == "compensate"]
    assert [(e.call.service, e.status) for e in released] == [("supplier_release", "done")]
    assert api.calls(f"/reservations/res-{order}")


def test_an_order_terminated_before_the_call_is_never_sent(
    store: Store, project: Path, api: FakeApi
) -> None:
    """An operator ends the instance while its call waits in the outbox: the call is
    cancelled, never made, and nothing is sent to the ended instance."""
    order = f"o-{uuid.uuid4().hex[:8]}"
    order_id = place(store, project, order)
    store.terminate(order_id, by="ops", reason="test")
    work(store)
    (effect,) = Outbox(store).of_instance(order_id)
    assert effect.status == "cancelled"
    assert not api.calls(f"/orders/{order}/reserve")
    assert [e.entry.event for e in store.history(order_id) if e.event_id] == []


def test_the_worker_command_performs_the_calls(tmp_path: Path, project: Path) -> None:
    """`linkflow worker --once` in a process of its own, with the token only in its env."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with Store.open(url) as store:
        order_id = place(store, project, f"o-{uuid.uuid4().hex[:8]}")
    env = {**os.environ, "SUPPLIER_TOKEN": TOKEN, "NO_COLOR": "1"}
    ran = subprocess.run(
        [sys.executable, "-m", "linkflow", "worker", "--store", url, "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert ran.returncode == 0, ran.stderr
    assert TOKEN not in ran.stdout + ran.stderr
    with Store.open(url) as store:
        assert store.get(order_id).state == "reserved"
    assert TOKEN.encode() not in (tmp_path / "cli.db").read_bytes()
