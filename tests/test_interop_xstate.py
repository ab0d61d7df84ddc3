"""The differential test: every scenario replayed in XState v5 agrees with linkflow.

Every workflow is exported with `xstate_config` and loaded into XState (Node.js, the `xstate`
package `make` installs into interop/xstate/); every scenario of tests/scenarios and
examples/scenarios is run by linkflow, and its events (and waits) are replayed in XState, each
guard's outcome taken from linkflow's own run. After every step, the workflow and its active
states must be the same in both engines. One Node process replays every scenario.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from linkflow.interop.xstate import xstate_config
from linkflow.language.loader import load
from linkflow.language.model import active_leaves
from linkflow.language.scenario_check import read_scenario
from linkflow.testing.scenarios import ScenarioResult, run_scenario, scenario_files
from tests.support.requirements import unavailable

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "interop" / "xstate"
SCENARIOS = [
    ROOT / "tests" / "scenarios",
    ROOT / "examples" / "scenarios",
    ROOT / "examples" / "supplier_order" / "scenarios",
]
#: Refusals that come before the state machine (a payload, a choice, a failed action):
#: the exported machine has no part for them, so XState is not sent those events.
BEFORE_THE_MACHINE = {"invalid_payload", "not_offered", "action_failed"}


def guard_outcomes(checks: tuple[tuple[int, str, bool], ...]) -> dict[str, bool]:
    """Each guard linkflow checked in a step, by name, with whether it held."""
    out: dict[str, bool] = {}
    for _, label, held in checks:
        negated = label.startswith("!")
        out[label.lstrip("!")] = (not held) if negated else held
    return out


def trace(path: Path, initials: dict[str, str]) -> dict[str, Any]:
    """The scenario as linkflow ran it: each step's event or wait, guard outcomes and the
    workflow and active states after it."""
    doc, problems = read_scenario(path)
    assert doc is not None, problems
    result: ScenarioResult = run_scenario(doc)
    assert not result.problems, [str(p) for p in result.problems]
    start = doc.value["workflow"]
    current = [start, sorted(active_leaves(initials[start]))]
    by_number: dict[int, list[Any]] = {}
    for number, entry in zip(result.step_numbers, result.steps, strict=True):
        by_number.setdefault(number, []).append(entry)
    steps: list[dict[str, Any]] = []
    for number, spec in enumerate(doc.value["steps"], 1):
        answer = "respond" in spec or "fail" in spec  # a call's answer: `<as>.done`/`.failed`
        if "send" not in spec and "wait" not in spec and not answer:
            continue
        entries = by_number.get(number, [])
        if ("send" in spec or answer) and not entries:
            break  # the run stopped before this step
        for entry in entries:
            if entry.handed_to:
                current = [entry.handed_to, sorted(active_leaves(initials[entry.handed_to]))]
            elif entry.step.accepted:
                # a parallel state's leaves, one per region, as XState lists them (sorted)
                current = [entry.workflow, sorted(active_leaves(entry.step.target))]
        if answer:
            step = entries[-1].step
            name, _, outcome = step.event.rpartition(".")
            steps.append(
                {
                    "kind": "answer",
                    "number": number,
                    "id": name,
                    "ok": outcome == "done",
                    # the stub's answer as the scenario writes it (XState's `output`/`error`)
                    "answer": spec.get("respond") or {"fail": spec["fail"]},
                    "guards": guard_outcomes(step.checks),
                    "handoff": entries[-1].handed_to,
                    "expect": current,
                }
            )
        elif "send" in spec:
            step = entries[-1].step
            kind = step.refusal.kind.value if step.refusal else ""
            steps.append(
                {
                    "kind": "send",
                    "number": number,
                    "event": spec["send"],
                    "guards": guard_outcomes(step.checks),
                    "skip": kind in BEFORE_THE_MACHINE,
                    "handoff": entries[-1].handed_to,
                    "expect": current,
                }
            )
        else:
            handoff = next((e.handed_to for e in entries if e.handed_to), "")
            seconds = float(spec["wait"])
            ms = int(seconds * 1000) if (seconds * 1000).is_integer() else seconds * 1000
            steps.append(
                {"kind": "wait", "number": number, "ms": ms, "handoff": handoff, "expect": current}
            )
    return {"name": f"{path.parent.name}/{path.name}", "workflow": start, "steps": steps}


def node_and_xstate() -> str:
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js (node) is not installed")
    if not (HARNESS / "node_modules" / "xstate" / "package.json").is_file():
        unavailable("xstate is not installed: run `make setup` (npm ci in interop/xstate)")
    return node


def replay(node: str, payload: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [node, str(HARNESS / "replay.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=HARNESS,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture(scope="module")
def machines() -> tuple[dict[str, Any], dict[str, str]]:
    loaded = load([ROOT / "workflows", ROOT / "examples"], kinds=["workflow"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    configs = {name: xstate_config(w) for name, w in sorted(loaded.workflows.items())}
    return configs, {name: w.initial for name, w in loaded.workflows.items()}


def test_xstate_agrees_with_linkflow_on_every_scenario(
    machines: tuple[dict[str, Any], dict[str, str]],
) -> None:
    node = node_and_xstate()
    configs, initials = machines
    files, problems = scenario_files(SCENARIOS)
    assert not problems
    scenarios = [trace(path, initials) for path in files]
    report = replay(node, {"machines": configs, "scenarios": scenarios})
    assert report["mismatches"] == []
    assert report["scenarios"] == len(files) > 50
    # every step was compared, and most events went through XState's own transition choice
    assert report["compared"] == report["steps"] == sum(len(s["steps"]) for s in scenarios)
    # effects: every supplier_order scenario, its invoke's answers as XState's actor events
    effects = [s for s in scenarios if s["workflow"] == "supplier_order"]
    assert len(effects) == 5
    answers = [step for s in effects for step in s["steps"] if step["kind"] == "answer"]
    assert report["answered"] == len(answers) == 7
    assert {step["ok"] for step in answers} == {True, False}
    assert configs["supplier_order"]["states"]["reserving"]["invoke"]["src"] == "supplier"
    assert report["sent"] > 5 * report["skipped"]
    # handoffs and timeouts are among what was compared
    steps = [step for s in scenarios for step in s["steps"]]
    assert sum(1 for step in steps if step["handoff"]) >= 10
    timed_out = [
        after
        for s in scenarios
        for before, after in zip(s["steps"], s["steps"][1:], strict=False)
        if after["kind"] == "wait" and after["expect"] != before["expect"]
    ]
    assert len(timed_out) >= 2
    # compound states: nested leaves, a done event and a parent's transition were compared
    nested = [step for step in steps if any("." in leaf for leaf in step["expect"][1])]
    assert len(nested) >= 10
    assert "onDone" in configs["expense_claim"]["states"]["preparing"]
    assert "back" in configs["expense_claim"]["states"]["approval"]["on"]
    # parallel regions: configurations of two active leaves, and the done event of both
    parallel = [step for step in steps if len(step["expect"][1]) == 2]
    assert len(parallel) >= 10
    assert configs["onboarding"]["states"]["onboarding"]["type"] == "parallel"
    assert "onDone" in configs["onboarding"]["states"]["onboarding"]
    # one event moving both regions in one step, and a region's own done event
    both_moved = [
        after
        for s in scenarios
        for before, after in zip(s["steps"], s["steps"][1:], strict=False)
        if after["kind"] == "send"
        and len(before["expect"][1]) == len(after["expect"][1]) == 2
        and not set(before["expect"][1]) & set(after["expect"][1])
    ]
    assert [step["event"] for step in both_moved] == ["remind"]
    quoting = configs["freight_quote"]["states"]["quoting"]["states"]
    assert "onDone" in quoting["north"]
    assert "onDone" in quoting["south"]


def test_a_disagreement_is_reported(machines: tuple[dict[str, Any], dict[str, str]]) -> None:
    """The comparison can fail: a machine whose transition goes elsewhere is caught."""
    node = node_and_xstate()
    configs, initials = machines
    wrong = json.loads(json.dumps(configs))
    wrong["document_review"]["states"]["draft"]["on"]["submit"][0]["target"] = "rejected"
    scenario = trace(ROOT / "examples" / "scenarios" / "document_review_publish.yaml", initials)
    report = replay(node, {"machines": wrong, "scenarios": [scenario]})
    assert len(report["mismatches"]) == 1
    assert report["mismatches"][0]["step"] == 1
    message = report["mismatches"][0]["message"]
    assert (
        message
        == 'linkflow: ["document_review",["in_review"]], XState: ["document_review",["rejected"]]'
    )


PINGER = """\
workflow: pinger
initial: waiting
states:
  waiting:
    waiting: {for: a ping, timeout: {seconds: 60, to: gone}}
  gone: {final: timed_out}
