"""docs/expressions.md says what each of its examples gives, and each example gives it.

The page's context block is the instance every example runs against; each row of an
`| expression | gives |` table is compiled and evaluated the way a workflow's guards are.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from linkflow.language.expressions import Expression, ExpressionError

PAGE = Path(__file__).resolve().parent.parent / "docs" / "expressions.md"
HEADER = "| expression | gives |"


def context(text: str) -> dict[str, Any]:
    block = text.split("<!-- expressions: context -->\n```yaml\n", 1)[1].split("\n```", 1)[0]
    loaded = yaml.safe_load(block)
    assert isinstance(loaded, dict)
    return loaded


def _cells(line: str) -> list[str]:
    """The cells of a table row; `\\|` is a bar inside a cell."""
    parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [p.strip().replace("\\|", "|") for p in parts]


def _code(cell: str) -> str:
    assert cell.startswith("`"), cell
    assert cell.endswith("`"), cell
    return cell[1:-1]


def examples(text: str) -> list[tuple[int, str, str]]:
    """(line number, expression, what the page says it gives) of every example row."""
    rows = []
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if line != HEADER:
            continue
        for offset, row in enumerate(lines[number + 1 :], number + 2):
            if not row.startswith("|"):
                break
            expression, gives = _cells(row)
            rows.append((offset, _code(expression), gives))
    return rows


TEXT = PAGE.read_text(encoding="utf-8")
EXAMPLES = examples(TEXT)


def test_the_page_has_examples_of_every_kind() -> None:
    gives = [g for _, _, g in EXAMPLES]
    assert len(EXAMPLES) >= 50
    assert any(g.startswith("refused at load: ") for g in gives)
    assert any(g.startswith("error: ") for g in gives)
    assert any(g.startswith("`") for g in gives)


@pytest.mark.parametrize(
    ("line", "source", "gives"), EXAMPLES, ids=[f"line {n}" for n, _, _ in EXAMPLES]
)
def test_each_example_gives_what_the_page_says(line: int, source: str, gives: str) -> None:
    where = f"docs/expressions.md:{line}: {source}"
    if gives.startswith("refused at load: "):
        with pytest.raises(ExpressionError) as refused:
            Expression.compile(source)
        assert gives.removeprefix("refused at load: ").strip("`") in str(refused.value), where
        return
    expression = Expression.compile(source)
    if gives.startswith("error: "):
        with pytest.raises(ExpressionError) as failed:
            expression.evaluate(context(TEXT))
        assert gives.removeprefix("error: ") in str(failed.value), where
        return
    value = expression.evaluate(context(TEXT))
    # compared as JSON text, so that `true` is not `1` and `15.0` is not `15`
    assert json.dumps(value) == json.dumps(json.loads(_code(gives))), where
