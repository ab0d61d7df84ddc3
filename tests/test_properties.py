"""Property-based tests: whatever is sent, a refusal changes nothing but the history, an
accepted step always lands in a declared state, and `available_events()` agrees with `send`.

How many examples run is the hypothesis profile's choice (tests/conftest.py): `ci` by default
(derandomised, fixed seed), `fuzz` for `make fuzz`."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import given
from hypothesis import strategies as st

from linkflow import RefusalKind, Workflow, World
from linkflow.language.graph import graph_problems
from linkflow.language.loader import load_workflow
from linkflow.language.schema import validate_document
from linkflow.language.workflow_builder import build_workflow
from linkflow.language.yaml_loader import parse_text
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Instance
from linkflow.runtime.world import copy_json
from linkflow.runtime.world_loader import load_world

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@cache
def review() -> Workflow:
    return load_workflow(ROOT / "examples" / "document_review.yaml")


def review_world() -> World:
    world, problems = load_world(ROOT / "examples" / "document_world.yaml")
    assert world is not None, problems
    return world


def snapshot(instance: Instance) -> tuple[str, Any, Any]:
    return instance.state, copy_json(instance.data), instance.world.snapshot()


def check_step(instance: Instance, action: tuple[str, Any], clock: Clock) -> None:
    """Send one event (or let time pass and expire) and check the step's invariants."""
    kind, arg = action
    before = snapshot(instance)
    history = len(instance.history)
    option = None
    if kind != "wait" and not arg:
        # What the list says right before, for a send without a payload it could depend on.
        option = next((o for o in instance.available_events() if o.event == kind), None)
    if kind == "wait":
        clock.now += arg
        step = instance.expire()
        if step is None:
            assert snapshot(instance) == before
            assert len(instance.history) == history
            return
    else:
        step = instance.send(kind, arg)
    assert len(instance.history) == history + 1
    entry = instance.history[-1]
    assert entry.event == step.event
    assert entry.accepted is step.accepted
    hypothesis.event(f"refused: {step.refusal.kind}" if step.refusal else "accepted")
    failed_action = step.refusal is not None and step.refusal.kind is RefusalKind.ACTION_FAILED
    if option is not None and option.available is not None and not failed_action:
        # The list and send agree, for every guard form (g, !g, several, none); the list
        # judges guards, so an action that fails on the way is outside what it can know.
        hypothesis.event(f"option checked: {option.available}")
        assert option.available is step.accepted, (option, step)
    if step.accepted:
        assert instance.state in instance.workflow.states
        assert step.transition is not None
        assert step.target == instance.state == step.transition.target
        assert step.source == before[0]
        assert step.source in step.transition.sources
    else:
        assert step.refusal is not None
        assert step.refusal.message
        assert snapshot(instance) == before
        assert step.source == step.target == before[0]
        assert entry.refusal == step.refusal


# -- the example workflow -------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["ana", "ben", "4711", "0815", "", "handbook", "NO"]),
    st.text(max_size=5),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
approve_payloads = st.one_of(
    st.fixed_dictionaries(
        {"reviewer": st.sampled_from(["ana", "ben", "cy"]), "code": st.sampled_from(["4711", "0"])}
    ),
    st.dictionaries(st.sampled_from(["reviewer", "code", "extra"]), json_values, max_size=3),
    st.none(),
)
review_actions = st.one_of(
    st.tuples(st.sampled_from(["submit", "reject", "withdraw"]), st.none() | st.just({})),
    st.tuples(st.just("approve"), approve_payloads),
    st.tuples(st.sampled_from(["timeout", "publish", ""]), st.none()),
    st.tuples(
        st.sampled_from(["submit", "withdraw"]), st.dictionaries(st.text(max_size=3), scalars)
    ),
    st.tuples(st.just("wait"), st.sampled_from([1.0, 3600.0, 86400.0])),
)


@given(
    document=st.sampled_from(["handbook", "roadmap", "missing"]),
    happy=st.booleans(),
    actions=st.lists(review_actions, max_size=12),
)
def test_example_workflow_refusals_change_nothing(
    document: str, happy: bool, actions: list[tuple[str, Any]]
) -> None:
    clock = Clock()
    world = review_world()
    record = world.get("documents", document)
    if happy and record is not None:
        # Half the runs start by publishing, so the post-condition below is checked often
        # (random events alone reach `published` in about 0.5% of runs).
        reviewer = "ben" if record["author"] != "ben" else "ana"
        approve = {"reviewer": reviewer, "code": record["review_code"]}
        actions = [("submit", None), ("approve", approve), *actions]
    instance = Engine(review()).create({"document": document}, world, clock)
    for action in actions:
        check_step(instance, action, clock)
    published = any(h.accepted and h.target == "published" for h in instance.history)
    hypothesis.event(f"published: {published}")
    if published:
        assert instance.world.get("documents", document)["status"] == "published"
        assert len(instance.data["approvals"]) == 1
    else:
        assert world.get("documents", "handbook")["status"] == "draft"


# -- small generated workflows --------------------------------------------------------------


