"""Statements per accepted event on SQLite, counted (issue 29): at most five, BEGIN and COMMIT
included, plus one write per world record the step changed.

Counted with sqlite3's trace callback, which reports every statement the store runs. A
statement's inner programs (a trigger, the `pragma_data_version()` inside a RETURNING clause)
are reported as "-- ..." lines and run inside that statement: they are not round trips and are
not counted. The events are every `send` of the TikTok scenarios (tests/scenarios) and a plain
counter workflow, each run twice: the second time, every record the steps name has been read
by this process already (the steady state a service is in), and only writes are left.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from linkflow.runtime.world import World
from linkflow.runtime.world_loader import load_world
from linkflow.store import Store
from linkflow.store.outbox import Outbox
from tests.support.effect_steps import causing, notify

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*/*.yaml"))
WORLD_WRITES = ("UPDATE world ", "INSERT INTO world ", "DELETE FROM world ")
#: The target of issue 29: BEGIN, the instance row, the feed entry, the history entry, COMMIT.
TARGET = 5
#: A refusal: BEGIN, the history entry, COMMIT.
REFUSED = 3
#: A handoff also reads the next workflow's newest definition and the hop, and inserts the row.
HANDOFF = 3

COUNTER = """\
workflow: counter
initial: low
data:
  count: 0
states:
  low: {}
  high: {}
  stopped: {final: completed}
events:
  flip: {}
  stop: {}
transitions:
  - event: flip
    from: low
    to: high
    actions:
      - set: {path: data.count, value: data.count + 1}
  - event: flip
    from: high
    to: low
    actions:
      - set: {path: data.count, value: data.count + 1}
  - event: stop
    from: [low, high]
    to: stopped
"""
#: The benchmark's durable event: one world record read (a guard) and written.
WORLD_COUNTER = ROOT / "benchmarks" / "flows" / "durable_counter.yaml"


class Trace:
    """The statements the store ran since `clear`, top-level ones only."""

    def __init__(self, store: Store) -> None:
        self.lines: list[str] = []
        store.backend.conn.set_trace_callback(self.lines.append)  # type: ignore[attr-defined]

    def clear(self) -> None:
        self.lines.clear()

    @property
    def statements(self) -> list[str]:
        return [" ".join(s.split()) for s in self.lines if not s.lstrip().startswith("--")]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        flows = (ROOT / "workflows").glob("*.yaml")
        opened.register(*sorted(p for p in flows if "schema" not in p.name))
        world, problems = load_world(ROOT / "workflows" / "worlds" / "ads_manager_demo.yaml")
        assert world is not None, problems
        opened.load_world(world)
        yield opened


def _sends(scenario: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The scenario's sends, or None when it does more than send (waits, path checks)."""
    steps = scenario.get("steps", [])
    if any("send" not in step for step in steps):
        return None
    return list(steps)


def _check(trace: Trace, accepted: bool, handoff: bool, warm: bool, seen: set[str]) -> list[str]:
    """What is wrong with one event's statements (an empty list: nothing). `seen`: the world
    reads of the first run (a record this process read or wrote is not read again)."""
    statements = trace.statements
    wrong = []
    writes = [s for s in statements if s.startswith(WORLD_WRITES)]
    reads = [s for s in statements if s.startswith("SELECT record FROM world")]
    if len(set(writes)) != len(writes) or len(set(reads)) != len(reads):
        wrong.append("a world record read or written twice")
    if any("MAX(seq)" in s and "FROM feed" in s for s in statements):
        wrong.append("the feed numbered by MAX(seq)")
    if any("event_id = " in s and s.startswith("SELECT") for s in statements):
        wrong.append("an idempotency read without an event id")
    allowed = (TARGET if accepted else REFUSED) + len(writes) + (HANDOFF if handoff else 0)
    allowed += len(reads)  # a record this process has not met yet (a new key), once
    if not warm:
        allowed += 1  # the first time: the instance row too
        seen.update(reads)
    elif seen & set(reads):
        wrong.append(f"records read again although this process had them: {seen & set(reads)}")
    if len(statements) > allowed:
        wrong.append(f"{len(statements)} statements, more than {allowed}")
    return [f"{w}:\n  " + "\n  ".join(statements) for w in wrong]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_an_event_of_a_tiktok_flow_costs_at_most_five_statements(store: Store, path: Path) -> None:
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    sends = _sends(scenario)
    if sends is None:
        return  # waits and paths are other tests' business; most scenarios only send
    trace = Trace(store)
    counted = [0, 0]  # refused, accepted
    seen: set[str] = set()
    for warm in (False, True):
        current = store.start(scenario["workflow"], scenario.get("data") or {}).id
        for step in sends:
            trace.clear()
            sent = store.send(current, step["send"], step.get("payload"))
            problems = _check(trace, sent.step.accepted, sent.handed_to is not None, warm, seen)
            assert not problems, f"{path.name}, {step['send']}: {problems}"
            counted[sent.step.accepted] += 1
            if sent.handed_to is not None:
                current = sent.handed_to.id
    assert sum(counted) == 2 * len(sends)  # every event was checked, none skipped


