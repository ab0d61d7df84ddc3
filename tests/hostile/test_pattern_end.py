"""A schema's `pattern` ends the text at `$`, as JSON Schema says: Python's `$` also matched
before a final newline, so a service name, an environment variable's name or a header name
ending in a line break passed the services schema (refused now, the value shown as `name\\n` so
that the message stays one line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from linkflow.language.loader import load
from linkflow.language.validators import ecma_pattern
from tests.hostile.helpers import ROOT

EXAMPLE = ROOT / "examples" / "supplier_order"


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^[a-z]+$", "abc", True),
        ("^[a-z]+$", "abc\n", False),
        ("^a$|^b$", "b\n", False),
        ("^[$]+$", "$$", True),  # a `$` in a class is a dollar sign
        ("^a\\$$", "a$", True),  # so is an escaped one
        ("^a\\$$", "a$\n", False),
        ("(?m)^a$", "a\nb", True),  # inline flags: left as written
        ("^(?:a|b)$", "a\n", False),  # a plain group keeps JSON Schema's `$`
        ("^(?:a|b)$", "b", True),
    ],
)
def test_the_end_of_a_pattern_is_the_end_of_the_text(
    pattern: str, text: str, matches: bool
) -> None:
    assert (ecma_pattern(pattern).search(text) is not None) is matches


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("headers", "X-Trace\n"), "1"),
        (("auth",), {"scheme": "bearer", "env": "SUPPLIER_TOKEN\n"}),
        (("auth",), {"scheme": "header", "header": "X-Key\n", "env": "SUPPLIER_TOKEN"}),
        (("response", "field\n"), "string"),
    ],
)
def test_a_name_ending_in_a_line_break_is_refused(
    tmp_path: Path, where: tuple[str, ...], value: object
) -> None:
    services = yaml.safe_load((EXAMPLE / "services.yaml").read_text(encoding="utf-8"))
    target = services["services"]["supplier"]
    for key in where[:-1]:
        target = target.setdefault(key, {})
    target[where[-1]] = value
    (tmp_path / "services.yaml").write_text(json.dumps(services), encoding="utf-8")
    (tmp_path / "supplier_order.yaml").write_bytes((EXAMPLE / "supplier_order.yaml").read_bytes())
    problems = [
        str(p)
        for p in load([tmp_path / "supplier_order.yaml"]).problems
        if "services.yaml" in str(p.location.file)
    ]
    assert problems
    assert any("expected form" in p or "plain name" in p for p in problems), problems
    assert all("\n" not in p for p in problems), problems  # the value shown escaped: one line
    assert any("\\n'" in p for p in problems), problems
