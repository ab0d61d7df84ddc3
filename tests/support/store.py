"""Helpers for store tests: the test workflows, a clock to move by hand, and a replay check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from linkflow.language.loader import load_workflows
from linkflow.runtime.engine import Engine
from linkflow.runtime.world import World
from linkflow.runtime.world_loader import load_world
from linkflow.store import Store

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases" / "store"
TALLY = CASES / "tally.yaml"
CHAIN = CASES / "chain.yaml"
BOARDS = CASES / "boards.yaml"


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def replay(store: Store, start_world: World) -> tuple[dict[str, Any], World]:
    """Every instance rebuilt from its start data by replaying the feed's accepted steps in
    order on the in-memory engine, with history payloads; ({id: (state, data)}, world)."""
    workflows = load_workflows([CASES])
    engines = {name: Engine(w) for name, w in workflows.items()}
    world = World(start_world.snapshot())
    instances: dict[str, Any] = {}
    payloads: dict[str, list[dict[str, Any]]] = {}
    for entry in store.feed(limit=1_000_000):
        if entry.instance not in instances:
            record = store.get(entry.instance)
            instances[entry.instance] = engines[record.workflow].create(record.start_data, world)
            payloads[entry.instance] = [
                dict(h.entry.payload) for h in store.history(entry.instance) if h.entry.accepted
            ]
        instance = instances[entry.instance]
        step = instance.send(entry.event, payloads[entry.instance].pop(0))
        assert step.accepted, step
    return {k: (i.state, i.data) for k, i in instances.items()}, world


def start_world() -> World:
    world, problems = load_world(BOARDS)
    assert world is not None, problems
    return world
