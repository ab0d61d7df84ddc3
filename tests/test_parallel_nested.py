"""A parallel state inside a region: configurations of configurations (every active leaf, at
every depth, joined by `+` in document order), done events at each level, one event taken
in regions at every depth at once, the configuration cap, and agreement with XState and
an SCXML round trip."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import xmlschema

from linkflow import Workflow
from linkflow.analysis.explore import explore
from linkflow.interop.scxml_export import scxml_text
from linkflow.interop.scxml_import import read_scxml, workflow_yaml
from linkflow.interop.xstate import xstate_config
from linkflow.language.loader import load, load_text
from linkflow.language.model import active_leaves, is_active
from linkflow.language.parallel_routes import taken_between
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Instance
from tests.test_interop_scxml import XSD
from tests.test_interop_xstate import node_and_xstate, replay, trace

#: A job whose build region holds a parallel state of its own (tests and review).
NEST = """\
workflow: nest
initial: {initial}
data: {{log: []}}
states:
  before: {{}}
  job:
    parallel: true
    entry: [{{append: {{path: data.log, value: "'+job'"}}}}]
    exit: [{{append: {{path: data.log, value: "'-job'"}}}}]
    states:
      paperwork:
        initial: drafting
        states:
          drafting: {{}}
          filed: {{final: done}}
      build:
        initial: checks
        states:
          checks:
            parallel: true
            entry: [{{append: {{path: data.log, value: "'+checks'"}}}}]
            exit: [{{append: {{path: data.log, value: "'-checks'"}}}}]
            states:
              tests:
                initial: running
                states:
                  running: {{}}
                  passed:
                    final: done
                    entry: [{{append: {{path: data.log, value: "'+passed'"}}}}]
              review:
                initial: waiting
                states:
                  waiting: {{}}
                  approved: {{final: done}}
          shipped: {{final: done}}
  end: {{final: completed}}
  stopped: {{final: cancelled}}
events:
  begin: {{}}
  start: {{}}
  file: {{}}
  pass: {{}}
  approve: {{}}
  all: {{}}
  redo: {{}}
  again: {{}}
  stop: {{}}
transitions:
  - {{event: begin, from: before, to: job}}
  - {{event: start, from: before, to: job.build.checks.review.approved}}
  - {{event: file, from: job.paperwork.drafting, to: job.paperwork.filed}}
  - {{event: pass, from: job.build.checks.tests.running, to: job.build.checks.tests.passed}}
  - {{event: approve, from: job.build.checks.review.waiting, to: job.build.checks.review.approved}}
  - {{event: all, from: job.paperwork.drafting, to: job.paperwork.filed}}
  - {{event: all, from: job.build.checks.tests.running, to: job.build.checks.tests.passed}}
  - {{event: all, from: job.build.checks.review.waiting, to: job.build.checks.review.approved}}
  - {{event: redo, from: job.build.checks.tests, to: job.build.checks.review.waiting}}
  - {{event: again, from: job.build.checks, to: job.build.checks}}
  - {{event: done.state.job.build.checks, from: job.build.checks, to: job.build.shipped}}
  - {{event: done.state.job, from: job, to: end}}
  - {{event: stop, from: "*", to: stopped}}
