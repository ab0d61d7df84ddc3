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
from linkflow.language.parallel_routes import taken_between
from linkflow.output.diagram import TraceStep, workflow_diagram
from linkflow.output.diagram_model import EdgeRole
from linkflow.output.mermaid import to_mermaid
from linkflow.output.pages import doc_files
from linkflow.output.reader import reader_diagram
from linkflow.runtime.engine import Engine
from linkflow.service.catalog import trace_of as catalog_trace
from linkflow.store import Store
from linkflow.store.listing import Filters, _within
from linkflow.studio.playground import Playground
from linkflow.testing.scenarios import run_scenario_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "onboarding.yaml"
START = "onboarding.documents.collecting+onboarding.equipment.ordering"

FREIGHT = ROOT / "examples" / "freight_quote.yaml"
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
            "          r1: {waiting: {for: a reply, timeout: {seconds: 60, to: end}}}\n",
            "pair.yaml:18:40: a timeout is not supported in a parallel state yet: it would "
            "count from when 'both.right.r1' was entered, and an instance keeps one time, its "
            "last step's, which any region's step restarts",
        ),
        (
            "          r1: {}\n",
            "          r1: {entry: [{set: {path: data.log, value: '[]'}}]}\n",
            "pair.yaml:18:16: 'both.right.r1' is entered when an instance is created, where no "
            "entry actions run yet: give the data field its start value under `data` instead",
        ),
    ],
    ids=["initial", "one-region", "timeout", "entry-at-creation"],
)
def test_what_a_parallel_state_cannot_hold_is_a_located_problem(
    old: str, new: str, expected: str
) -> None:
    text = PAIR.format(initial="both")
    assert old in text
    problems = load_text(text.replace(old, new), "pair.yaml").problems
    assert expected in [str(p) for p in problems], [str(p) for p in problems]


#: One event (`go`) declared in both regions, each with its guard; entry and exit actions on
#: the parallel state, a region and leaves, each logging its name; region done events.
JOINT = """\
workflow: joint
initial: before
data: {log: [], left_ok: true, right_ok: true}
states:
  before: {}
  both:
    parallel: true
    entry: [{append: {path: data.log, value: "'in both'"}}]
    exit: [{append: {path: data.log, value: "'out both'"}}]
    states:
      left:
        initial: l1
        exit: [{append: {path: data.log, value: "'out left'"}}]
        states:
          l1: {exit: [{append: {path: data.log, value: "'out l1'"}}]}
          l2: {entry: [{append: {path: data.log, value: "'in l2'"}}]}
          l3: {final: done}
      right:
        initial: r1
        states:
          r1: {exit: [{append: {path: data.log, value: "'out r1'"}}]}
          r2: {entry: [{append: {path: data.log, value: "'in r2'"}}]}
          r3: {final: done}
  left_first: {final: cancelled}
  end: {final: completed}
events:
  start: {}
  go: {}
  finish: {}
  bail: {}
guards:
  left_ok: {when: data.left_ok, message: Left is not ready.}
  right_ok: {when: data.right_ok, message: Right is not ready.}
transitions:
  - {event: start, from: before, to: both}
  - event: go
    from: both.left.l1
    to: both.left.l2
    guards: [left_ok]
    actions: [{append: {path: data.log, value: "'go left'"}}]
  - event: go
    from: both.right.r1
    to: both.right.r2
    guards: [right_ok]
    actions: [{append: {path: data.log, value: "'go right'"}}]
  - {event: finish, from: both.left.l2, to: both.left.l3}
  - {event: finish, from: both.right.r2, to: both.right.r3}
  - {event: bail, from: both.left.l2, to: before}
  - {event: bail, from: both.right.r2, to: both.right.r1}
  - {event: done.state.both.left, from: both.left, to: left_first}
  - {event: done.state.both, from: both, to: end}
"""


def _joint(data: dict[str, bool] | None = None, text: str = JOINT) -> linkflow.Instance:
    loaded = load_text(text, "joint.yaml")
    assert loaded.ok, [str(p) for p in loaded.problems]
    instance = Engine(loaded.workflows["joint"]).create(data or {})
    assert instance.send("start").accepted
    return instance


