"""Item 20: `available_events()` and `send` agree on negated guards (the property test in
tests/test_properties.py checks every guard form on generated workflows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkflow import World
from linkflow.language.loader import load_workflow
from linkflow.runtime.engine import Engine

SHOP = Path(__file__).resolve().parents[1] / "cases" / "runtime" / "shop.yaml"
CUSTOMERS = {
    "ana": {"name": "Ana", "card": "1", "blocked": False, "skus": []},
    "ben": {"name": "Ben", "card": "2", "blocked": True, "skus": []},
}


@pytest.mark.parametrize(("customer", "can_cancel"), [("ana", True), ("ben", False)])
def test_a_negated_guard_decides_availability_as_send_does(customer: str, can_cancel: bool) -> None:
    world = World({"customers": CUSTOMERS, "tags": {}})
    instance = Engine(load_workflow(SHOP)).create({"customer": customer}, world)
    [option] = [o for o in instance.available_events() if o.event == "cancel"]
    assert option.available is can_cancel
    if not can_cancel:
        assert option.reason == "Ben is blocked and cannot cancel."
    assert instance.send("cancel").accepted is can_cancel
