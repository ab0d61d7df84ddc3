"""One way to write a duration for people, used by every output (show, run, diagrams, docs)."""

from __future__ import annotations

import re


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


#: The written forms of a wait, besides a plain number of seconds: compact (`2d`, `90m`,
#: `1h30m`, `45s`) or ISO 8601 (`P2D`, `PT90M`, `P1W`, `P1DT12H`). Years and months are left
#: out: their length depends on the calendar. The workflow schema carries the same pattern
#: (tests/test_durations.py keeps the two equal); parse_duration also refuses a form with no
#: number in it (`P`, `PT`, an empty text), which the pattern alone lets through.
DURATION_PATTERN = (
    r"^(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$"
    r"|^P(?:([0-9]+)W)?(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)S)?)?$"
)
#: At most ten years, the bound the schema puts on a number of seconds.
MAX_SECONDS = 315_360_000
DURATION_FORMS = (
    "write a number of seconds (86400), or 2d, 90m, 1h30m, 45s, "
    "or ISO 8601 such as P2D, PT90M, P1DT12H"
)
#: The size in seconds of each number the pattern captures, in the pattern's group order.
_GROUP_SECONDS = (86400, 3600, 60, 1, 604800, 86400, 3600, 60, 1)


class DurationError(ValueError):
    """A wait written in no accepted form, or outside the allowed range; the message says why."""


def parse_duration(value: object) -> float:
    """Seconds from a wait as written in a workflow: a number, or a text in DURATION_PATTERN."""
    if isinstance(value, bool):
        raise DurationError(f"a duration cannot be true or false: {DURATION_FORMS}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        found = re.fullmatch(DURATION_PATTERN, value)
        if found is None or not any(found.groups()):
            raise DurationError(f"'{value}' is not a duration: {DURATION_FORMS}")
        seconds = float(
            sum(int(g) * size for g, size in zip(found.groups(), _GROUP_SECONDS, strict=True) if g)
        )
    else:
        raise DurationError(f"expected a duration: {DURATION_FORMS}")
    if not 0 < seconds <= MAX_SECONDS:
        raise DurationError(
            f"a duration must be more than 0 seconds and at most ten years ({MAX_SECONDS} s)"
        )
    return seconds