events:
  ping: {description: Someone is still there.}
transitions:
  - {event: ping, from: waiting, to: waiting, description: Wait again from now.}
"""

PINGER_SCENARIO = """\
scenario: a_ping_starts_the_wait_over
workflow: pinger
workflows: .
steps:
  - wait: 40
  - send: ping
  - wait: 40
    expect: {state: waiting}
  - wait: 30
    expect: {state: gone}
"""


def test_a_transition_back_to_its_state_restarts_the_timeout_in_both(tmp_path: Path) -> None:
    """linkflow starts a wait over when a transition re-enters the state; the export says
    `reenter: true`, without which XState keeps the first timer and ends the wait early."""
    node = node_and_xstate()
    (tmp_path / "pinger.yaml").write_text(PINGER, encoding="utf-8")
    (tmp_path / "ping.scenario.yaml").write_text(PINGER_SCENARIO, encoding="utf-8")
    loaded = load([tmp_path / "pinger.yaml"], kinds=["workflow"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    config = xstate_config(loaded.workflows["pinger"])
    assert config["states"]["waiting"]["on"]["ping"][0]["reenter"] is True
    scenario = trace(tmp_path / "ping.scenario.yaml", {"pinger": "waiting"})
    assert [s["expect"] for s in scenario["steps"]] == [
        ["pinger", ["waiting"]],
        ["pinger", ["waiting"]],
        ["pinger", ["waiting"]],
        ["pinger", ["gone"]],
    ]
    report = replay(node, {"machines": {"pinger": config}, "scenarios": [scenario]})
    assert report["mismatches"] == []
    del config["states"]["waiting"]["on"]["ping"][0]["reenter"]
    report = replay(node, {"machines": {"pinger": config}, "scenarios": [scenario]})
    assert [m["step"] for m in report["mismatches"]] == [3]


def test_a_missing_node_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under CI=true the differential test cannot be skipped: a missing Node.js fails it."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(pytest.fail.Exception, match=r"required in CI: Node\.js"):
        node_and_xstate()


NESTED = """\
workflow: nested
initial: a
states:
  a:
    initial: one
    states:
      one: {}
      two:
        initial: deep
        states:
          deep: {}
          over: {final: done}
      over: {final: done}
  b:
    initial: waits
    states:
      waits: {waiting: {for: an answer, timeout: {seconds: 60, to: a}}}
  end: {final: completed}
  stopped: {final: cancelled}
