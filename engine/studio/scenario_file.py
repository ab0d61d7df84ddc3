"""A playground session as a scenario file that `linkflow test` passes as it is.

Every step gets an `expect` block with what the page showed after it: the workflow and state
(and outcome once finished), the events available, the data and world paths that changed, and
for a refusal its kind, guard, rule and message. Paths to the workflows and the world are
written relative to the folder the file goes to, as the runner reads them.

Secret payload fields are never written. A step that sent one cannot be replayed from the
file alone, so saving such a session is refused with a message saying which step, rather
than writing a scenario that fails or one that holds the secret.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from engine.runtime.paths import ABSENT
from engine.studio.playground import Playground, PlaygroundError, Record

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


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


def secret_steps(playground: Playground) -> list[int]:
    """The steps (1-based) that sent a secret field, which the file cannot hold."""
    return [n for n, r in enumerate(playground.records, 1) if r.action.left_out]


def scenario_text(playground: Playground, name: str, description: str, folder: Path) -> str:
    """The scenario YAML for the session so far, as if written into `folder`."""
    if not NAME.match(name):
        raise PlaygroundError(
            "a scenario name is lowercase letters, digits and underscores, starting with a "
            f"letter (got '{name}')"
        )
    if not playground.records:
        raise PlaygroundError("nothing to save yet: send an event or let time pass first")
    needing = secret_steps(playground)
    if needing:
        numbers = ", ".join(str(n) for n in needing)
        raise PlaygroundError(
            f"step(s) {numbers} took a secret field (a password), which is never saved, so the "
            "scenario could not replay them; save before that step, or write the secret step "
            "by hand"
        )
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
    for record in playground.records:
        step: dict[str, Any] = {}
        if record.action.wait:
            step["wait"] = record.action.wait
        else:
            step["send"] = record.action.event
            if record.action.payload:
                step["payload"] = dict(record.action.payload)
        step["expect"] = _expect(record)
        steps.append(step)
    doc["steps"] = steps
    header = "# Saved from linkflow studio: every step with what the page showed after it.\n"
    return header + yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )


def save_scenario(playground: Playground, name: str, description: str, folder: str) -> Path:
    """Write the scenario to `folder`/`name`.yaml; never over an existing file."""
    where = Path(folder)
    text = scenario_text(playground, name, description, where)
    target = where / f"{name}.yaml"
    if target.exists():
        raise PlaygroundError(f"{target} already exists; choose another name")
    where.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
