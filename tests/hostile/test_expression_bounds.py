"""Item 1 and 9 of the hardening issue: an expression's size and depth are bounded at load,
before the expression library (whose parser recurses natively) ever sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkflow.language.expressions import (
    MAX_COMPREHENSION_NESTING,
    MAX_EXPRESSION_CHARS,
    MAX_NESTING,
    MAX_OPERATIONS,
    Expression,
    ExpressionError,
)
from tests.hostile.helpers import cli, tiny_workflow, write

HUGE = {
    "plus": "1" + " + 1" * 20_000 + " > 0",
    "equals": "true" + " == true" * 20_000,
    "members": "data" + ".y" * 20_000 + " == 1",
}


@pytest.mark.parametrize("kind", sorted(HUGE))
def test_a_huge_guard_is_a_located_problem_not_a_crash(tmp_path: Path, kind: str) -> None:
    path = write(tmp_path / "huge.yaml", tiny_workflow(when=HUGE[kind]))
    done = cli("validate", str(path))
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    assert "huge.yaml:" in done.stdout
    assert f"at most {MAX_EXPRESSION_CHARS} are allowed" in done.stdout


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("1" + " + 1" * (MAX_OPERATIONS + 1), f"at most {MAX_OPERATIONS} are allowed"),
        ("(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1), f"more than {MAX_NESTING} deep"),
        ("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1), f"more than {MAX_NESTING} deep"),
        (
            "a" + ".all(x, a" * (MAX_COMPREHENSION_NESTING + 1) + ".size() > 0" + ")" * 2,
            "puts a list macro (all, exists, exists_one) inside another",
        ),
        ("a.map(x, a).size() > 0", "`map` is not available"),
        ("a . filter (x, true).size() > 0", "`filter` is not available"),
    ],
)
def test_expressions_past_a_bound_do_not_compile(source: str, words: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        Expression.compile(source)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    "source",
    [
        "1" + " + 1" * (MAX_OPERATIONS - 1),
        "(" * MAX_NESTING + "1" + ")" * MAX_NESTING,
        "a.all(x, x > 0) && a.exists(y, y == 1) && a.exists_one(z, z == 2)",
        "'a.map(x, x)' == ''",  # inside a string it is text
        "'((((((((((((((((((((((((((((((' == ''",  # brackets inside a string do not count
    ],
)
def test_expressions_within_the_bounds_compile(source: str) -> None:
    assert Expression.compile(source).source == source


def test_choices_may_build_lists_but_guards_may_not() -> None:
    """An event's offered list is worked out before any payload exists, so only the world's
    own lists reach its `filter`/`map`; a guard reads the payload, whose size a sender picks."""
    source = "a.filter(x, x != 'cn').map(x, {'value': x})"
    assert Expression.compile(source, builds_lists=True).source == source
    with pytest.raises(ExpressionError, match="`filter` is not available"):
        Expression.compile(source)
