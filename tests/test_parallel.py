"""Parallel states: every region active at once, an event offered to each region, the instance's
state the regions' leaves joined by `+`, the parallel state done when every region is; and the
located problems for what a parallel state cannot hold yet."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import linkflow
from linkflow import Workflow
from linkflow.analysis.explore import explore
from linkflow.cli import main
from linkflow.language.loader import load_text, load_workflow
from linkflow.language.model import active_leaves, is_active
from linkflow.output.diagram import TraceStep, workflow_diagram
from linkflow.output.diagram_model import EdgeRole
from linkflow.output.mermaid import to_mermaid
from linkflow.output.pages import doc_files
from linkflow.output.reader import reader_diagram
from linkflow.runtime.engine import Engine
from linkflow.studio.playground import Playground
from linkflow.testing.scenarios import run_scenario_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "onboarding.yaml"
START = "onboarding.documents.collecting+onboarding.equipment.ordering"

#: Two regions, a transition declared on the parallel state and one around it.
PAIR = """\
workflow: pair
initial: {initial}
data: {{log: []}}
states:
  before: {{}}
  both:
    parallel: true
    states:
      left:
        initial: l1
        states:
          l1: {{}}
          l2: {{}}
          l3: {{final: done}}
      right:
        initial: r1
        states:
          r1: {{}}
          r2: {{final: done}}
  end: {{final: completed}}
  stopped: {{final: cancelled}}
events:
  start: {{}}
  go: {{}}
  turn: {{}}
  reset: {{}}
  leave: {{}}
  stop: {{}}
transitions:
  - {{event: start, from: before, to: both.right.r2}}
  - {{event: go, from: both.left.l1, to: both.left.l2}}
  - {{event: go, from: both.left.l2, to: both.left.l3}}
  - {{event: turn, from: both.right.r1, to: both.right.r2}}
  - {{event: reset, from: both, to: both}}
  - {{event: leave, from: both, to: before}}
  - {{event: done.state.both, from: both, to: end}}
  - {{event: stop, from: "*", to: stopped}}
