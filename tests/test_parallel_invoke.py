"""`invoke` in a parallel state's region: entering the invoking leaf, by any route (a joint
one included), yields the call; its answer is an event offered to every region; and the
worker judges an answer late by whether the invoking leaf is still active (another region's
step does not make it late; leaving the leaf, or leaving and entering it again, does), on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkflow.effects.worker import Options, Worker
from linkflow.language.loader import load
from linkflow.runtime.effect_calls import INVOKE
from linkflow.runtime.engine import Engine
from linkflow.store import Store
from linkflow.store.outbox import Outbox
from tests.support.fake_api import FakeApi, fake_api

FAST = Options(concurrency=8, lease=2.0, poll=0.02, grace=2.0)

WORKFLOW = """\
workflow: pair_calls
initial: idle
states:
  idle: {}
  both:
    parallel: true
    states:
      left:
        initial: asking
        states:
          asking:
            invoke: {service: hook, as: ask}
          answered: {final: done}
          gave_up: {}
      right:
        initial: r1
        states:
          r1: {}
          r2: {}
  end: {final: completed}
events:
  go: {}
  turn: {}
  drop: {}
  back: {}
  both_back: {}
transitions:
  - {event: go, from: idle, to: both}
  - {event: ask.done, from: both.left.asking, to: both.left.answered}
  - {event: ask.failed, from: both.left.asking, to: both.left.gave_up}
  - {event: turn, from: both.right.r1, to: both.right.r2}
  - {event: drop, from: both.left.asking, to: both.left.gave_up}
  - {event: back, from: both.left.gave_up, to: both.left.asking}
  - {event: both_back, from: both.left.gave_up, to: both.left.asking}
  - {event: both_back, from: both.right.r2, to: both.right.r1}
  - {event: done.state.both.left, from: both.left, to: end}
"""

SERVICES = """\
services:
  hook:
    base_url: {url}
    path: {path}
"""


def project(tmp_path: Path, url: str = "http://127.0.0.1:9", path: str = "/ok") -> Path:
    (tmp_path / "pair_calls.yaml").write_text(WORKFLOW, encoding="utf-8")
    (tmp_path / "services.yaml").write_text(SERVICES.format(url=url, path=path), encoding="utf-8")
    return tmp_path / "pair_calls.yaml"


def test_entering_the_invoking_leaf_by_any_route_yields_the_call(tmp_path: Path) -> None:
    loaded = load([project(tmp_path)])
    assert loaded.ok, [str(p) for p in loaded.problems]
    instance = Engine(loaded.workflows["pair_calls"]).create()
    step = instance.send("go")  # entering the parallel state starts the left region asking
    assert [(c.kind, c.name, c.state) for c in step.effects] == [
        (INVOKE, "ask", "both.left.asking")
    ]
    assert instance.send("turn").effects == ()  # another region's step calls nothing
    assert instance.send("drop").effects == ()
    step = instance.send("both_back")  # one step in both regions enters the leaf again
    assert step.target == "both.left.asking+both.right.r1"
    assert [c.state for c in step.effects] == ["both.left.asking"]


def test_the_answer_is_an_event_offered_to_every_region(tmp_path: Path) -> None:
    instance = Engine(load([project(tmp_path)]).workflows["pair_calls"]).create()
    instance.send("go")
    instance.send("turn")
    step = instance.send("ask.done", {"status": 200})
    assert step.refusal is None
    assert (step.target, instance.outcome) == ("end", "completed")


def test_an_instance_created_in_a_parallel_state_invokes_from_its_regions(tmp_path: Path) -> None:
    project(tmp_path)
    text = WORKFLOW.replace("initial: idle", "initial: both").replace("  idle: {}\n", "")
    text = text.replace("  - {event: go, from: idle, to: both}\n", "").replace("  go: {}\n", "")
    (tmp_path / "pair_calls.yaml").write_text(text, encoding="utf-8")
    loaded = load([tmp_path / "pair_calls.yaml"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    engine = Engine(loaded.workflows["pair_calls"])
    instance = engine.create()
    assert instance.state == "both.left.asking+both.right.r1"
    assert [c.state for c in engine.start_effects(instance)] == ["both.left.asking"]


# -- the worker: late answers judged by the invoking leaf ---------------------------------------


@pytest.fixture(scope="module")
def api() -> Iterator[FakeApi]:
    with fake_api() as served:
        yield served


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        yield opened


def work(store: Store) -> dict[str, int]:
    return asyncio.run(Worker(store, FAST).run(until_idle=True))


def test_a_call_whose_instance_moved_in_another_region_is_made_and_answered(
    store: Store, tmp_path: Path, api: FakeApi
) -> None:
    flow = project(tmp_path, api.url, "/ok")
    instance_id = store.start(flow).id
    store.send(instance_id, "go")
    store.send(instance_id, "turn")  # the right region moved: the instance's entry time too
    work(store)
    (effect,) = Outbox(store).of_instance(instance_id)
    assert effect.status == "done"
    assert store.get(instance_id).state == "end"


def test_a_call_whose_leaf_was_left_or_left_and_entered_again_is_cancelled(
    store: Store, tmp_path: Path, api: FakeApi
) -> None:
    flow = project(tmp_path, api.url, "/ok")
    left = store.start(flow).id
    store.send(left, "go")
    store.send(left, "drop")
    again = store.start(flow).id
    store.send(again, "go")
    store.send(again, "drop")
    store.send(again, "back")  # asking again: a new call; the first one is not wanted
    counts = work(store)
    assert counts["cancelled"] == 2
    assert [e.status for e in Outbox(store).of_instance(left)] == ["cancelled"]
    assert [e.status for e in Outbox(store).of_instance(again)] == ["cancelled", "done"]
    assert store.get(left).state == "both.left.gave_up+both.right.r1"
    assert store.get(again).state == "end"


def in_flight(store: Store, api: FakeApi, instance_id: str, *events: str) -> None:
    """Run the worker; once the call is in flight, send `events` to the instance."""
    (effect,) = Outbox(store).of_instance(instance_id)

    async def race() -> None:
        running = asyncio.create_task(Worker(store, FAST).run(until_idle=True))
        while ("/slow", effect.idempotency_key) not in api.arrived and not running.done():
            await asyncio.sleep(0.01)
        for event in events:
            await asyncio.to_thread(store.send, instance_id, event)
        await running

    asyncio.run(race())


def test_an_answer_after_another_region_moved_is_taken_and_after_the_leaf_was_left_is_late(
    store: Store, tmp_path: Path, api: FakeApi
) -> None:
    flow = project(tmp_path, api.url, "/slow?seconds=0.5")
    moved = store.start(flow).id
    store.send(moved, "go")
    in_flight(store, api, moved, "turn")
    (effect,) = Outbox(store).of_instance(moved)
    assert effect.status == "done"
    assert store.get(moved).state == "end"

    left = store.start(flow).id
    store.send(left, "go")
    in_flight(store, api, left, "drop")
    (effect,) = Outbox(store).of_instance(left)
    assert effect.status == "late"
    assert effect.last_error == "the instance left state 'both.left.asking' before the answer came"
    assert store.get(left).state == "both.left.gave_up+both.right.r1"