def test_one_event_is_taken_in_every_region_that_takes_it_in_one_step() -> None:
    instance = _joint()
    step = instance.send("go")
    assert step.target == "both.left.l2+both.right.r2"
    assert [t.index for t in step.transition.parts] == [1, 2]  # each region's, as written
    # exits (a later region's first), then the actions in document order, then the entries
    assert instance.data["log"] == [
        "in both",
        *("out r1", "out l1", "go left", "go right", "in l2", "in r2"),
    ]
    # each guard's check is the transition's that lists it
    assert step.checks == ((1, "left_ok", True), (2, "right_ok", True))
    # one history entry, to the new configuration
    entry = instance.history[-1]
    assert (entry.event, entry.source, entry.target) == (
        "go",
        "both.left.l1+both.right.r1",
        "both.left.l2+both.right.r2",
    )


@pytest.mark.parametrize(
    ("data", "target", "log"),
    [
        ({"right_ok": False}, "both.left.l2+both.right.r1", ["out l1", "go left", "in l2"]),
        ({"left_ok": False}, "both.left.l1+both.right.r2", ["out r1", "go right", "in r2"]),
    ],
    ids=["left-only", "right-only"],
)
def test_a_region_whose_guard_refuses_keeps_its_leaf_while_the_other_moves(
    data: dict[str, bool], target: str, log: list[str]
) -> None:
    instance = _joint(data)
    step = instance.send("go")
    assert (step.accepted, step.target, step.transition.parts) == (True, target, ())
    assert instance.data["log"] == ["in both", *log]


def test_an_event_no_region_can_take_is_refused_once_per_guard() -> None:
    instance = _joint({"left_ok": False, "right_ok": False})
    step = instance.send("go")
    assert step.refusal is not None
    assert (step.refusal.guard, step.refusal.message) == ("left_ok", "Left is not ready.")
    assert [r.message for r in step.refusal.also] == ["Right is not ready."]
    assert instance.state == "both.left.l1+both.right.r1"
    assert instance.data["log"] == ["in both"]


def test_a_region_transition_that_leaves_the_parallel_state_preempts_a_later_regions() -> None:
    instance = _joint()
    instance.send("go")
    step = instance.send("bail")  # the left region's leaves; the right region's is preempted
    assert (step.target, step.transition.parts, step.transition.index) == ("before", (), 5)
    assert instance.data["log"][-3:] == ["in r2", "out left", "out both"]


def test_a_regions_done_event_is_raised_before_the_parallel_states() -> None:
    instance = _joint()
    instance.send("go")
    step = instance.send("finish")  # both regions done at once: the left region's event first
    assert (step.target, instance.outcome) == ("left_first", "cancelled")
    assert [(t.event, left) for t, left in step.chained] == [
        ("done.state.both.left", "both.left.l3+both.right.r3")
    ]
    assert instance.data["log"][-2:] == ["out left", "out both"]


def test_the_parallel_states_done_event_follows_a_region_done_event_that_is_not_taken() -> None:
    text = JOINT.replace(
        "  - {event: done.state.both.left, from: both.left, to: left_first}\n",
        "  - {event: done.state.both.left, from: both.left, to: left_first, guards: [never]}\n",
    ).replace("guards:\n", "guards:\n  never: {when: 'false', message: Never.}\n")
    instance = _joint(text=text)
    instance.send("go")
    step = instance.send("finish")
    assert (step.target, instance.outcome) == ("end", "completed")
    assert [t.event for t, _ in step.chained] == ["done.state.both"]
    # the refused region done event's guard is among the step's checks
    assert ("never", False) in [(label, held) for _, label, held in step.checks]


def test_a_region_reaching_its_done_child_alone_raises_its_done_event() -> None:
    instance = _joint({"right_ok": False})
    instance.send("go")
    step = instance.send("finish")  # only the left region takes it: l2 -> l3
    assert (step.target, [t.event for t, _ in step.chained]) == (
        "left_first",
        ["done.state.both.left"],
    )


