"""Every YAML file the project ships names, on its first line, the JSON schema an editor
(yaml-language-server) checks it against; the path resolves inside the checkout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "# yaml-language-server: $schema="
SHIPPED = sorted(
    p
    for folder in ("workflows", "examples", "tests/scenarios")
    for p in (ROOT / folder).rglob("*.yaml")
)


def test_there_are_files_to_check() -> None:
    assert len(SHIPPED) > 10


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_first_line_names_the_schema_of_the_files_kind(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith(PREFIX), f"{path}: first line is {first!r}"
    target = (path.parent / first.removeprefix(PREFIX)).resolve()
    kind = re.search(r"^(workflow|world_schema|world|scenario|services):", text, re.M)
    assert kind is not None
    assert target == ROOT / "schemas" / f"{kind.group(1)}.schema.json"