events:
  go: {}
  back: {}
  finish: {}
  stop: {}
guards:
  open:
    when: "true"
    message: Closed.
    message_when_true: Open.
transitions:
  - {event: go, from: a.one, to: a.two}
  - {event: go, from: a, to: end, guards: [open]}
  - {event: go, from: a, to: b, guards: ["!open"]}
  - {event: back, from: a.two, to: a}
  - {event: back, from: b, to: a.two.deep}
  - {event: finish, from: a.two.deep, to: a.two.over}
  - {event: done.state.a.two, from: a.two, to: a.over}
  - {event: done.state.a, from: a, to: b}
  - {event: stop, from: "*", to: stopped}
"""

NESTED_SCENARIO = """\
scenario: nested_moves
workflow: nested
workflows: .
steps:
  - send: go
    expect: {state: a.two.deep}
  - send: back
    expect: {state: a.one}
  - send: go
  - send: finish
    expect: {state: b.waits}
  - send: back
    expect: {state: a.two.deep}
  - send: go
    expect: {state: end}
"""

NESTED_TIMEOUT = """\
scenario: nested_timeout
workflow: nested
workflows: .
steps:
  - send: go
  - send: finish
    expect: {state: b.waits}
  - wait: 61
    expect: {state: a.one}
  - send: stop
    expect: {state: stopped}