"""


@pytest.fixture(scope="module")
def pair() -> Workflow:
    return load_text(PAIR.format(initial="both"), "pair.yaml").workflows["pair"]


def test_the_state_is_the_regions_leaves_joined_in_document_order(pair: Workflow) -> None:
    assert pair.initial == "both.left.l1+both.right.r1"
    assert len([s for s in pair.states if s.startswith("both.")]) == 6
    assert active_leaves(pair.initial) == ("both.left.l1", "both.right.r1")
    assert is_active(pair.initial, "both.right")
    assert is_active(pair.initial, "both")
    assert not is_active(pair.initial, "both.left.l2")
    assert pair.states["both.left.l3+both.right.r2"].done


def test_an_event_moves_only_the_region_that_takes_it(pair: Workflow) -> None:
    instance = Engine(pair).create()
    assert instance.send("go").target == "both.left.l2+both.right.r1"
    assert instance.send("turn").target == "both.left.l2+both.right.r2"
    refused = instance.send("turn")
    assert refused.refusal is not None
    assert refused.refusal.kind.value == "wrong_state"


def test_the_parallel_state_is_done_when_every_region_is(pair: Workflow) -> None:
    instance = Engine(pair).create()
    instance.send("turn")
    step = instance.send("go")
    assert step.target == "both.left.l2+both.right.r2"
    step = instance.send("go")  # the last region done: done.state.both in the same step
    assert (step.target, instance.outcome) == ("end", "completed")
    assert [t.event for t, _ in step.chained] == ["done.state.both"]


def test_a_transition_on_the_parallel_state_restarts_every_region(pair: Workflow) -> None:
    instance = Engine(pair).create()
    instance.send("go")
    instance.send("turn")
    assert instance.send("reset").target == "both.left.l1+both.right.r1"
    assert instance.send("stop").target == "stopped"


def test_entering_one_regions_leaf_starts_the_others_in_their_initial() -> None:
    workflow = load_text(PAIR.format(initial="before"), "pair.yaml").workflows["pair"]
    instance = Engine(workflow).create()
    assert instance.send("start").target == "both.left.l1+both.right.r2"


def test_explore_walks_the_configurations(pair: Workflow) -> None:
    kinds = {(row.ending.kind, row.ending.state) for row in explore(pair).rows}
    assert ("completed", "end") in kinds
    assert ("cancelled", "stopped") in kinds


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    parallel: true\n",
            "    parallel: true\n    initial: left\n",
            "pair.yaml:8:5: parallel state 'both' enters every region at once: it takes no "
            "`initial` (each region starts in its own)",
        ),
        (
            "      right:\n        initial: r1\n        states:\n          r1: {}\n"
            "          r2: {final: done}\n",
            "",
            "pair.yaml:7:15: parallel state 'both' needs two regions or more (it has 1): with "
            "one, make it a compound state with `initial`",
        ),
        (
            "          r1: {}\n",
            "          r1: {waiting: {for: a reply}}\n",
            "pair.yaml:18:16: `waiting` is not supported in a parallel state yet",
        ),
        (
            "  - {event: turn, from: both.right.r1, to: both.right.r2}\n",
            "  - {event: turn, from: both.right.r1, to: both.left.l2}\n",
            "pair.yaml:33:44: a transition inside region 'both.right' cannot enter another "
            "region of parallel state 'both' (not supported yet)",
        ),
        (
            "  - {event: turn, from: both.right.r1, to: both.right.r2}\n",
            "  - {event: go, from: both.right.r1, to: both.right.r2}\n",
            "pair.yaml:33:13: event 'go' is taken in regions 'both.left' and 'both.right' of "
            "parallel state 'both': one event moving several regions at once is not supported "
            "yet",
        ),
        (
            "  - {event: done.state.both, from: both, to: end}\n",
            "  - {event: done.state.both.left, from: both.left, to: end}\n",
            "pair.yaml:36:13: a region's done event ('done.state.both.left') is not supported "
            "yet: use 'done.state.both', raised when every region is done",
        ),
    ],
    ids=["initial", "one-region", "waiting", "cross-region", "two-regions", "region-done"],
)
def test_what_a_parallel_state_cannot_hold_is_a_located_problem(
    old: str, new: str, expected: str
) -> None:
    text = PAIR.format(initial="both")
    assert old in text
    problems = load_text(text.replace(old, new), "pair.yaml").problems
    assert expected in [str(p) for p in problems], [str(p) for p in problems]


def test_the_example_runs_both_regions_to_work() -> None:
    workflow = load_workflow(EXAMPLE)
    instance = Engine(workflow).create({"documents": 1})
    assert instance.state == START
    for event in ("ship", "sign", "receive"):
        assert instance.send(event).accepted, event
    assert (instance.state, instance.outcome) == ("working", "completed")


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "examples" / "scenarios").glob("onboarding_*.yaml")),
    ids=lambda p: p.name,
)
def test_the_example_scenarios_pass(path: Path) -> None:
    result = run_scenario_file(path)
    assert result.passed, [str(f) for f in (*result.failures, *result.problems)]


def test_a_scenario_states_the_set_of_active_leaves(tmp_path: Path) -> None:
    (tmp_path / "onboarding.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"))
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "scenario: s\nworkflow: onboarding\nworkflows: .\nsteps:\n"
        "  - send: ship\n"
        "    expect: {state: [onboarding.documents.collecting, onboarding.equipment.received]}\n"
        "  - send: ship\n"
        "    expect: {state: [onboarding.documents.colecting]}\n",
        encoding="utf-8",
    )
    result = run_scenario_file(scenario)
    assert not result.passed
    messages = [str(f) for f in (*result.failures, *result.problems)]
    assert any("expected state '['onboarding.documents.collecting'" in m for m in messages), (
        messages
    )


def test_the_diagram_draws_a_box_per_region_and_traces_every_active_leaf() -> None:
    workflow = load_workflow(EXAMPLE)
    steps = [
        TraceStep(
            "onboarding", 2, START, "onboarding.documents.collecting+onboarding.equipment.shipped"
        )
    ]
    diagram = workflow_diagram(workflow, steps)
    clusters = {c.id: c for c in diagram.clusters}
    assert clusters["state_onboarding__documents"].parent == "state_onboarding"
    assert clusters["state_onboarding__equipment"].parent == "state_onboarding"
    assert "parallel: every region active at once" in clusters["state_onboarding"].title
    assert not any("+" in node.id for node in diagram.nodes)
    traced = {node.id for node in diagram.nodes if node.traced}
    assert {"onboarding.documents.collecting", "onboarding.equipment.shipped"} <= traced
    ship = next(e for e in diagram.edges if e.order == (1,))
    assert ship.order
    assert (ship.source, ship.target) == (
        "onboarding.equipment.ordering",
        "onboarding.equipment.shipped",
    )
    assert "subgraph state_onboarding__equipment" in to_mermaid(diagram)


def test_the_docs_page_lists_the_regions_as_written() -> None:
    workflow = load_workflow(EXAMPLE)
    page = doc_files({workflow.name: workflow})["onboarding.md"].decode()
    assert "all active at once (parallel)" in page
    assert "- in `onboarding.equipment.ordering`: `ship` → `onboarding.equipment.shipped`" in page
    assert "collecting+" not in page.split("## Implementation", 1)[1]


def test_the_store_keeps_and_returns_the_configuration(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    with linkflow.open(EXAMPLE, store=store) as project:
        run = project.start("onboarding", data={"documents": 1})
        assert run.send("ship").accepted
        again = project.run(run.instance)
        assert again.state == "onboarding.documents.collecting+onboarding.equipment.shipped"
        assert again.send("sign").target == (
            "onboarding.documents.signed+onboarding.equipment.shipped"
        )


def test_the_studio_outlines_every_active_leaf(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    playground = Playground([str(tmp_path / "examples")], None, {}, "onboarding")
    playground.send("ship", {})
    assert playground.view()["current"]["state"] == (
        "onboarding.documents.collecting+onboarding.equipment.shipped"
    )
    svg = playground.diagram_svg()
    assert "<title>onboarding.documents.collecting</title>" in svg
    assert "<title>onboarding.equipment.shipped</title>" in svg
    # the page outlines each leaf of the `+`-joined state
    script = (ROOT / "engine" / "linkflow" / "studio" / "static" / "studio.js").read_text()
    assert 'new Set(current.split("+"))' in script


def test_a_leafs_own_transition_wins_over_its_regions_and_the_parallel_states() -> None:
    text = PAIR.format(initial="both").replace(
        "  - {event: go, from: both.left.l1, to: both.left.l2}\n",
        "  - {event: go, from: both, to: stopped}\n"
        "  - {event: go, from: both.left, to: both.left.l1}\n"
        "  - {event: go, from: both.left.l1, to: both.left.l2}\n",
    )
    loaded = load_text(text, "pair.yaml")
    assert loaded.ok, [str(p) for p in loaded.problems]
    instance = Engine(loaded.workflows["pair"]).create()
    assert instance.send("go").target == "both.left.l2+both.right.r1"  # l1's own
    assert instance.send("go").target == "both.left.l3+both.right.r1"  # l2's own
    assert instance.send("go").target == "both.left.l1+both.right.r1"  # the region's


def test_too_many_configurations_is_a_located_problem() -> None:
    leaves = "".join(f"          x{i}: {{}}\n" for i in range(7))
    regions = "".join(
        f"      r{n}:\n        initial: x0\n        states:\n{leaves}" for n in range(3)
    )
    text = (
        "workflow: big\ninitial: p\nstates:\n  p:\n    parallel: true\n    states:\n"
        f"{regions}events: {{go: {{}}}}\n"
        "transitions:\n  - {event: go, from: p.r0.x0, to: p.r0.x1}\n"
    )
    problems = [str(p) for p in load_text(text, "big.yaml").problems]
    assert problems == [
        "big.yaml:5:15: parallel state 'p' has 343 configurations (one leaf per region), more "
        "than the 256 linkflow supports: split it"
    ]


def test_the_diagrams_start_in_every_region() -> None:
    workflow = load_workflow(EXAMPLE)
    for diagram in (workflow_diagram(workflow), reader_diagram(workflow)):
        starts = [e.target for e in diagram.edges if e.role is EdgeRole.START]
        assert starts == ["onboarding.documents.collecting", "onboarding.equipment.ordering"]


def test_reports_name_a_transition_as_written_not_every_configuration() -> None:
    workflow = load_workflow(EXAMPLE)
    labels = {t.event: t.label for t in workflow.transitions}
    assert labels["ship"] == "ship: onboarding.equipment.ordering -> onboarding.equipment.shipped"
    assert labels["done.state.onboarding"] == (
        "done.state.onboarding: onboarding.documents.signed, onboarding.equipment.received "
        "-> working"
    )


def test_the_reader_view_boxes_each_region_as_going_on_at_the_same_time() -> None:
    diagram = reader_diagram(load_workflow(EXAMPLE))
    titles = {c.id: c.title for c in diagram.clusters}
    assert titles["state_onboarding__documents"] == (
        "Documents: at the same time as the other parts"
    )
    assert titles["state_onboarding__equipment"] == (
        "Equipment: at the same time as the other parts"
    )


def test_show_says_which_state_is_parallel(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "States (in a parallel state: one leaf per region, joined by +):" in out
    assert (
        "  onboarding.documents.collecting+onboarding.equipment.shipped - The hire uploads "
        "their documents. The laptop is on its way." in out
    )
    assert "  onboarding [parallel: regions documents, equipment, all active at once]" in out


def test_the_example_is_fully_covered_and_every_mutant_is_caught(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenarios = str(ROOT / "examples" / "scenarios")
    assert main(["coverage", scenarios, "--format", "json"]) in (0, 1)  # the others' gaps
    onboarding = json.loads(capsys.readouterr().out)["workflows"]["onboarding"]
    for kind in ("states", "transitions", "guard_outcomes"):
        assert onboarding[kind]["percent"] == 100.0, kind
    assert onboarding["states"]["total"] == 8  # six configurations and two ends
    code = main(["mutate", str(EXAMPLE), "--scenarios", scenarios, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["workflows"]["onboarding"]["score"] == 100.0
    assert report["workflows"]["onboarding"]["survived"] == 0


def test_with_every_region_done_and_no_done_transition_the_parallel_states_still_apply() -> None:
    text = (
        PAIR.format(initial="both").replace(
            "  - {event: done.state.both, from: both, to: end}\n",
            "  - {event: done.state.both, from: both, to: end, guards: [never]}\n",
        )
        + "guards:\n  never: {when: 'false', message: Not yet.}\n"
    )
    loaded = load_text(text, "pair.yaml")
    assert loaded.ok, [str(p) for p in loaded.problems]
    instance = Engine(loaded.workflows["pair"]).create()
    for event in ("go", "go", "turn"):
        instance.send(event)
    assert instance.state == "both.left.l3+both.right.r2"  # done, but its done event refused
    assert instance.send("reset").target == "both.left.l1+both.right.r1"


def test_validate_locates_an_unknown_state_in_a_scenarios_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "onboarding.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"))
    (tmp_path / "s.yaml").write_text(
        "scenario: s\nworkflow: onboarding\nworkflows: .\nsteps:\n"
        "  - send: ship\n"
        "    expect: {state: [onboarding.documents.collecting, onboarding.equipment.shiped]}\n",
        encoding="utf-8",
    )
    assert main(["validate", "onboarding.yaml", "s.yaml"]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines()[0] == (
        "s.yaml:6:55: no state 'onboarding.equipment.shiped' in workflow 'onboarding' "
        "(did you mean 'onboarding.equipment.shipped'?)"
    )