"""

CHECKS = "job.build.checks"
START = f"job.paperwork.drafting+{CHECKS}.tests.running+{CHECKS}.review.waiting"


@pytest.fixture(scope="module")
def nest() -> Workflow:
    result = load_text(NEST.format(initial="before"), "nest.yaml")
    assert result.ok, [str(p) for p in result.problems]
    return result.workflows["nest"]


def begun(nest: Workflow) -> Instance:
    """An instance that entered the job: every region, at every depth, in its initial."""
    instance = Engine(nest).create()
    step = instance.send("begin")
    assert step.target == START
    assert instance.data["log"] == ["+job", "+checks"]
    instance.data["log"] = []
    return instance


def sent(instance: Instance, *events: str) -> list[str]:
    """The state after each event (every one taken)."""
    out = []
    for event in events:
        step = instance.send(event)
        assert step.refusal is None, (event, step.refusal)
        out.append(step.target)
    return out


def test_every_active_leaf_at_every_depth_is_joined_in_document_order(nest: Workflow) -> None:
    assert nest.initial == "before"
    assert START in nest.states
    assert active_leaves(START) == (
        "job.paperwork.drafting",
        f"{CHECKS}.tests.running",
        f"{CHECKS}.review.waiting",
    )
    assert is_active(START, CHECKS)
    assert is_active(START, "job.build")
    # paperwork (2) x build (shipped, or checks' 2 x 2): 2 x 5
    assert len([s for s in nest.states if s.startswith("job.")]) == 10
    assert "job.paperwork.filed+job.build.shipped" in nest.states
    assert nest.states["job.paperwork.filed+job.build.shipped"].done
    # the inner parallel state done is not the outer one done: build is not in its final
    assert not nest.states[
        f"job.paperwork.filed+{CHECKS}.tests.passed+{CHECKS}.review.approved"
    ].done


def test_a_nested_regions_event_keeps_every_other_regions_leaf(nest: Workflow) -> None:
    instance = begun(nest)
    assert sent(instance, "approve", "file") == [
        f"job.paperwork.drafting+{CHECKS}.tests.running+{CHECKS}.review.approved",
        f"job.paperwork.filed+{CHECKS}.tests.running+{CHECKS}.review.approved",
    ]


def test_done_events_at_each_level_in_one_step(nest: Workflow) -> None:
    instance = begun(nest)
    sent(instance, "approve", "file")
    step = instance.send("pass")  # tests done -> checks done -> build done -> job done
    assert (step.target, instance.outcome) == ("end", "completed")
    assert [t.event for t, _ in step.chained] == [f"done.state.{CHECKS}", "done.state.job"]
    assert instance.data["log"] == ["+passed", "-checks", "-job"]


def test_one_event_is_taken_in_regions_at_every_depth_at_once(nest: Workflow) -> None:
    instance = begun(nest)
    step = instance.send("all")
    assert (step.target, instance.outcome) == ("end", "completed")
    assert [t.event for t, _ in step.chained] == [f"done.state.{CHECKS}", "done.state.job"]
    taken = taken_between(
        nest, START, "all", f"job.paperwork.filed+{CHECKS}.tests.passed+{CHECKS}.review.approved"
    )
    assert [t.label for t in taken] == [
        "all: job.paperwork.drafting -> job.paperwork.filed",
        f"all: {CHECKS}.tests.running -> {CHECKS}.tests.passed",
        f"all: {CHECKS}.review.waiting -> {CHECKS}.review.approved",
    ]
    assert len(taken) == 3


def test_a_joint_step_leaves_a_region_that_cannot_move_where_it_is(nest: Workflow) -> None:
    instance = begun(nest)
    sent(instance, "approve")
    # review is done already: the paperwork and the tests move, in one step with both
    # done events
    step = instance.send("all")
    assert step.target == "end"
    assert [t.event for t, _ in step.chained] == [f"done.state.{CHECKS}", "done.state.job"]
    assert step.transition is not None
    assert step.transition.target == (
        f"job.paperwork.filed+{CHECKS}.tests.passed+{CHECKS}.review.approved"
    )
    assert [t.event for t in step.transition.parts] == ["all", "all"]


def test_a_transition_between_nested_regions_restarts_the_nested_state_only(
    nest: Workflow,
) -> None:
    instance = begun(nest)
    sent(instance, "file", "approve")
    # tests -> review: leaves checks (SCXML: a domain is never a parallel state), and
    # enters it again, tests in its initial; paperwork keeps its leaf
    assert sent(instance, "redo") == [
        f"job.paperwork.filed+{CHECKS}.tests.running+{CHECKS}.review.waiting"
    ]
    assert instance.data["log"] == ["-checks", "+checks"]
    assert sent(instance, "pass", "again") == [
        f"job.paperwork.filed+{CHECKS}.tests.passed+{CHECKS}.review.waiting",
        f"job.paperwork.filed+{CHECKS}.tests.running+{CHECKS}.review.waiting",
    ]
    assert sent(instance, "stop") == ["stopped"]
    assert instance.data["log"][-2:] == ["-checks", "-job"]


def test_entering_a_nested_leaf_starts_every_other_region_in_its_initial() -> None:
    instance = Engine(
        load_text(NEST.format(initial="before"), "nest.yaml").workflows["nest"]
    ).create()
    assert sent(instance, "start") == [
        f"job.paperwork.drafting+{CHECKS}.tests.running+{CHECKS}.review.approved"
    ]
    assert instance.data["log"] == ["+job", "+checks"]


def test_explore_walks_the_nested_configurations(nest: Workflow) -> None:
    kinds = {(row.ending.kind, row.ending.state) for row in explore(nest).rows}
    assert kinds == {("completed", "end"), ("cancelled", "stopped")}


def region(indent: str, name: str, prefix: str, count: int) -> str:
    """A region `name` with `count` leaves, written at `indent`."""
    leaves = "".join(f"{indent}    {prefix}{i}: {{}}\n" for i in range(count))
    return f"{indent}{name}:\n{indent}  initial: {prefix}0\n{indent}  states:\n{leaves}"


def test_the_configuration_cap_counts_nested_regions() -> None:
    """4 x (1 + 8 x 8) = 260 configurations: the inner parallel state (64) is within the cap,
    the outer one is not, and is located."""
    text = (
        "workflow: big\ninitial: p\nstates:\n  p:\n    parallel: true\n    states:\n"
        + region("      ", "one", "y", 4)
        + "      two:\n        initial: q\n        states:\n          solo: {}\n"
        "          q:\n            parallel: true\n            states:\n"
        + region("              ", "a", "x", 8)
        + region("              ", "b", "z", 8)
        + "events: {go: {}}\ntransitions:\n  - {event: go, from: p.one.y0, to: p.one.y1}\n"
    )
    problems = [str(p) for p in load_text(text, "big.yaml").problems]
    assert problems == [
        "big.yaml:5:15: parallel state 'p' has 260 configurations (one leaf per region), more "
        "than the 256 linkflow supports: split it"
    ]
    # with 16 leaves per nested region, the inner one is over the cap itself: located there
    deeper = text.replace(
        "x0: {}\n", "x0: {}\n" + "".join(f"                  w{i}: {{}}\n" for i in range(9))
    )
    problems = [
        str(p)
        for p in load_text(
            deeper.replace(
                "z0: {}\n",
                "z0: {}\n" + "".join(f"                  v{i}: {{}}\n" for i in range(9)),
            ),
            "big.yaml",
        ).problems
    ]
    assert problems == [
        "big.yaml:19:23: parallel state 'p.two.q' has 289 configurations (one leaf per "
        "region), more than the 256 linkflow supports: split it"
    ]


SCENARIO = """\
scenario: nested_regions
workflow: nest
workflows: nest.yaml
steps:
  - send: start
  - send: redo
  - send: pass
  - send: again
  - send: file
  - send: approve
  - send: all
