"""The studio's instance view lists the instance's effects with their state."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from linkflow.effects.worker import Options, Worker
from linkflow.store import Store
from linkflow.studio.instances import InstancesView
from tests.support.effect_steps import causing, invoke, notify, write_flow
from tests.support.fake_api import fake_api


def test_the_instance_view_lists_its_effects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_api() as api, Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        calls = (invoke(api.url + "/ok"), notify(api.url + "/missing"))
        with causing(monkeypatch, {"ask": lambda step: calls}):
            started = store.start(write_flow(tmp_path))
            store.send(started.id, "ask")
        view = InstancesView(store)
        before = view.detail(started.id)["effects"]
        assert [(e["name"], e["status"]) for e in before] == [
            ("lookup", "pending"),
            ("tell", "pending"),
        ]
        asyncio.run(Worker(store, Options(poll=0.02)).run(until_idle=True))
        after = view.detail(started.id)["effects"]
        assert [(e["kind"], e["status"]) for e in after] == [
            ("invoke", "done"),
            ("notify", "failed"),
        ]
        assert after[1]["last_error"] == "the service answered HTTP 404 (not retried)"
        assert view.detail(started.id)["history"]  # the rest of the view is unchanged
