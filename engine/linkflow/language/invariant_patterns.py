"""Declaring an invariant: building it from its definition, and the write-path patterns
(`links.*`, `data.items[*]`) that select what it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from linkflow.language.model import (
    Action,
    Invariant,
    InvariantKind,
    Outcome,
    Workflow,
)
from linkflow.source import DocPath, SourceLocation

if TYPE_CHECKING:
    pass

#: One element of a normalised write path: a field name, or ("key", source) for `[...]`.
PathPart = str | tuple[str, str]
ANY_KEY: PathPart = ("key", "*")
ANY_NAME = "*"

# -- building (called by linkflow.language.workflow_builder) ---------------------------------


def parse_pattern(text: str) -> list[PathPart]:
    """`world.coll[*].field` into parts; `[*]` matches any key and `*` any field name."""
    parts: list[PathPart] = []
    i = 0
    token = re.compile(r"\s*(?:\.?\s*([A-Za-z_][A-Za-z0-9_]*|\*)|\[([^\[\]]*)\])")
    while i < len(text):
        found = token.match(text, i)
        if not found or found.end() == i:
            raise ValueError(f"unexpected '{text[i]}' at character {i + 1}")
        if found.group(1) is not None:
            if not parts and found.group(0).lstrip().startswith("."):
                raise ValueError("must start with world, data or a binding")
            parts.append(found.group(1))
        else:
            inner = found.group(2).strip()
            if not inner:
                raise ValueError(f"empty '[]' at character {i + 1}")
            if not parts:
                raise ValueError("must start with world, data or a binding")
            parts.append(("key", inner))
        i = found.end()
    if not parts or not isinstance(parts[0], str) or parts[0] == ANY_NAME:
        raise ValueError("must start with world, data or a binding")
    return parts


def build_invariant(
    name: str, spec: Mapping[str, Any], location: SourceLocation
) -> tuple[Invariant | None, list[tuple[DocPath, str]]]:
    """A schema-valid `invariants.<name>` entry as an Invariant, or the problems found in it."""
    problems: list[tuple[DocPath, str]] = []
    common: dict[str, Any] = {
        "name": name,
        "location": location,
        "description": str(spec.get("description", "")),
        "rule": str(spec.get("rule", "")),
    }
    if "requires" in spec:
        body = spec["requires"]
        writes = str(body.get("writes", ""))
        if writes:
            try:
                parse_pattern(writes)
            except ValueError as err:
                problems.append((("requires", "writes"), f"path pattern '{writes}': {err}"))
        invariant = Invariant(
            kind=InvariantKind.REQUIRES,
            writes=writes,
            event=str(body.get("event", "")),
            to=str(body.get("to", "")),
            guards=tuple(body["guards"]),
            **common,
        )
    elif "never_stores" in spec:
        invariant = Invariant(
            kind=InvariantKind.NEVER_STORES, fields=tuple(spec["never_stores"]), **common
        )
    elif "no_writes_on" in spec:
        writes = str(spec.get("writes", ""))
        if writes:
            try:
                parse_pattern(writes)
            except ValueError as err:
                problems.append((("writes",), f"path pattern '{writes}': {err}"))
        invariant = Invariant(
            kind=InvariantKind.NO_WRITES_ON,
            outcomes=tuple(Outcome(o) for o in spec["no_writes_on"]),
            writes=writes,
            **common,
        )
    else:
        invariant = Invariant(kind=InvariantKind.IDEMPOTENT, event=spec["idempotent"], **common)
    return (None if problems else invariant), problems


# -- what a transition writes -----------------------------------------------------------------


def write_parts(workflow: Workflow, action: Action) -> list[PathPart]:
    """An action's target as `world.<collection>[key]...` or `data.field...` parts."""
    target = action.target
    steps: list[PathPart] = [
        s.name if s.name is not None else ("key", s.key.source if s.key else "")
        for s in target.steps
    ]
    if target.root in ("world", "data"):
        return [target.root, *steps]
    binding = workflow.bindings[target.root]
    return ["world", binding.collection, ("key", binding.key.source), *steps]


def writes_world(workflow: Workflow, action: Action) -> bool:
    return write_parts(workflow, action)[0] == "world"


def pattern_matches(pattern: Iterable[PathPart], parts: Iterable[PathPart]) -> bool:
    """True when a write at `parts` writes at or below `pattern`, or replaces what holds it."""
    for want, got in zip(pattern, parts, strict=False):
        if want in (ANY_NAME, ANY_KEY):
            if isinstance(want, str) != isinstance(got, str):
                return False
            continue
        if isinstance(want, tuple) and isinstance(got, tuple):
            if want[1].replace(" ", "") != got[1].replace(" ", ""):
                return False
        elif want != got:
            return False
    return True
