"""Dotted paths (`a.b.0.c`) into plain data, as scenarios and `run --watch` write them."""

from __future__ import annotations

import json
from typing import Any

#: What `lookup` returns when nothing is at the path (None is a real value there).
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


def lookup(root: Any, dotted: str) -> Any:
    """The value at a dotted path, or ABSENT; list items are addressed by index.

    Record ids may hold periods (`ana.smith`): at each mapping the longest run of parts that
    is one of its keys is taken, so `users.ana.smith.name` finds that record.
    """
    value, rest = _walk(root, dotted.split("."))
    return value if not rest else ABSENT


def parent(root: Any, dotted: str) -> tuple[dict[str, Any], str] | None:
    """The mapping that holds (or would hold) the last key of a dotted path, and that key."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        value, rest = _walk(root, parts[:cut])
        if not rest and isinstance(value, dict):
            return value, ".".join(parts[cut:])
    return (root, dotted) if isinstance(root, dict) else None


def _walk(value: Any, parts: list[str]) -> tuple[Any, list[str]]:
    """Follow parts as far as they lead: the value reached and the parts left over."""
    i = 0
    while i < len(parts):
        if isinstance(value, dict):
            for j in range(len(parts), i, -1):
                key = ".".join(parts[i:j])
                if key in value:
                    value, i = value[key], j
                    break
            else:
                return value, parts[i:]
        elif isinstance(value, list) and parts[i].isdigit() and int(parts[i]) < len(value):
            value, i = value[int(parts[i])], i + 1
        else:
            return value, parts[i:]
    return value, []


def show(value: Any) -> str:
    """A value as people read it in messages: JSON, or a note that nothing is there."""
    if value is ABSENT:
        return "nothing (no such path)"
    return json.dumps(value, default=str)