"""


def test_xstate_agrees_on_nested_parallel_states(tmp_path: Path) -> None:
    node = node_and_xstate()
    (tmp_path / "nest.yaml").write_text(NEST.format(initial="before"), encoding="utf-8")
    (tmp_path / "nested.scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    loaded = load([tmp_path / "nest.yaml"], kinds=["workflow"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    config = xstate_config(loaded.workflows["nest"])
    build = config["states"]["job"]["states"]["build"]
    assert (config["states"]["job"]["type"], build["states"]["checks"]["type"]) == (
        "parallel",
        "parallel",
    )
    scenario = trace(tmp_path / "nested.scenario.yaml", {"nest": "before"})
    assert [s["expect"][1] for s in scenario["steps"]] == [
        [
            "job.build.checks.review.approved",
            "job.build.checks.tests.running",
            "job.paperwork.drafting",
        ],
        [
            "job.build.checks.review.waiting",
            "job.build.checks.tests.running",
            "job.paperwork.drafting",
        ],
        [
            "job.build.checks.review.waiting",
            "job.build.checks.tests.passed",
            "job.paperwork.drafting",
        ],
        [
            "job.build.checks.review.waiting",
            "job.build.checks.tests.running",
            "job.paperwork.drafting",
        ],
        [
            "job.build.checks.review.waiting",
            "job.build.checks.tests.running",
            "job.paperwork.filed",
        ],
        [
            "job.build.checks.review.approved",
            "job.build.checks.tests.running",
            "job.paperwork.filed",
        ],
        ["end"],
    ]
    report = replay(node, {"machines": {"nest": config}, "scenarios": [scenario]})
    assert report["mismatches"] == []
    assert report["compared"] == 7


def test_scxml_writes_a_valid_parallel_inside_a_state_inside_a_parallel_and_reads_it_back(
    nest: Workflow,
) -> None:
    text = scxml_text(nest)
    schema = xmlschema.XMLSchema(str(XSD))
    assert [str(e.reason) for e in schema.iter_errors(text)] == []
    assert '<parallel id="job">' in text
    assert '<parallel id="job.build.checks">' in text
    doc, problems = read_scxml(text, "nest.scxml")
    assert doc is not None, [str(p) for p in problems]
    back = load_text(workflow_yaml(doc, "nest.scxml"), "nest.yaml")
    assert back.ok, [str(p) for p in back.problems]
    again = back.workflows["nest"]
    assert again.initial == nest.initial
    assert set(again.states) == set(nest.states)
    instance = begun(again)
    step = instance.send("all")
    assert (step.target, instance.outcome) == ("end", "completed")


def test_a_workflow_starting_in_nested_regions_lists_every_first_leaf_in_scxml() -> None:
    """SCXML's `initial` names every region's first state at every depth; read back, the
    workflow starts in the same configuration."""
    text = re.sub(r"\n\s+(entry|exit): \[.*\]", "", NEST.format(initial="job"))
    unused = ("before", "begin", "start")
    text = "".join(line for line in text.splitlines(True) if not any(u in line for u in unused))
    result = load_text(text, "nest.yaml")
    assert result.ok, [str(p) for p in result.problems]
    workflow = result.workflows["nest"]
    exported = scxml_text(workflow)
    assert f'initial="{START.replace("+", " ")}"' in exported
    doc, problems = read_scxml(exported, "nest.scxml")
    assert doc is not None, [str(p) for p in problems]
    back = load_text(workflow_yaml(doc, "nest.scxml"), "nest.yaml")
    assert back.ok, [str(p) for p in back.problems]
    assert back.workflows["nest"].initial == START
