"""Printing problems the same way in every command (text to stderr, or JSON to stdout)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from linkflow.cli.commands.console import emit_json, paint

if TYPE_CHECKING:
    from linkflow.errors import Problem
    from linkflow.language.model import Workflow


_SUGGESTED = re.compile(r"\(did you mean '([^']+)'\?\)")
_UNUSED = re.compile(r"^\w+ '([^']+)' is defined but no \w+ uses it$")


def near(problem: Problem) -> Problem:
    """The problem with an absolute path below the current folder shown relative to it (the
    scenario runner resolves workflow folders; people read the path they would type)."""
    file = problem.location.file
    if os.path.isabs(file):
        relative = os.path.relpath(file)
        if not relative.startswith(".."):
            from dataclasses import replace  # dataclasses imports inspect: not at start-up

            return replace(problem, location=replace(problem.location, file=relative))
    return problem


def root_causes(problems: Iterable[Problem]) -> list[Problem]:
    """Problems sorted by file, line and column, each cause once: a repeated problem, or
    'X is defined but unused' next to a misspelling that suggests X, says nothing new."""
    unique = {(p.location.file, p.location.line, p.location.column, p.message): p for p in problems}
    suggested = {name for p in unique.values() for name in _SUGGESTED.findall(p.message)}
    kept = []
    for key in sorted(unique):
        unused = _UNUSED.match(unique[key].message)
        if unused is None or unused.group(1) not in suggested:
            kept.append(unique[key])
    return kept


def print_problems(problems: Sequence[Problem], out: TextIO) -> None:
    for problem in root_causes(problems):
        print(paint(str(problem), "problem", out), file=out)


def report_problems(problems: Sequence[Problem], out: TextIO, fmt: str, extra: str = "") -> None:
    if fmt == "json":
        items = [p.as_dict() for p in root_causes(problems)]
        if extra:
            items.append({"message": extra})
        emit_json({"ok": False, "problems": items}, out)
        return
    print_problems(problems, sys.stderr)
    if extra:
        print(extra, file=sys.stderr)


def load_one_workflow(path: str, out: TextIO, fmt: str) -> Workflow | None:
    """The workflow in `path`, or None after reporting why not."""
    found = load_workflow_and_handoffs(path, out, fmt)
    return None if found is None else found[0]


def load_workflow_and_handoffs(
    path: str, out: TextIO, fmt: str
) -> tuple[Workflow, dict[str, Workflow]] | None:
    """The workflow in `path` and every workflow it hands off to, or None after reporting."""
    from linkflow.language.loader import load

    result = load([path], kinds=["workflow"])
    if not result.ok:
        report_problems(result.problems, out, fmt)
        return None
    if not result.workflows:
        report_problems([], out, fmt, f"{path}: the file holds no workflow")
        return None
    return next(iter(result.workflows.values())), result.workflows
