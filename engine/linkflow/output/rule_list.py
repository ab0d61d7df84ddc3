"""A project's rule list: `RULES.md` beside its workflows, one `- **ID** text` line per rule.

The list is the project's own wording of the rules its workflows name (`rule:`, `rules:`), so a
reader of the docs can look an id up; `linkflow docs` copies it into the index page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "RULES.md"
_LINE = re.compile(r"^\s*[-*]\s+\*\*([A-Z][A-Z0-9]*[0-9]+)\*\*\s+(\S.*)$")
_HEADING = re.compile(r"^##+\s+(\S.*)$")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    text: str
    #: The heading the rule sits under ("" before the first one).
    section: str = ""


def parse_rules(text: str) -> tuple[Rule, ...]:
    """Every `- **ID** text` line, in order, with the `##` heading above it."""
    rules: list[Rule] = []
    section = ""
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            section = heading.group(1).strip()
            continue
        found = _LINE.match(line)
        if found:
            rules.append(Rule(found.group(1), found.group(2).strip(), section))
    return tuple(rules)


def find_rules(folders: Iterable[str | Path]) -> tuple[Rule, ...]:
    """The rules of the first of `folders` (or a file's folder) that has a RULES.md."""
    for folder in folders:
        path = Path(folder)
        base = path if path.is_dir() else path.parent
        candidate = base / FILE_NAME
        if candidate.is_file():
            return parse_rules(candidate.read_text(encoding="utf-8"))
    return ()
