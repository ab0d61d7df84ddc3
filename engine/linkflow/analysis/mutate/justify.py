"""Equivalent mutants, justified where the element is written.

Some mistakes change nothing anyone could observe (dropping a guard that an earlier transition
already made certain, say): no scenario can kill them. The author says so with a YAML comment
on the element's line or in the comment block directly above it:

    guards: [owner_verified]  # mutate: equivalent drop_guard owner_verified -- checked on entry

The form is `# mutate: equivalent OPERATOR [SUBJECT] -- WHY` (an em dash works too). SUBJECT
(a guard label, a state, a field: what the report prints in brackets) picks one mutant among
several at that line; without it, the comment covers every mutant of OPERATOR there. A
comment sits next to its element, so it moves with it when the file is edited; one that no
longer matches a surviving mutant is reported, so justifications cannot go stale quietly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from linkflow.errors import Problem
from linkflow.source import SourceLocation

_MARK = re.compile(r"#\s*mutate\s*:(.*)$")
_FORM = re.compile(r"^\s*equivalent\s+([a-z_]+)(?:\s+(\S+))?\s*(?:--|\u2014)\s*(\S.*)$")
FORM = "# mutate: equivalent OPERATOR [SUBJECT] -- WHY"


@dataclass(frozen=True, slots=True)
class Justification:
    """A `# mutate: equivalent` comment: which mutants it covers, from which line on."""

    location: SourceLocation
    operator: str
    subject: str
    reason: str
    #: The lines it speaks for: its own, and the first line below its comment block.
    lines: tuple[int, ...]

    def covers(self, operator: str, subject: str, location: SourceLocation) -> bool:
        return (
            operator == self.operator
            and (not self.subject or self.subject == subject)
            and location.file == self.location.file
            and location.line in self.lines
        )


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def read_justifications(
    files: Iterable[str], operators: Iterable[str]
) -> tuple[list[Justification], list[Problem]]:
    """Every justification in `files`, and the `# mutate:` comments that are malformed."""
    known = set(operators)
    found: list[Justification] = []
    problems: list[Problem] = []
    for file in files:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue  # the loader has said why
        for number, text in enumerate(lines, 1):
            mark = _MARK.search(text)
            if mark is None:
                continue
            where = SourceLocation(file, number, mark.start() + 1)
            form = _FORM.match(mark.group(1))
            if form is None:
                problems.append(Problem(where, f"a mutate comment reads `{FORM}`"))
                continue
            operator, subject, reason = form.groups()
            if operator not in known:
                problems.append(
                    Problem(
                        where,
                        f"unknown mutation operator '{operator}' (operators: "
                        f"{', '.join(sorted(known))})",
                    )
                )
                continue
            covered: tuple[int, ...] = (number,)
            if _is_comment(text):  # a comment block speaks for the line below it
                below = number + 1
                while below <= len(lines) and _is_comment(lines[below - 1]):
                    below += 1
                covered = (number, below)
            found.append(Justification(where, operator, subject or "", reason.strip(), covered))
    return found, problems
