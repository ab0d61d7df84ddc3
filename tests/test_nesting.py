"""Compound states: a transition on a parent applies in every state in it, a deeper one first;
entry and exit actions run in order along a transition; a `final: done` child raises
`done.state.<path>`; the instance's state is the active leaf's dotted path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

import linkflow
from linkflow import RefusalKind, Workflow, World
from linkflow.analysis.explore import explore
from linkflow.analysis.generate import skeletons
from linkflow.analysis.mutate.operators import mutants
from linkflow.cli import main
from linkflow.language.loader import load, load_text, load_workflow, workflow_from_text
from linkflow.output.mermaid import to_mermaid
from linkflow.output.pages import doc_files
from linkflow.output.reader import reader_diagram
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Instance
from linkflow.runtime.world_loader import load_world
from linkflow.studio.playground import Playground
from linkflow.testing.scenarios import run_scenario_file

ROOT = Path(__file__).resolve().parent.parent

#: Every kind of move between nested states, each logging what it exits and enters.
MOVES = """\
workflow: moves
initial: a
data: {log: []}
states:
  a:
    initial: one
    exit: [{append: {path: data.log, value: "'exit a'"}}]
    states:
      one:
        exit: [{append: {path: data.log, value: "'exit a.one'"}}]
      two:
        entry: [{append: {path: data.log, value: "'enter a.two'"}}]
        exit: [{append: {path: data.log, value: "'exit a.two'"}}]
      over: {final: done}
  b:
    initial: inner
    entry: [{append: {path: data.log, value: "'enter b'"}}]
    states:
      inner:
        initial: deep
        entry: [{append: {path: data.log, value: "'enter b.inner'"}}]
        states:
          deep:
            entry: [{append: {path: data.log, value: "'enter b.inner.deep'"}}]
  end: {final: completed}
  stopped: {final: cancelled}
events:
  go: {}
  jump: {}
  finish: {}
  stop: {}
transitions:
  - event: go
    from: a.one
    to: a.two
    actions: [{append: {path: data.log, value: "'go'"}}]
  - event: go
    from: a
    to: end
  - event: jump
    from: a
    to: b
    actions: [{append: {path: data.log, value: "'jump'"}}]
  - event: finish
    from: a.two
    to: a.over
  - event: done.state.a
    from: a
    to: b
  - event: stop
    from: "*"
    to: stopped
  - event: go
    from: b
    to: end