def test_a_region_leaf_waits_and_explains_an_event_no_region_takes() -> None:
    text = JOINT.replace(
        "          l1: {exit: [{append: {path: data.log, value: \"'out l1'\"}}]}\n",
        "          l1:\n"
        "            exit: [{append: {path: data.log, value: \"'out l1'\"}}]\n"
        "            waiting: {for: the left team}\n"
        "            refuses: {finish: {message: Left has not started.}}\n",
    )
    instance = _joint({"left_ok": False}, text)
    workflow = instance.workflow
    assert workflow.states[instance.state].waiting is not None
    assert workflow.states[instance.state].waiting.awaits == "the left team"
    step = instance.send("finish")  # no region takes it: the left leaf's words
    assert step.refusal is not None
    assert (step.refusal.kind.value, step.refusal.message) == (
        "wrong_state",
        "Left has not started.",
    )
    instance.send("go")  # the right region only
    assert instance.state == "both.left.l1+both.right.r2"
    step = instance.send("finish")  # the right region takes it, whatever the left leaf says
    assert (step.accepted, step.target) == (True, "both.left.l1+both.right.r3")


def test_a_transition_into_another_region_leaves_the_parallel_state_and_enters_it_again() -> None:
    text = JOINT.replace(
        "  - {event: bail, from: both.right.r2, to: both.right.r1}\n",
        "  - {event: bail, from: both.right.r2, to: both.left.l2}\n",
    )
    instance = _joint({"left_ok": False}, text)
    instance.send("go")  # the right region only: l1 + r2
    step = instance.send("bail")  # from the right region into the left one
    assert step.target == "both.left.l2+both.right.r1"  # the right region starts again
    # exits (the right region's first, then the left's), the parallel state itself, then
    # every state entered again, in document order
    assert instance.data["log"][-5:] == ["out l1", "out left", "out both", "in both", "in l2"]


def test_the_freight_quote_example_books_the_first_carrier_within_the_budget() -> None:
    workflow = load_workflow(FREIGHT)
    instance = Engine(workflow).create({"north_in_budget": False})
    instance.send("request")
    step = instance.send("remind")
    assert step.target == "quoting.north.reminded+quoting.south.reminded"
    assert instance.data["reminded"] == ["north", "south"]
    assert instance.send("north_answers").target == (
        "quoting.north.answered+quoting.south.reminded"
    )  # done, but over the budget: its done event refused
    step = instance.send("south_answers")
    assert (step.target, instance.outcome, instance.data["open"]) == (
        "booked_south",
        "completed",
        False,
    )


def test_explore_passes_through_a_configuration_a_region_done_event_leaves() -> None:
    rows = explore(load_workflow(FREIGHT)).rows
    states = {row.ending.state for row in rows}
    assert "quoting.north.asked+quoting.south.answered" not in states
    assert {"booked_north", "booked_south", "withdrawn"} <= states


def test_the_example_runs_both_regions_to_work() -> None:
    workflow = load_workflow(EXAMPLE)
    instance = Engine(workflow).create({"documents": 1})
    assert instance.state == START
    for event in ("ship", "sign", "receive"):
        assert instance.send(event).accepted, event
    assert (instance.state, instance.outcome) == ("working", "completed")


