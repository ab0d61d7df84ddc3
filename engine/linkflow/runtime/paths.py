"""Dotted paths (`a.b.0.c`) into plain data, as scenarios and `run --watch` write them."""

from __future__ import annotations

import json
from typing import Any

from linkflow.language.dotted import PathError, ambiguity, readings, split_dotted

__all__ = ["ABSENT", "PathError", "lookup", "parent", "show"]

#: What `lookup` returns when nothing is at the path (None is a real value there).
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


def lookup(root: Any, dotted: str) -> Any:
    """The value at a dotted path, or ABSENT; list items are addressed by index.

    Record ids may hold periods (`ana.smith`): at each mapping the keys there decide how the
    parts join, so `users.ana.smith.name` finds that record; a segment may be quoted,
    `users["ana.smith"].name`. Raises PathError when the path reads two ways, or is badly quoted.
    """
    found = readings(root, split_dotted(dotted))
    message = ambiguity(dotted, found)
    if message:
        raise PathError(message)
    return found[0][1] if found else ABSENT


def parent(root: Any, dotted: str) -> tuple[dict[str, Any], str] | None:
    """The mapping that holds (or would hold) the last key of a dotted path, and that key.

    Raises PathError when the path, or the part of it that exists, reads two ways."""
    segments = split_dotted(dotted)
    whole = readings(root, segments)
    message = ambiguity(dotted, whole)
    if len(whole) == 1 and len(whole[0][0]) > 1:  # it is there: the mapping that holds it
        holder = readings(root, segments[:-1])
        if len(holder) == 1 and isinstance(holder[0][1], dict):
            return holder[0][1], str(whole[0][0][-1])
    for cut in range(len(segments) - 1, 0, -1):
        if message:
            break
        found = [(k, v) for k, v in readings(root, segments[:cut]) if isinstance(v, dict)]
        message = ambiguity(dotted, found)
        if len(found) == 1 and any(s.match for s in segments[cut:]):
            message = f"path '{dotted}': no record matches {segments[cut].text}"
        elif len(found) == 1:
            return found[0][1], ".".join(s.text for s in segments[cut:])
    if message:
        raise PathError(message)
    return (root, ".".join(s.text for s in segments)) if isinstance(root, dict) else None


def show(value: Any) -> str:
    """A value as people read it in messages: JSON, or a note that nothing is there."""
    if value is ABSENT:
        return "nothing (no such path)"
    return json.dumps(value, default=str)