"""


@pytest.fixture(scope="module")
def moves() -> Workflow:
    return workflow_from_text(MOVES, "moves.yaml")


def _log(instance: Instance) -> list[str]:
    log: list[str] = instance.data["log"]
    return log


def test_the_state_is_the_active_leaf_path(moves: Workflow) -> None:
    assert moves.initial == "a.one"
    assert set(moves.states) == {"a.one", "a.two", "a.over", "b.inner.deep", "end", "stopped"}
    assert set(moves.compounds) == {"a", "b", "b.inner"}
    assert Engine(moves).create().state == "a.one"


def test_a_childs_own_transition_wins_over_its_parents(moves: Workflow) -> None:
    instance = Engine(moves).create()
    step = instance.send("go")
    assert (step.source, step.target) == ("a.one", "a.two")
    # a.two declares no `go`: the parent's applies
    assert instance.send("go").target == "end"


def test_exits_run_innermost_first_then_the_transition_then_entries_outermost_first(
    moves: Workflow,
) -> None:
    instance = Engine(moves).create()
    instance.send("go")
    assert _log(instance) == ["exit a.one", "go", "enter a.two"]
    step = instance.send("jump")
    assert step.target == "b.inner.deep"
    assert _log(instance)[3:] == [
        "exit a.two",
        "exit a",
        "jump",
        "enter b",
        "enter b.inner",
        "enter b.inner.deep",
    ]


def test_a_transition_inside_its_compound_state_does_not_leave_it(moves: Workflow) -> None:
    instance = Engine(moves).create()
    instance.send("go")
    assert "exit a" not in _log(instance)


def test_a_done_child_raises_the_done_event_in_the_same_step(moves: Workflow) -> None:
    instance = Engine(moves).create()
    instance.send("go")
    step = instance.send("finish")
    assert (step.source, step.target) == ("a.two", "b.inner.deep")
    assert [(t.event, left) for t, left in step.chained] == [("done.state.a", "a.over")]
    assert len(instance.history) == 2


def test_a_done_event_cannot_be_sent(moves: Workflow) -> None:
    instance = Engine(moves).create()
    step = instance.send("done.state.a")
    assert step.refusal is not None
    assert step.refusal.kind is RefusalKind.UNKNOWN_EVENT
    assert instance.state == "a.one"


def test_star_applies_in_nested_states(moves: Workflow) -> None:
    instance = Engine(moves).create()
    instance.send("jump")
    assert instance.send("stop").target == "stopped"


def test_a_failing_entry_action_undoes_the_whole_step() -> None:
    text = MOVES.replace(
        "entry: [{append: {path: data.log, value: \"'enter b'\"}}]",
        "entry: [{set: {path: 'world.nothing[\"here\"].field', value: \"'x'\"}}]",
    )
    workflow = workflow_from_text(text, "moves.yaml", check_graph=False)
    instance = Engine(workflow).create(world=World())
    step = instance.send("jump")
    assert step.refusal is not None
    assert step.refusal.kind is RefusalKind.ACTION_FAILED
    assert (instance.state, _log(instance)) == ("a.one", [])


def test_transitions_declared_on_different_levels_are_not_ambiguous(moves: Workflow) -> None:
    # `go` from a.one and from a: no guards, yet no ambiguity problem (the child's wins)
    assert load_text(MOVES, "moves.yaml").problems == []


def test_two_transitions_declared_on_one_compound_state_are_ambiguous() -> None:
    text = MOVES.replace(
        "  - event: go\n    from: b\n",
        "  - event: jump\n    from: a\n    to: end\n  - event: go\n    from: b\n",
    )
    messages = [p.message for p in load_text(text, "moves.yaml").problems]
    assert any(m.startswith("ambiguous: in state 'a.one', event 'jump'") for m in messages)


def test_entry_actions_on_the_initial_states_are_refused_with_their_location() -> None:
    text = MOVES.replace(
        "    initial: one\n    exit:",
        "    initial: one\n    entry: [{set: {path: data.log, value: '[]'}}]\n    exit:",
    )
    problems = load_text(text, "moves.yaml").problems
    assert [(p.location.line, p.message.split(":")[0]) for p in problems] == [
        (7, "'a' is entered when an instance is created, where no entry actions run yet")
    ]


def test_explore_knows_a_parents_transition_is_shadowed_where_a_child_declares_its_own(
    moves: Workflow,
) -> None:
    rows = explore(moves).rows
    assert {(row.ending.kind, row.events) for row in rows} == {
        ("completed", ("go", "go")),
        ("cancelled", ("stop",)),
    }
    # in a.one, `go` always takes a.one's own transition, never the parent's (to end)
    assert all(row.events != ("go",) for row in rows)


def test_the_example_runs_its_claim_to_paid() -> None:
    workflow = load_workflow(ROOT / "examples" / "expense_claim.yaml")
    world, problems = load_world(ROOT / "examples" / "expense_world.yaml")
    assert world is not None, problems
    instance = Engine(workflow).create({"claim": "taxi"}, world)
    for event in ("next", "add_receipt", "next", "approve", "approve"):
        assert instance.send(event).accepted, event
    assert (instance.state, instance.outcome) == ("paid", "completed")


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "examples" / "scenarios").glob("expense_claim_*.yaml")),
    ids=lambda p: p.name,
)
def test_the_example_scenarios_pass(path: Path) -> None:
    # one of them expects `state: approval`, which holds in any state in it
    result = run_scenario_file(path)
    assert result.passed, [str(f) for f in (*result.failures, *result.problems)]


def test_show_lists_compound_states_with_their_entry_and_exit_actions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["show", str(ROOT / "examples" / "expense_claim.yaml")]) == 0
    text = capsys.readouterr().out
    assert "  preparing.ready [final: done, raises done.state.preparing]" in text
    assert "  approval [holds manager, finance, approved; starts in manager]" in text
    assert "      on exit: append data.log = 'approval ended'" in text
    assert "  back: approval.finance -> approval.manager" in text


WRITES_ON_ENTRY = """\
workflow: writes
initial: idle
data: {item: x}
states:
  idle: {}
  busy:
    initial: working
    entry: [{set: {path: "world.items[data.item]", value: "{'state': 'busy'}"}}]
    states:
      working: {}
  stopped: {final: cancelled}
