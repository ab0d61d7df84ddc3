"""Item 18: a control character in YAML is reported where it stands, in one plain line."""

from __future__ import annotations

import pytest

from linkflow.language.yaml_loader import parse_text


@pytest.mark.parametrize(
    ("text", "where", "code"),
    [
        ("a: 1\nb: x\x07y\n", (2, 5), "U+0007"),
        ('a: 1\nbb: "x\x01y"\n', (2, 7), "U+0001"),
        ("a:\n  - ok\n  - \x1b[31m\n", (3, 5), "U+001B"),
        ("\x00", (1, 1), "U+0000"),
    ],
)
def test_a_control_character_is_located(text: str, where: tuple[int, int], code: str) -> None:
    doc, problems = parse_text(text, "f.yaml")
    assert doc is None
    assert [(p.location.line, p.location.column) for p in problems] == [where]
    [problem] = problems
    assert problem.message.startswith(f"{code} (control character) cannot appear in YAML")
    assert "\n" not in problem.message
    assert "position" not in problem.message
