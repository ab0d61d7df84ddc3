"""One way to read a workflow argument, for every command that takes one: a file, a folder,
or a workflow's name looked up in the nearest `workflows/` folder, with a did-you-mean for a
misspelled name. `run expense_approval` and `run workflows/expense_approval.yaml` are the
same command, as they are for `show` and `render`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from linkflow.cli.commands.console import did_you_mean, error

#: What a workflow name looks like (the language's rule); anything else is read as a path.
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def default_workflows() -> Path:
    """`workflows/` here, or in the nearest folder above (so names work from anywhere)."""
    from linkflow.language.scenario_check import find_workflows_dir

    here = Path("workflows")
    found = here if here.is_dir() else find_workflows_dir(Path.cwd())
    return Path(os.path.relpath(found)) if found is not None else here


def split_arguments(arguments: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """(paths, workflow names, arguments that are neither)."""
    paths: list[str] = []
    names: list[str] = []
    unknown: list[str] = []
    for argument in arguments:
        if Path(argument).exists():
            paths.append(argument)
        elif NAME.match(argument):
            names.append(argument)
        else:
            unknown.append(argument)
    return paths, names, unknown


def no_workflow_named(names: Sequence[str], known: Iterable[str], where: str = "") -> str:
    """The message for names that are not loaded: the closest one, or every one loaded."""
    known = sorted(known)
    place = f" in {where}" if where else ""
    hint = did_you_mean(names[0], known) or f" (loaded: {', '.join(known) or 'none'})"
    return f"no workflow named {', '.join(names)}{place}{hint}"


def workflow_names(folder: Path | None = None) -> dict[str, str]:
    """Workflow name -> its file, for the workflows folder (default: the nearest one)."""
    from linkflow.language.loader import load

    where = default_workflows() if folder is None else folder
    if not where.is_dir():
        return {}
    loaded = load([where], kinds=["workflow"], follow_handoffs=False)
    return {name: workflow.file for name, workflow in loaded.workflows.items()}


def named_workflow(argument: str) -> tuple[str, dict[str, str]]:
    """For `start`: the file of the workflow `argument` names in the workflows folder, or the
    argument itself (a path, or a name only the store knows); and the names the folder has."""
    if Path(argument).exists() or not NAME.match(argument):
        return argument, {}
    files = workflow_names()
    return files.get(argument, argument), files


def workflow_path(argument: str, command: str) -> str | None:
    """The file (or folder) `argument` stands for, or None after saying why there is none.

    An argument that exists, or cannot be a name, is a path: the loader reports a missing one
    as a located problem, in the words `validate` uses.
    """
    if Path(argument).exists() or not NAME.match(argument):
        return argument
    files = workflow_names()
    found = files.get(argument)
    if found is None:
        error(command, no_workflow_named([argument], files, str(default_workflows())))
    return found