"""


def test_xstate_agrees_on_nesting_rules(tmp_path: Path) -> None:
    """A child's transition before its parent's, a parent's where the child has none, `*`
    last, done events raised one inside the other in one step, a timeout to a compound
    state, a transition to a state nested two deep: the same active leaf in both engines."""
    node = node_and_xstate()
    (tmp_path / "nested.yaml").write_text(NESTED, encoding="utf-8")
    (tmp_path / "moves.scenario.yaml").write_text(NESTED_SCENARIO, encoding="utf-8")
    (tmp_path / "timeout.scenario.yaml").write_text(NESTED_TIMEOUT, encoding="utf-8")
    loaded = load([tmp_path / "nested.yaml"], kinds=["workflow"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    config = xstate_config(loaded.workflows["nested"])
    initials = {"nested": loaded.workflows["nested"].initial}
    scenarios = [
        trace(tmp_path / name, initials)
        for name in ("moves.scenario.yaml", "timeout.scenario.yaml")
    ]
    assert [s["expect"][1] for s in scenarios[0]["steps"]] == [
        ["a.two.deep"],
        ["a.one"],
        ["a.two.deep"],
        ["b.waits"],
        ["a.two.deep"],
        ["end"],
    ]
    report = replay(node, {"machines": {"nested": config}, "scenarios": scenarios})
    assert report["mismatches"] == []
    assert report["compared"] == 10


PARALLEL = """\
workflow: pair
initial: before
states:
  before: {}
  both:
    parallel: true
    states:
      left:
        initial: l1
        states:
          l1: {}
          l2: {}
          l3: {final: done}
      right:
        initial: r1
        states:
          r1: {}
          r2: {final: done}
  end: {final: completed}
  stopped: {final: cancelled}
events:
  start: {}
  go: {}
  turn: {}
  reset: {}
  stop: {}
transitions:
  - {event: start, from: before, to: both.right.r2}
  - {event: go, from: both, to: stopped}
  - {event: go, from: both.left, to: both.left.l1}
  - {event: go, from: both.left.l1, to: both.left.l2}
  - {event: go, from: both.left.l2, to: both.left.l3}
  - {event: turn, from: both.right.r1, to: both.right.r2}
  - {event: reset, from: both, to: both}
  - {event: done.state.both, from: both, to: end}
  - {event: stop, from: "*", to: stopped}
"""

PARALLEL_SCENARIO = """\
scenario: regions
workflow: pair
workflows: pair.yaml
steps:
  - send: start
  - send: go
  - send: reset
  - send: go
  - send: go
  - send: go
  - send: turn
  - send: go
  - send: go
  - send: stop
"""


def test_xstate_agrees_on_parallel_regions(tmp_path: Path) -> None:
    """Entering one region's leaf starts the other in its initial; a leaf's transition before
    its region's, both before the parallel state's; re-entering the parallel state restarts
    every region; the done event once both regions are done: the same leaves in both."""
    node = node_and_xstate()
    (tmp_path / "pair.yaml").write_text(PARALLEL, encoding="utf-8")
    (tmp_path / "regions.scenario.yaml").write_text(PARALLEL_SCENARIO, encoding="utf-8")
    loaded = load([tmp_path / "pair.yaml"], kinds=["workflow"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    config = xstate_config(loaded.workflows["pair"])
    assert config["states"]["both"]["type"] == "parallel"
    scenario = trace(tmp_path / "regions.scenario.yaml", {"pair": "before"})
    assert [s["expect"][1] for s in scenario["steps"]] == [
        ["both.left.l1", "both.right.r2"],
        ["both.left.l2", "both.right.r2"],
        ["both.left.l1", "both.right.r1"],
        ["both.left.l2", "both.right.r1"],
        ["both.left.l3", "both.right.r1"],
        ["both.left.l1", "both.right.r1"],
        ["both.left.l1", "both.right.r2"],
        ["both.left.l2", "both.right.r2"],
        ["end"],
        ["end"],
    ]
    report = replay(node, {"machines": {"pair": config}, "scenarios": [scenario]})
    assert report["mismatches"] == []


def test_a_wrong_answer_mapping_is_reported(
    machines: tuple[dict[str, Any], dict[str, str]],
) -> None:
    """The answer events are compared too: an `onDone` that goes elsewhere, and an invoke
    XState does not run when linkflow's call is answered, are both caught."""
    node = node_and_xstate()
    configs, initials = machines
    scenario = trace(
        ROOT / "examples" / "supplier_order" / "scenarios" / "reserved_and_confirmed.yaml",
        initials,
    )
    assert [step["kind"] for step in scenario["steps"]] == ["send", "answer", "send"]
    assert scenario["steps"][1]["id"] == "reserve"
    assert scenario["steps"][1]["ok"] is True
    wrong = json.loads(json.dumps(configs))
    wrong["supplier_order"]["states"]["reserving"]["invoke"]["onDone"][0]["target"] = "unavailable"
    report = replay(node, {"machines": wrong, "scenarios": [scenario]})
    assert [(m["step"], m["message"]) for m in report["mismatches"]] == [
        (
            3,
            'linkflow: ["supplier_order",["reserved"]], XState: ["supplier_order",["unavailable"]]',
        )
    ]
    unplugged = json.loads(json.dumps(configs))
    invoke = unplugged["supplier_order"]["states"]["reserving"].pop("invoke")
    unplugged["supplier_order"]["states"]["reserving"]["on"] = {
        "xstate.done.actor.reserve": invoke["onDone"]
    }
    report = replay(node, {"machines": unplugged, "scenarios": [scenario]})
    assert [m["step"] for m in report["mismatches"]] == [3]
    assert "XState runs no actor 'reserve'" in report["mismatches"][0]["message"]


