"""One way to write a duration for people, used by every output (show, run, diagrams, docs)."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """A wait in the unit a person would say: 90 s, 15 min, 24 h, 7 d."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if unit == "d" and seconds < 3 * 86400:
            continue
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:g} s"
