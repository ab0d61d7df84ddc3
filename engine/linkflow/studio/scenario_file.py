"""A playground session as a scenario file that `linkflow test` passes as it is.

Every step gets an `expect` block with what the page showed after it: the workflow and state
(and outcome once finished), the events available, the data and world paths that changed, and
for a refusal its kind, guard, rule and message. Paths to the workflows and the world are
written relative to the folder the file goes to, as the runner reads them.

Secret payload fields are never written. A step that sent one reads it from an environment
variable when the scenario runs (`secrets: {password: LINKFLOW_SECRET_LOG_IN_PASSWORD}`), and
the file's header names the variables to set, so the session replays without the file ever
holding a credential.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from linkflow.runtime.paths import ABSENT
from linkflow.studio.playground import Playground, PlaygroundError, Record

NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")


def _expect(record: Record) -> dict[str, Any]:
    step = record.entry.step if record.entry else None
    expect: dict[str, Any] = {}
    if step is None or not step.accepted:
        expect["accepted"] = False
    if step is not None and step.refusal is not None:
        refusal = step.refusal
        refused: dict[str, Any] = {"kind": refusal.kind.value}
        if refusal.guard:
            refused["guard"] = refusal.guard
        if refusal.rule:
            refused["rule"] = refusal.rule
        refused["message"] = refusal.message
        expect["refused"] = refused
    expect["workflow"] = record.workflow
    expect["state"] = record.state
    if record.outcome is not None:
        expect["outcome"] = record.outcome
    expect["available"] = list(record.available)
    data = {c.path: c.after for c in record.data_changes if c.after is not ABSENT}
    if data:
        expect["data"] = data
    world = {c.path: c.after for c in record.world_changes if c.after is not ABSENT}
    if world:
        expect["world"] = world
    return expect


def _relative(target: str, folder: Path) -> str:
    return Path(os.path.relpath(Path(target).resolve(), folder.resolve())).as_posix()


def _workflows_source(playground: Playground) -> str:
    """The file or folder the scenario loads its workflows from: the one path the studio was
    given, or the folder of the start workflow's file."""
    if len(playground.paths) == 1 and Path(playground.paths[0]).exists():
        return playground.paths[0]
    return str(Path(playground.workflows[playground.start].file).parent)


def secret_variables(playground: Playground) -> dict[int, dict[str, str]]:
    """For each step (1-based) that sent secret fields: field -> the environment variable the
    scenario reads it from. A field's first use is LINKFLOW_SECRET_<EVENT>_<FIELD>; a later
    step sending it again gets its own variable (the values may differ: a wrong password,
    then the right one), suffixed with the step number."""
    found: dict[int, dict[str, str]] = {}
    taken: set[str] = set()
    for number, record in enumerate(playground.records, 1):
        for field in record.action.left_out:
            name = _variable(f"LINKFLOW_SECRET_{record.action.event}_{field}")
            if name in taken:
                name = f"{name}_STEP{number}"
            taken.add(name)
            found.setdefault(number, {})[field] = name
    return found


def _variable(text: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", text.upper())[:100]


def scenario_text(playground: Playground, name: str, description: str, folder: Path) -> str:
    """The scenario YAML for the session so far, as if written into `folder`."""
    if not NAME.fullmatch(name):
        raise PlaygroundError(
            "a scenario name is lowercase letters, digits and underscores, starting with a "
            f"letter, at most 100 (got '{name[:100]}')"
        )
    if not playground.records:
        raise PlaygroundError("nothing to save yet: send an event or let time pass first")
    variables = secret_variables(playground)
    doc: dict[str, Any] = {"scenario": name}
    if description.strip():
        doc["description"] = description.strip()
    doc["workflow"] = playground.start
    doc["workflows"] = _relative(_workflows_source(playground), folder)
    if playground.world_file:
        doc["world"] = _relative(playground.world_file, folder)
    if playground.start_data:
        doc["data"] = dict(playground.start_data)
    steps: list[dict[str, Any]] = []
    for number, record in enumerate(playground.records, 1):
        step: dict[str, Any] = {}
        if record.action.wait:
            step["wait"] = record.action.wait
        else:
            step["send"] = record.action.event
            if record.action.payload:
                step["payload"] = dict(record.action.payload)
            if number in variables:
                step["secrets"] = variables[number]
        step["expect"] = _expect(record)
        steps.append(step)
    doc["steps"] = steps
    header = "# Saved from linkflow studio: every step with what the page showed after it.\n"
    if variables:
        names = sorted({v for fields in variables.values() for v in fields.values()})
        header += (
            "# Secret fields are not in this file; set these environment variables before "
            f"running it: {', '.join(names)}\n"
        )
    return header + yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )


class OutsideFolders(PlaygroundError):
    """A folder to write a scenario to that is not inside the project's scenario folders."""


def confined(folder: str, roots: list[str]) -> Path:
    """`folder` (relative to the working folder, or one of `roots` as given) if it lies inside
    one of `roots` once every symlink is resolved; else OutsideFolders. No `..`, no absolute
    path other than a root itself: a page may only ever write where the studio was told to."""
    if not folder or "\x00" in folder:
        raise OutsideFolders("`folder` must name a folder")
    given = Path(folder)
    if folder not in roots:
        if given.is_absolute():
            raise OutsideFolders("`folder` must be a relative path inside the scenario folders")
        if ".." in given.parts:
            raise OutsideFolders("`folder` must not go up with '..'")
    resolved = given.resolve()
    for root in roots:
        if resolved.is_relative_to(Path(root).resolve()):
            return given
    raise OutsideFolders(
        f"`folder` must be inside the scenario folders ({', '.join(roots)}), symlinks resolved"
    )


def save_scenario(
    playground: Playground,
    name: str,
    description: str,
    folder: str,
    roots: list[str] | None = None,
) -> Path:
    """Write the scenario to `folder`/`name`.yaml, never over an existing file nor through a
    symlink; with `roots`, only inside them (`confined`)."""
    where = confined(folder, roots) if roots is not None else Path(folder)
    text = scenario_text(playground, name, description, where)
    target = where / f"{name}.yaml"
    if target.exists() or target.is_symlink():
        raise PlaygroundError(f"{target} already exists; choose another name")
    where.mkdir(parents=True, exist_ok=True)
    if roots is not None:
        confined(folder, roots)  # again, now that it exists: a symlink made meanwhile
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        handle = os.open(target, flags, 0o644)
    except FileExistsError:
        raise PlaygroundError(f"{target} already exists; choose another name") from None
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    return target