def test_a_plain_workflow_event_is_five_statements_and_one_per_changed_record(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "counter.yaml"
    path.write_text(COUNTER, encoding="utf-8")
    instance = store.start(path).id
    trace = Trace(store)
    store.send(instance, "flip")
    for _ in range(3):
        trace.clear()
        sent = store.send(instance, "flip")
        assert sent.step.accepted
        assert len(trace.statements) <= TARGET, trace.statements
    assert store.get(instance).data["count"] == 4
    assert [e.seq for e in store.feed()] == [1, 2, 3, 4]
    assert [e.seq for e in store.history(instance)] == [1, 2, 3, 4]


def test_a_world_record_written_costs_one_statement_more(store: Store) -> None:
    store.load_world(World({"counters": {"c1": {"value": 0}}}))
    instance = store.start(WORLD_COUNTER, {"key": "c1"}).id
    trace = Trace(store)
    store.send(instance, "flip")  # the first time: the instance row and the record are read
    for _ in range(3):
        trace.clear()
        assert store.send(instance, "flip").step.accepted
        writes = [s for s in trace.statements if s.startswith(WORLD_WRITES)]
        assert len(writes) == 1, trace.statements
        assert len(trace.statements) <= TARGET + 1, trace.statements
    assert store.world("counters", "c1") == {"c1": {"value": 4}}


def test_an_event_id_costs_one_read_and_a_refusal_one_history_write(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "counter.yaml"
    path.write_text(COUNTER, encoding="utf-8")
    instance = store.start(path).id
    store.send(instance, "flip")
    trace = Trace(store)
    store.send(instance, "flip", event_id="e1")
    assert len(trace.statements) == TARGET + 1  # the idempotency read
    trace.clear()
    again = store.send(instance, "flip", event_id="e1")
    assert again.replayed
    assert again.instance.version == 2
    trace.clear()
    refused = store.send(instance, "no_such_event")
    assert not refused.step.accepted
    assert trace.statements[0] == "BEGIN IMMEDIATE"
    assert trace.statements[-1] == "COMMIT"
    assert len(trace.statements) == 3, trace.statements  # BEGIN, the history entry, COMMIT


@pytest.mark.parametrize("count", [1, 3])
def test_a_steps_effects_cost_one_statement_and_a_step_without_none(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """The outbox (store/outbox.py): one INSERT for all of a step's effects (an executemany
    for several, which the trace reports once per row but is one statement), none without."""
    path = tmp_path / "counter.yaml"
    path.write_text(COUNTER, encoding="utf-8")
    instance = store.start(path).id
    store.send(instance, "flip")
    calls = tuple(notify(f"http://127.0.0.1:9/{n}") for n in range(count))
    trace = Trace(store)
    with causing(monkeypatch, {"flip": lambda step: calls}):
        sent = store.send(instance, "flip")
    assert sent.step.accepted
    inserts = [s for s in trace.statements if s.startswith("INSERT INTO effects")]
    assert len(inserts) == count  # one executemany: the trace shows each row it ran
    assert len(trace.statements) - len(inserts) + 1 <= TARGET + 1, trace.statements
    trace.clear()
    assert store.send(instance, "flip").step.accepted  # no effects: what it cost before
    assert len(trace.statements) <= TARGET, trace.statements
    assert not any("effects" in s for s in trace.statements)
    assert len(Outbox(store).of_instance(instance)) == count