ASKING = """\
workflow: asking
initial: idle
states:
  idle: {}
  asking:
    invoke: {service: oracle, as: ask, with: {q: data.question}}
    initial: first
    states:
      first: {}
      second: {}
  answered: {}
  given_up: {final: cancelled}
  done: {final: completed}
data:
  question: ""
events:
  go: {}
  next: {}
  stop: {}
transitions:
  - {event: go, from: idle, to: asking}
  - {event: next, from: asking.first, to: asking.second}
  - {event: ask.done, from: asking.second, to: done}
  - {event: ask.done, from: asking, to: answered}
  - {event: ask.failed, from: asking, to: idle, notify: [{service: oracle, with: {q: "'again'"}}]}
  - {event: go, from: answered, to: asking}
  - {event: stop, from: "*", to: given_up}
"""

ASKING_SCENARIO = """\
scenario: asked_twice
workflow: asking
workflows: .
steps:
  - send: go
    expect: {state: asking.first}
  - respond: {status: 200, body: {}}
    expect: {state: answered}
  - send: go
  - send: next
  - fail: timeout
    expect: {state: idle}
  - send: go
  - send: next
  - respond: {status: 200, body: {}}
    expect: {state: done}
"""


def test_xstate_agrees_on_an_invoke_of_a_compound_state(tmp_path: Path) -> None:
    """An invoke on a compound state, its answer taken by the parent (`onDone`) or by a child
    before it (`on: {"xstate.done.actor.ask": ...}` on the child), its failure by the parent:
    the same states in both engines, the invoke started again on each entry."""
    node = node_and_xstate()
    (tmp_path / "services.yaml").write_text(
        "services:\n  oracle: {base_url: 'http://127.0.0.1:9', path: /ask}\n", encoding="utf-8"
    )
    (tmp_path / "asking.yaml").write_text(ASKING, encoding="utf-8")
    (tmp_path / "asked.scenario.yaml").write_text(ASKING_SCENARIO, encoding="utf-8")
    loaded = load([tmp_path / "asking.yaml"], kinds=["workflow"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    config = xstate_config(loaded.workflows["asking"])
    asking = config["states"]["asking"]
    assert asking["invoke"]["id"] == "ask"
    assert [t["target"] for t in asking["invoke"]["onDone"]] == ["#asking.answered"]
    assert asking["invoke"]["onError"][0]["actions"] == [
        {"type": "linkflow.notify", "params": {"service": "oracle", "with": {"q": "'again'"}}}
    ]
    second = asking["states"]["second"]["on"]["xstate.done.actor.ask"]
    assert [t["target"] for t in second] == ["#asking.done"]
    scenario = trace(tmp_path / "asked.scenario.yaml", {"asking": "idle"})
    assert [s["kind"] for s in scenario["steps"]].count("answer") == 3
    assert [s["expect"][1] for s in scenario["steps"]] == [
        ["asking.first"],
        ["answered"],
        ["asking.first"],
        ["asking.second"],
        ["idle"],
        ["asking.first"],
        ["asking.second"],
        ["done"],
    ]
    report = replay(node, {"machines": {"asking": config}, "scenarios": [scenario]})
    assert report["mismatches"] == []
    assert report["answered"] == 3
