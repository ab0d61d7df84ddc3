"""Dotted paths (`a.b.0.c`) into plain data, as scenarios and `run --watch` write them."""

from __future__ import annotations

import json
from typing import Any

#: What `lookup` returns when nothing is at the path (None is a real value there).
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


def lookup(root: Any, dotted: str) -> Any:
    """The value at a dotted path, or ABSENT; list items are addressed by index."""
    value = root
    for part in dotted.split("."):
        if isinstance(value, dict):
            value = value.get(part, ABSENT)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return ABSENT
        if value is ABSENT:
            return ABSENT
    return value


def show(value: Any) -> str:
    """A value as people read it in messages: JSON, or a note that nothing is there."""
    if value is ABSENT:
        return "nothing (no such path)"
    return json.dumps(value, default=str)