events:
  start: {}
  stop: {}
transitions:
  - {event: start, from: idle, to: busy}
  - {event: stop, from: "*", to: stopped}
invariants:
  nothing_on_stop:
    description: Stopping leaves the world as it was.
    no_writes_on: [cancelled]
"""


def test_invariants_see_entry_actions(tmp_path: Path) -> None:
    (tmp_path / "writes.yaml").write_text(WRITES_ON_ENTRY, encoding="utf-8")
    problems = load([tmp_path / "writes.yaml"]).problems
    assert [p.message.splitlines()[0] for p in problems] == [
        "invariant 'nothing_on_stop' is broken: 'start' writes to the world, and the path then "
        "ends cancelled in 'stopped'"
    ]
    # without the entry action nothing writes: the invariant holds
    quiet = WRITES_ON_ENTRY.replace(
        "    entry: [{set: {path: \"world.items[data.item]\", value: \"{'state': 'busy'}\"}}]\n", ""
    )
    (tmp_path / "writes.yaml").write_text(quiet, encoding="utf-8")
    assert load([tmp_path / "writes.yaml"]).problems == []


def test_mutate_drops_entry_and_exit_actions_too() -> None:
    workflow = load_workflow(ROOT / "examples" / "expense_claim.yaml")
    dropped = [m for m in mutants(workflow, ["drop_action"]) if m.transition is None]
    assert sorted(m.edit for m in dropped) == [
        "'approval' no longer does `append` data.log on entry",
        "'approval' no longer does `append` data.log on exit",
        "'approval.finance' no longer does `append` data.log on entry",
        "'preparing' no longer does `append` data.log on exit",
        "'preparing.receipts' no longer does `append` data.log on entry",
    ]
    finance = next(m for m in dropped if m.state == "approval.finance")
    assert finance.model.states["approval.finance"].entry == ()


@pytest.mark.parametrize("durable", [False, True], ids=["memory", "store"])
def test_the_facade_runs_the_example_in_memory_and_in_a_store(
    durable: bool, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}" if durable else None
    with linkflow.open(
        ROOT / "examples" / "expense_claim.yaml",
        world=ROOT / "examples" / "expense_world.yaml",
        store=store,
    ) as project:
        run = project.start("expense_claim", data={"claim": "taxi"})
        assert run.state == "preparing.details"
        for event in ("next", "add_receipt", "next", "approve"):
            assert run.send(event).accepted, event
        assert run.state == "approval.finance"
        assert run.send("approve").target == "paid"
        assert run.outcome == "completed"
        again = project.run(run.instance)
        assert (again.state, again.data["log"][-1]) == ("paid", "approval ended")


def test_docs_and_the_reader_view_show_compound_states() -> None:
    workflow = load_workflow(ROOT / "examples" / "expense_claim.yaml")
    page = doc_files({workflow.name: workflow})["expense_claim.md"].decode()
    assert "- `approval`: The claim is being approved. Holds `approval.manager`," in page
    assert "  - on exit: does `append data.log = 'approval ended'`" in page
    assert "  - `done.state.approval` → `paid` when its `final: done` state is entered" in page
    reader = to_mermaid(reader_diagram(workflow))
    assert '"<b>Finance</b>"' in reader
    assert "when Approval is<br/>done" in reader


def test_generate_never_sends_a_done_event(tmp_path: Path) -> None:
    workflow = load_workflow(ROOT / "examples" / "expense_claim.yaml")
    made = {s.name: yaml.safe_load(s.text) for s in skeletons(workflow, None, tmp_path)}
    sent = {step.get("send") for doc in made.values() for step in doc["steps"]}
    assert not any(str(event).startswith("done.state.") for event in sent)
    last = made["todo_expense_claim_done_state_approval_to_paid"]["steps"][-1]
    assert (last["send"], last["expect"]) == ("approve", {"state": "paid"})


def test_the_studio_playground_shows_the_active_leaf(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    playground = Playground(
        [str(tmp_path / "examples")],
        str(tmp_path / "examples" / "expense_world.yaml"),
        {"claim": "taxi"},
        "expense_claim",
    )
    for event in ("next", "add_receipt", "next"):
        playground.send(event, {})
    view = playground.view()
    assert view["current"]["state"] == "approval.manager"
    # the diagram's node for the leaf is named by its path, which the page outlines
    assert "<title>approval.manager</title>" in playground.diagram_svg()
    assert "cluster_state_approval" in playground.diagram_svg()


def test_run_shows_the_done_events_a_step_took(capsys: pytest.CaptureFixture[str]) -> None:
    example = ROOT / "examples"
    argv = [
        "run",
        str(example / "expense_claim.yaml"),
        "--world",
        str(example / "expense_world.yaml"),
    ]
    argv += ["--data", '{"claim": "taxi"}', "-e", "next", "-e", "add_receipt", "-e", "next"]
    assert main(argv) == 0
    assert (
        " 3. next: preparing.receipts -> approval.manager (then done.state.preparing in "
        "'preparing.ready')" in capsys.readouterr().out
    )
    assert main([*argv, "--format", "json"]) == 0
    last = json.loads(capsys.readouterr().out)["steps"][-1]
    assert last["then"] == [
        {"event": "done.state.preparing", "from": "preparing.ready", "to": "approval.manager"}
    ]


SHADOWED = """\
workflow: shadowed
initial: idle
data: {item: x}
states:
  idle: {}
  busy:
    initial: working
    states:
      working: {}
  kept: {final: completed}
  stopped: {final: cancelled}
