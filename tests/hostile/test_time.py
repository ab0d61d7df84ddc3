"""Item 8 (and issue 13's overlap): timeouts chain, a clock that goes backwards stands still,
and a scenario `wait` fires every timeout that ran out, or says in words why none did."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from linkflow.language.loader import load_workflow
from linkflow.runtime.engine import Engine
from linkflow.testing.scenarios import run_scenario_file
from tests.hostile.helpers import write

CHAIN: dict[str, Any] = {
    "workflow": "chain",
    "initial": "a",
    "states": {
        "a": {"waiting": {"for": "x", "timeout": {"seconds": 10, "to": "b"}}},
        "b": {"waiting": {"for": "x", "timeout": {"seconds": 10, "to": "c"}}},
        "c": {"waiting": {"for": "x", "timeout": {"seconds": 10, "to": "d"}}},
        "d": {"final": "timed_out"},
    },
    "events": {"poke": {}},
    "transitions": [{"event": "poke", "from": ["a", "b", "c"], "to": "a"}],
}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_timeouts_chain_from_when_each_wait_ran_out(tmp_path: Path) -> None:
    clock = Clock()
    instance = Engine(load_workflow(write(tmp_path / "chain.yaml", CHAIN))).create(clock=clock)
    clock.now += 25
    fired = []
    while (step := instance.expire()) is not None:
        fired.append((step.source, step.target))
    assert fired == [("a", "b"), ("b", "c")]
    assert instance.state == "c"
    assert [h.time for h in instance.history] == [110.0, 120.0]
    assert instance.entered_at == 120.0  # c started at 20 s, so 5 s are already gone
    clock.now += 5
    assert instance.expire() is not None
    assert instance.state == "d"


def test_a_clock_that_goes_backwards_stands_still(tmp_path: Path) -> None:
    clock = Clock()
    instance = Engine(load_workflow(write(tmp_path / "chain.yaml", CHAIN))).create(clock=clock)
    clock.now = 50.0  # 50 s before the instance started
    assert instance.expire() is None
    assert instance.send("poke").accepted
    assert instance.history[-1].time == 100.0  # never earlier than a time already seen
    assert instance.entered_at == 100.0
    clock.now = math.nan
    assert instance.expire() is None
    clock.now = 109.0
    assert instance.expire() is None
    clock.now = 110.0
    assert instance.expire() is not None
    assert [h.time for h in instance.history] == sorted(h.time for h in instance.history)


def scenario(tmp_path: Path, steps: str) -> Path:
    (tmp_path / "workflows").mkdir(exist_ok=True)
    write(tmp_path / "workflows" / "chain.yaml", CHAIN)
    path = tmp_path / "s.yaml"
    path.write_text(f"scenario: chain\nworkflow: chain\nsteps:\n{steps}", encoding="utf-8")
    return path


def test_a_scenario_wait_fires_a_chain(tmp_path: Path) -> None:
    path = scenario(tmp_path, "  - wait: 25\n    expect: {state: c}\n")
    result = run_scenario_file(path)
    assert result.passed, [str(f) for f in result.failures] + [str(p) for p in result.problems]
    assert result.path_lines() == [" 1. chain: timeout: a -> b", " 1. chain: timeout: b -> c"]


def test_a_wait_that_fires_nothing_says_why_and_steps_keep_the_file_numbers(
    tmp_path: Path,
) -> None:
    steps = (
        "  - wait: 4\n"  # step 1: a still has 6 s left
        "  - expect: {state: a}\n"  # step 2: does nothing
        "  - send: poke\n"  # step 3
        "  - wait: 10\n"  # step 4: a -> b
        "    expect: {state: c}\n"
    )
    result = run_scenario_file(scenario(tmp_path, steps))
    assert [str(f).split(": ", 1)[1] for f in result.failures] == [
        "step 1: waited 4 s: nothing timed out: state 'a' times out after 10 s, 6 s are left",
        "step 4: expected state 'c', got 'b'",
    ]
    assert [f.location.line for f in result.failures] == [4, 8]
    assert result.path_lines() == [
        " 1. waited 4 s: nothing timed out: state 'a' times out after 10 s, 6 s are left",
        " 3. chain: poke: a -> a",
        " 4. chain: timeout: a -> b",
    ]