@st.composite
def small_workflows(draw: st.DrawFn) -> str:
    """A valid workflow: a chain s0 -> ... -> done, plus random extra moves and guards."""
    size = draw(st.integers(1, 4))
    states = [f"s{i}" for i in range(size)]
    events = ["e0", "e1", "e2", "e3"]  # e1 and e2 take a payload; e0 and e3 none
    transitions: list[dict[str, Any]] = []
    taken: set[tuple[str, str]] = set()
    for i, state in enumerate(states):
        target = states[i + 1] if i + 1 < size else "done"
        transitions.append(
            {
                "event": "e0",
                "from": state,
                "to": target,
                "guards": ["small"],
                "actions": [{"set": {"path": "data.count", "value": "data.count + 1"}}],
            }
        )
        transitions.append({"event": "e0", "from": state, "to": "failed", "guards": ["!small"]})
        taken.add((state, "e0"))
    # Always one payload-free event behind a guard form, so the list and send are compared
    # on negated guards too (e3 from s0; count 0 is even, so `!even` refuses at first).
    forms = [["even"], ["!even"], ["even", "!small"], ["!even", "small"], ["!small"]]
    transitions.append(
        {
            "event": "e3",
            "from": "s0",
            "to": draw(st.sampled_from(states)),
            "guards": draw(st.sampled_from(forms)),
        }
    )
    taken.add(("s0", "e3"))
    extra = draw(
        st.lists(
            st.tuples(
                st.sampled_from(states),
                st.sampled_from(events[1:]),
                st.sampled_from([*states, "done", "failed"]),
                st.sampled_from(["none", "appends", "fails", "guarded"]),
            ),
            max_size=5,
        )
    )
    for source, event, target, effect in extra:
        if (source, event) in taken:
            continue
        taken.add((source, event))
        transition: dict[str, Any] = {"event": event, "from": source, "to": target}
        if effect in {"appends", "fails"}:
            transition["actions"] = [
                {"append": {"path": "data.log", "value": "payload.note"}},
                {"set": {"path": "data.last", "value": "payload.note"}},
            ]
        if effect == "fails":
            # Writes first, then fails when the note is empty: `data.last` is text, so
            # appending to it cannot be done; the step must leave the earlier writes undone.
            transition["actions"].append(
                {"append": {"path": "data.count", "value": "1"}}
                if draw(st.booleans())
                else {"set": {"path": "data.box[payload.note == '' ? [1] : 'k']", "value": "1"}}
            )
        if effect == "guarded":
            transition["guards"] = draw(
                st.sampled_from([["even"], ["!even"], ["even", "!small"], ["!even", "small"]])
            )
        transitions.append(transition)
    used = {t["event"] for t in transitions}
    note = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}
    workflow: dict[str, Any] = {
        "workflow": "generated",
        "initial": "s0",
        "data": {"count": 0, "log": [], "last": "", "box": {}},
        "states": {
            **{s: {} for s in states},
            "done": {"final": "completed"},
            "failed": {"final": "failed"},
        },
        "events": {
            e: ({"payload": dict(note)} if e in {"e1", "e2"} else {}) for e in events if e in used
        },
        "guards": {
            "small": {
                "when": "data.count < 3",
                "message": "count is {data.count}",
                "message_when_true": "count is still {data.count}",
            },
            "even": {
                "when": "data.count % 2 == 0",
                "message": "count {data.count} is odd",
                "message_when_true": "count {data.count} is even",
            },
        },
        "transitions": transitions,
    }
    if not any("even" in g.lstrip("!") for t in transitions for g in t.get("guards", [])):
        guards: dict[str, Any] = workflow["guards"]
        del guards["even"]  # an unused guard is a definition problem
    return json.dumps(workflow, indent=1)  # JSON is YAML too, and never writes aliases


def build(text: str) -> Workflow:
    doc, problems = parse_text(text, "generated.yaml")
    assert doc is not None, problems
    assert validate_document(doc, "workflow.schema.json") == []
    workflow, problems = build_workflow(doc)
    assert workflow is not None, problems
    assert graph_problems(workflow) == []
    return workflow


generated_actions = st.tuples(
    st.sampled_from(["e0", "e1", "e2", "e3", "e3", "timeout"]),
    st.one_of(
        st.none(),
        st.fixed_dictionaries({"note": st.sampled_from(["a", "b", ""])}),
        st.dictionaries(st.sampled_from(["note", "other"]), scalars, max_size=2),
    ),
)


@given(text=small_workflows(), actions=st.lists(generated_actions, max_size=15))
def test_generated_workflow_refusals_change_nothing(
    text: str, actions: list[tuple[str, Any]]
) -> None:
    workflow = build(text)
    clock = Clock()
    instance = Engine(workflow).create(clock=clock)
    for action in actions:
        check_step(instance, action, clock)
    accepted = [entry for entry in instance.history if entry.accepted]
    counted = [e for e in accepted if e.event == "e0" and e.target != "failed"]
    assert instance.data["count"] == len(counted)
    assert len(instance.data["log"]) <= len(accepted)