@pytest.mark.parametrize(
    "path",
    sorted(
        [
            *(ROOT / "examples" / "scenarios").glob("onboarding_*.yaml"),
            *(ROOT / "examples" / "scenarios").glob("freight_quote_*.yaml"),
        ]
    ),
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
    assert "   - `ship` → `onboarding.equipment.shipped` — The laptop leaves the warehouse." in page
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


def test_a_state_filter_finds_the_configurations_that_hold_a_leaf_or_a_state_around_it(
    store_url: str,
) -> None:
    workflow = load_workflow(EXAMPLE)
    with Store.open(store_url) as store:
        started = {}
        for name, events in {
            "fresh": [],
            "shipped": ["ship"],
            "signed": ["sign", "ship"],
            "working": ["sign", "ship", "receive"],
        }.items():
            record = store.start(workflow, {"documents": 1})
            for event in events:
                assert store.send(record.id, event).step.accepted
            started[name] = record.id

        def found(state: str, size: int = 50, scan: int = 5000) -> set[str]:
            ids: set[str] = set()
            after = None
            while True:  # keyset pages, each a bounded scan
                page = store.page(Filters(state=state), limit=size, after=after, scan=scan)
                ids |= {r.id for r in page.records}
                if page.after is None:
                    return {name for name, id_ in started.items() if id_ in ids}
                after = page.after

        assert found("onboarding.documents.collecting") == {"fresh", "shipped"}  # first leaf
        assert found("onboarding.equipment.shipped") == {"shipped", "signed"}  # a later leaf
        assert found("onboarding.equipment") == {"fresh", "shipped", "signed"}  # around one
        assert found("onboarding", size=1, scan=2) == {"fresh", "shipped", "signed"}
        assert found(START) == {"fresh"}  # a whole configuration, exactly
        assert found("working") == {"working"}
        assert found("onboarding.equip") == set()  # a path, not a prefix of a name
    assert _within("a_b%") == (
        "a_b%",
        "a\\_b\\%.%",
        "a\\_b\\%+%",
        "%+a\\_b\\%",
        "%+a\\_b\\%+%",
        "%+a\\_b\\%.%",
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


@pytest.mark.parametrize(
    ("example", "states"),
    [(EXAMPLE, 8), (FREIGHT, 13)],  # six configurations and two ends; nine and four
    ids=["onboarding", "freight_quote"],
)
def test_the_example_is_fully_covered_and_every_mutant_is_caught(
    capsys: pytest.CaptureFixture[str], example: Path, states: int
) -> None:
    scenarios = str(ROOT / "examples" / "scenarios")
    assert main(["coverage", scenarios, "--format", "json"]) in (0, 1)  # the others' gaps
    covered = json.loads(capsys.readouterr().out)["workflows"][example.stem]
    for kind in ("states", "transitions", "guard_outcomes"):
        assert covered[kind]["percent"] == 100.0, kind
    assert covered["states"]["total"] == states
    code = main(["mutate", str(example), "--scenarios", scenarios, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["workflows"][example.stem]["score"] == 100.0
    assert report["workflows"][example.stem]["survived"] == 0
    assert report["workflows"][example.stem]["killed"] > 20


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


def test_a_regions_transition_to_itself_restarts_that_region_only() -> None:
    text = JOINT.replace(
        "  - {event: bail, from: both.left.l2, to: before}\n",
        "  - {event: bail, from: both.left, to: both.left}\n",
    )
    instance = _joint({"right_ok": False}, text)
    instance.send("go")  # the left region only: l2 + r1
    step = instance.send("bail")  # declared on the left region, to itself
    assert step.target == "both.left.l1+both.right.r1"
    # the left region's leaf is left and its first state entered; the region itself, the
    # right region and the parallel state stay
    assert instance.data["log"] == ["in both", "out l1", "go left", "in l2"]


def test_an_event_id_sent_again_replays_a_step_taken_in_both_regions(store_url: str) -> None:
    with Store.open(store_url) as store:
        record = store.start(load_workflow(FREIGHT))
        store.send(record.id, "request")
        first = store.send(record.id, "remind", event_id="remind-1")
        again = store.send(record.id, "remind", event_id="remind-1")
        assert again.replayed
        assert (again.step.source, again.step.target) == (first.step.source, first.step.target)
        assert again.step.target == "quoting.north.reminded+quoting.south.reminded"
        assert again.instance.version == first.instance.version == 2


def test_a_history_entry_is_traced_to_every_region_transition_it_took() -> None:
    workflow = load_workflow(FREIGHT)
    both = "quoting.north.asked+quoting.south.asked"
    reminded = "quoting.north.reminded+quoting.south.reminded"
    south_only = "quoting.north.asked+quoting.south.reminded"
    assert [t.index for t in taken_between(workflow, both, "remind", reminded)] == [1, 2]
    assert [t.index for t in taken_between(workflow, both, "remind", south_only)] == [2]
    assert taken_between(workflow, both, "remind", "draft") == ()
    steps = catalog_trace(workflow, [("request", "draft", both), ("remind", both, reminded)])
    assert [(s.index, s.source, s.target) for s in steps] == [
        (0, "draft", both),
        (1, both, reminded),
        (2, both, reminded),
    ]
