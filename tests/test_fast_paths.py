"""The engine's two fast paths give what the slow ones give, on every shipped workflow.

- The CEL subset (linkflow.language.cel_subset) answers common expressions in Python and
  leaves the rest to CEL: every expression of the workflows, the examples and the benchmark
  flows, and a list of operator forms, gives the same value (or error) as CEL alone, on random
  values that include what CEL treats its own way (`true` against 1, 1 against 1.0, large
  integers, lone surrogates, lists, maps, missing fields).
- A change of state with nothing to call or log sets the state without transitions' EventData
  (linkflow.runtime.state_change): random event sequences run the same with transitions'
  logger at INFO, which takes the full path through `State.exit`, `set_state`, `State.enter`.

Both at once: one engine per workflow built with the subset and the fast change of state, one
with CEL alone and the full path; the same random events must give the same steps, states,
data, world and history.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import domain
from linkflow import World
from linkflow.errors import UsageError
from linkflow.language import expressions
from linkflow.language.expressions import Expression, ExpressionError
from linkflow.language.loader import load_workflow
from linkflow.language.model import Workflow
from linkflow.runtime.engine import Engine
from linkflow.runtime.world import copy_json
from linkflow.runtime.world_loader import load_world

ROOT = Path(__file__).resolve().parent.parent
WORLDS = {
    "examples/document_review.yaml": ROOT / "examples" / "document_world.yaml",
    "examples/expense_claim.yaml": ROOT / "examples" / "expense_world.yaml",
}
FILES = sorted(
    [p for p in (ROOT / "workflows").glob("*.yaml") if p.name != "world.schema.yaml"]
    + [
        p
        for p in (ROOT / "examples").glob("*.yaml")
        if p.name not in {"world.schema.yaml", "document_world.yaml", "expense_world.yaml"}
    ]
    + [p for p in (ROOT / "benchmarks" / "flows").glob("*.yaml") if p.suffixes == [".yaml"]]
)


@contextmanager
def cel_only() -> Iterator[None]:
    """Expressions compiled inside use CEL alone (no subset)."""
    with mock.patch.object(expressions, "compile_subset", return_value=None):
        yield


@contextmanager
def full_state_change() -> Iterator[None]:
    """transitions' logger at INFO: every change of state takes transitions' full path."""
    log = logging.getLogger("transitions.core")
    level, propagate = log.level, log.propagate
    log.setLevel(logging.INFO)
    log.propagate = False  # enabled, but its lines go nowhere
    try:
        yield
    finally:
        log.setLevel(level)
        log.propagate = propagate


def world_for(path: Path) -> World:
    shown = path.relative_to(ROOT).as_posix()
    if shown.startswith("workflows/"):
        world, problems = load_world(ROOT / "workflows" / "worlds" / "ads_manager_demo.yaml")
    elif shown in WORLDS:
        world, problems = load_world(WORLDS[shown])
    elif shown.startswith("benchmarks/"):
        collections = domain.make_world(10)
        collections["counters"] = {"c1": {"value": 0}}
        return World(collections)
    else:
        return World()
    assert world is not None, problems
    return world


def expressions_of(path: Path) -> list[str]:
    """Every expression source compiled when `path` loads."""
    seen: list[str] = []
    original = Expression.compile.__func__  # type: ignore[attr-defined]

    def spy(cls: type[Expression], /, source: str, **kwargs: Any) -> Expression:
        seen.append(source)
        return original(cls, source, **kwargs)  # type: ignore[no-any-return]

    Expression.compile = classmethod(spy)  # type: ignore[method-assign, assignment]
    try:
        load_workflow(path)
    finally:
        Expression.compile = classmethod(original)  # type: ignore[method-assign, assignment]
    return seen


# -- the subset against CEL, expression by expression -----------------------------------------

TEXT = st.sampled_from(["ana", "ben", "admin", "operator", "", "é", "\ud800", "a\udc00b"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([2**53, 2**63 - 1, 2**63, 2**64, -(2**63), -(2**63) - 1]),
    st.sampled_from([0.0, 1.0, -0.5, 1e300]),
    TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
#: Operator forms beyond the shipped expressions: every construct the subset compiles.
FORMS = [
    "a == b", "a != b", "a == null", "null != a", "a < b", "a <= b", "a > b", "a >= b",
    "a in b", "a in ['ana', 'ben']", "1 in b", "a && b", "a || b", "!a", "!!a", "a ? b : c",
    "a ? b : c ? a : b", "a.ana", "a['ana']", "a[b]", "a[0]", "a[1]", "has(a.ana)",
    "has(a.ana.ben)", "size(a)", "size(b) == 0", "[a, b] == c", "a.ana == b && c",
    "(a || b) && !c", "a == 'é'", "a == 1", "a == true", "a < 2", "'ana' < a",
    "a in b && b in c", "a == b == c", "[a] == [b]", "size([a, b])", "a[b][c]",
    "a + 1", "a + b", "a - b", "a - 1 - b", "a + b == c", "1 + a < b", "a + 'x'",
    "9223372036854775807 + a", "a - 9223372036854775807", "a ? b + 1 : c - 1",
]  # fmt: skip


def outcome(expr: Expression, activation: dict[str, Any]) -> tuple[str, Any, str]:
    try:
        value = expr.evaluate(activation)
    except ExpressionError as err:
        return "error", str(err), err.safe
    if isinstance(value, list | dict):
        # Never the subset's answer (it hands these to CEL), and CEL lists a map's keys in no
        # fixed order (`[x] + {...}`): both paths give CEL's value, compared by type only.
        return "value", type(value).__name__, "from CEL"
    return "value", value, type(value).__name__


def shipped_expressions() -> list[str]:
    return sorted({source for path in FILES for source in expressions_of(path)})


@pytest.mark.parametrize("source", [*FORMS, *shipped_expressions()])
@settings(max_examples=60)
@given(data=st.data())
def test_the_subset_gives_what_cel_gives(source: str, data: st.DataObject) -> None:
    fast = Expression.compile(source, builds_lists=True)
    with cel_only():
        slow = Expression.compile(source, builds_lists=True)
    assert slow.native is None
    activation: dict[str, Any] = {}
    for name, fields in fast.inputs or tuple((n, None) for n in fast.names):
        if data.draw(st.integers(0, 9)) == 0:
            continue  # now and then a name is missing
        if fields:
            keys = st.sampled_from(sorted(fields)) | TEXT
            value = data.draw(st.dictionaries(keys, VALUES, max_size=4) | VALUES)
        else:
            value = data.draw(VALUES)
        activation[name] = value
    assert outcome(fast, activation) == outcome(slow, activation)


def test_the_subset_compiles_the_common_guards() -> None:
    """The forms the subset is for are compiled; the others are left to CEL."""
    for source in FORMS:
        compiled = Expression.compile(source)
        assert compiled.native is not None or compiled.shortcut is not None, source
    for source in [
        "a * 2",
        "a.matches('x')",
        "a.exists(x, x)",
        "{'a': 1}",
        "'it\\'s'",
        "-1",
        "a == 1.0",
        "a - -1",
    ]:
        assert Expression.compile(source).native is None, source


# -- whole runs: fast paths against CEL alone and transitions' full path ---------------------


def engines(path: Path) -> tuple[Engine, Engine]:
    fast = Engine(load_workflow(path))
    with cel_only():
        slow = Engine(load_workflow(path))
    return fast, slow


def text_pool(workflow: Workflow, world: World) -> list[str]:
    words = {"", "ana", "\ud800", "nobody"}
    for records in world.collections.values():
        words.update(records)
        for record in records.values():
            if isinstance(record, dict):
                words.update(v for v in record.values() if isinstance(v, str))
    words.update(v for v in workflow.data.values() if isinstance(v, str))
    return sorted(words)


def steps_strategy(workflow: Workflow, world: World) -> st.SearchStrategy[Any]:
    words = st.sampled_from(text_pool(workflow, world))
    value = st.one_of(words, st.integers(-1, 3), st.booleans(), st.none(), st.lists(words))
    sends = []
    for name, event in workflow.events.items():
        fields = sorted((event.payload_schema or {}).get("properties") or ())
        payload = st.dictionaries(st.sampled_from(fields), value) if fields else st.none()
        sends.append(st.tuples(st.just(name), payload))
    sends.append(st.tuples(st.just("wait"), st.sampled_from([1.0, 3600.0, 10 * 86400.0])))
    return st.lists(st.one_of(sends), max_size=10)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(engine: Engine, world: World, start: dict[str, Any], steps: list[Any]) -> list[Any]:
    clock = Clock()
    try:
        instance = engine.create(start, world, clock)
    except UsageError as err:
        return [str(err)]
    seen: list[Any] = []
    for event, payload in steps:
        if event == "wait":
            clock.now += payload
            step = instance.expire()
        else:
            step = instance.send(event, payload)
        seen.append(
            None
            if step is None
            else (
                step.event,
                step.source,
                step.target,
                step.accepted,
                step.refusal,
                step.checks,
                step.transition.index if step.transition is not None else None,
            )
        )
        # Compared as values: a map CEL builds ({'a': ...}) comes with its keys in no fixed
        # order, on either path.
        seen.append((instance.state, copy_json(instance.data), instance.world.snapshot()))
    seen.append(list(instance.history))
    return seen


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_fast_paths_run_as_cel_and_transitions_do(path: Path) -> None:
    fast, slow = engines(path)
    base = world_for(path)
    workflow = fast.workflow
    words = st.sampled_from(text_pool(workflow, base))
    starts = st.fixed_dictionaries(
        {},
        optional={
            name: words for name, default in workflow.data.items() if isinstance(default, str)
        },
    )
    if set(domain.instance_data()) <= set(workflow.data):  # the benchmark's flow: its own start
        starts = st.just(domain.instance_data()) | starts

    @settings(max_examples=40, deadline=None)
    @given(start=starts, steps=steps_strategy(workflow, base))
    def check(start: dict[str, Any], steps: list[Any]) -> None:
        quick = run(fast, World(base.snapshot()), start, steps)
        with full_state_change():
            full = run(slow, World(base.snapshot()), start, steps)
        assert quick == full

    check()
