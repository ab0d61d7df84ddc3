"""Plain paths and literals skip CEL; they must give exactly what CEL gives, errors included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkflow.language.expressions import Expression, ExpressionError
from linkflow.language.loader import load_workflows
from linkflow.runtime.world_loader import load_world

KEYS = st.sampled_from(["a", "b", "c"])
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("xyz", max_size=3))
VALUES = st.recursive(
    LEAVES, lambda inner: st.dictionaries(KEYS, inner, max_size=3) | st.lists(inner, max_size=2)
)


def cel_only(source: str) -> Expression:
    compiled = Expression.compile(source)
    return Expression(compiled.source, compiled.program, compiled.names)


def outcome(expr: Expression, activation: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "value", expr.evaluate(activation)
    except ExpressionError:
        return "error", None


@given(root=st.dictionaries(KEYS, VALUES, max_size=3), steps=st.lists(KEYS, max_size=3))
def test_a_path_gives_what_cel_gives(root: dict[str, Any], steps: list[str]) -> None:
    source = ".".join(["data", *steps])
    fast = Expression.compile(source)
    assert fast.shortcut is not None
    assert outcome(fast, {"data": root}) == outcome(cel_only(source), {"data": root})


@pytest.mark.parametrize(
    "source", ["'text'", '"text"', "true", "false", "null", " 'spaced' ", "''"]
)
def test_a_literal_gives_what_cel_gives(source: str) -> None:
    fast = Expression.compile(source)
    assert fast.constant
    assert fast.evaluate({}) == cel_only(source).evaluate({})


@pytest.mark.parametrize(
    "source", ["data.a == 1", "'a' + 'b'", "data.a[0]", "1", "size(data)", "'it\\'s'"]
)
def test_anything_else_goes_to_cel(source: str) -> None:
    expr = Expression.compile(source)
    assert expr.shortcut is None
    assert not expr.constant


def test_a_missing_name_fails_like_cel() -> None:
    with pytest.raises(ExpressionError, match="failed"):
        Expression.compile("nobody.field").evaluate({})


PRUNED = [
    "bc != null && data.a in bc.b",
    "null != bc && has(bc.c) && bc.c == data.a",
    "bc.b.exists(x, x == data.a) || data.c == true",
    "size(bc) > 1 && data.a != null",
    "bc.b.all(bc, bc != null)",
    "'bc.c' == data.a",
]


def unpruned(source: str) -> Expression:
    compiled = Expression.compile(source)
    return Expression(
        compiled.source, compiled.program, compiled.names, compiled.shortcut, compiled.constant
    )


@given(
    source=st.sampled_from(PRUNED),
    bc=st.none() | st.dictionaries(KEYS, VALUES, max_size=3),
    data=st.dictionaries(KEYS, VALUES, max_size=3),
)
def test_giving_cel_only_the_fields_read_changes_no_result(
    source: str, bc: dict[str, Any] | None, data: dict[str, Any]
) -> None:
    activation = {"bc": bc, "data": data}
    assert outcome(Expression.compile(source), activation) == outcome(unpruned(source), activation)


def test_the_domain_guards_agree_with_and_without_pruning() -> None:
    root = Path(__file__).resolve().parent.parent
    world, _ = load_world(root / "workflows" / "worlds" / "ads_manager_demo.yaml")
    assert world is not None
    records = [r for c in world.collections.values() for r in c.values()][:40]
    checked = 0
    for workflow in load_workflows([root / "workflows"]).values():
        for guard in workflow.guards.values():
            expr = guard.when
            for record in records:
                activation: dict[str, Any] = dict.fromkeys(workflow.bindings, record)
                activation |= {"data": dict(workflow.data), "payload": {}}
                assert outcome(expr, activation) == outcome(unpruned(expr.source), activation)
                checked += 1
    assert checked > 100
