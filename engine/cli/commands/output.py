"""Printing problems the same way in every command (text to stderr, or JSON to stdout)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from engine.errors import Problem
    from engine.language.model import Workflow


def print_problems(problems: Sequence[Problem], out: TextIO) -> None:
    for problem in problems:
        print(problem, file=out)


def report_problems(problems: Sequence[Problem], out: TextIO, fmt: str, extra: str = "") -> None:
    if fmt == "json":
        items = [p.as_dict() for p in problems]
        if extra:
            items.append({"message": extra})
        print(json.dumps({"ok": False, "problems": items}, indent=2), file=out)
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
    from engine.language.loader import load

    result = load([path], kinds=["workflow"])
    if not result.ok:
        report_problems(result.problems, out, fmt)
        return None
    if not result.workflows:
        report_problems([], out, fmt, f"{path}: the file holds no workflow")
        return None
    return next(iter(result.workflows.values())), result.workflows