events:
  start: {}
  stop: {}
transitions:
  - {event: start, from: idle, to: busy}
  - event: stop
    from: busy
    to: stopped
    actions: [{set: {path: "world.items[data.item]", value: "{'state': 'stopped'}"}}]
  - {event: stop, from: busy.working, to: kept}
invariants:
  nothing_on_stop:
    description: Stopping leaves the world as it was.
    no_writes_on: [cancelled]
"""


def test_invariants_leave_out_a_transition_a_deeper_one_always_shadows(tmp_path: Path) -> None:
    (tmp_path / "shadowed.yaml").write_text(SHADOWED, encoding="utf-8")
    assert load([tmp_path / "shadowed.yaml"]).problems == []
    # with a guard on the child's transition, the parent's can be taken: the write is found
    guarded = SHADOWED.replace(
        "  - {event: stop, from: busy.working, to: kept}",
        "  - {event: stop, from: busy.working, to: kept, guards: [never]}\n"
        "guards:\n  never: {when: 'false', message: Never.}",
    )
    (tmp_path / "shadowed.yaml").write_text(guarded, encoding="utf-8")
    messages = [p.message.splitlines()[0] for p in load([tmp_path / "shadowed.yaml"]).problems]
    assert messages == [
        "invariant 'nothing_on_stop' is broken: 'stop' writes to the world, and the path then "
        "ends cancelled in 'stopped'"
    ]
