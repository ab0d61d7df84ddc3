"""Dotted paths into plain data (`collection.record_id.field`), as scenarios write them.

Record ids may hold periods (`jo.smith`, `po.1001`), so an unquoted run of parts is matched
against the keys actually there: `users.jo.smith.name` finds the record `jo.smith`. A segment
can also be quoted, `orders["po.1001"].status` (or with single quotes), and then it is one key,
whatever it holds. When the unquoted parts can be read two ways (records `a` with a field
`b.c`, and `a.b` with a field `c`: `things.a.b.c`), the path is ambiguous and says so, naming
both readings; it is never settled by a silent pick.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

#: `["..."]` or `['...']`, with `\\` escapes, or a run of characters that are not `.` or `[`.
_QUOTED_SEGMENT = re.compile(r"""\[\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\]""")
_PLAIN_SEGMENT = re.compile(r"[^.\[\]]+")
#: Enough readings of any path a person writes; a path built to explode stops here.
MAX_STEPS = 10_000


#: One condition of a match segment: `field = value`, the value JSON (a "string", a number,
#: true, false, null) or a 'single-quoted string'.
_CONDITION = re.compile(
    r"""\s*([A-Za-z_][\w]*)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|"""
    r"""-?[0-9]+(?:\.[0-9]+)?|true|false|null)\s*(,|\])"""
)


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a dotted path; a quoted one is a single key, periods and all; a match
    (`[name="Acme", region="US"]`) is the one record whose fields hold those values."""

    text: str
    quoted: bool = False
    match: tuple[tuple[str, Any], ...] | None = None

    def matches(self, record: Any) -> bool:
        return isinstance(record, dict) and all(
            name in record and record[name] == value for name, value in self.match or ()
        )


class PathError(ValueError):
    """A dotted path that cannot be read (bad quoting) or that reads two ways."""


def split_dotted(text: str) -> list[Segment]:
    """The segments of `a.b["c.d"].e`; raises PathError, saying where, on bad quoting."""
    segments: list[Segment] = []
    i = 0
    expect_part = True
    while i < len(text):
        char = text[i]
        if char == "[" and not _QUOTED_SEGMENT.match(text, i):
            segment, i = _match_segment(text, i)
            segments.append(segment)
            expect_part = False
        elif char == "[":
            found = _QUOTED_SEGMENT.match(text, i)
            if found is None:
                raise PathError(
                    f"path '{text}': at character {i + 1}, write a quoted key as [\"key\"]"
                )
            quoted = found.group(1) if found.group(1) is not None else found.group(2)
            segments.append(Segment(re.sub(r"\\(.)", r"\1", quoted), quoted=True))
            i, expect_part = found.end(), False
        elif char == ".":
            if expect_part:
                raise PathError(f"path '{text}': an empty part at character {i + 1}")
            i, expect_part = i + 1, True
        else:
            found = _PLAIN_SEGMENT.match(text, i)
            if found is None or not expect_part:
                raise PathError(f"path '{text}': unexpected '{char}' at character {i + 1}")
            segments.append(Segment(found.group()))
            i, expect_part = found.end(), False
    if expect_part:
        raise PathError(f"path '{text}': it ends in '.' or is empty")
    return segments


def _match_segment(text: str, start: int) -> tuple[Segment, int]:
    """The match segment `[field=value, ...]` at `start`, and where it ends."""
    conditions: list[tuple[str, Any]] = []
    i = start + 1
    while True:
        found = _CONDITION.match(text, i)
        if found is None:
            raise PathError(
                f"path '{text}': at character {i + 1}, write a quoted key as [\"key\"] or a "
                'match as [field="value"]'
            )
        written = found.group(2)
        if written.startswith("'"):
            value: Any = re.sub(r"\\(.)", r"\1", written[1:-1])
        else:
            value = json.loads(written)
        conditions.append((found.group(1), value))
        i = found.end()
        if found.group(3) == "]":
            return Segment(text[start:i], match=tuple(conditions)), i


def show_keys(keys: list[str | int]) -> str:
    """A reading of a path as a person can write it back: keys that hold a period quoted."""
    parts = []
    for index, key in enumerate(keys):
        if isinstance(key, str) and not _PLAIN_SEGMENT.fullmatch(key):
            parts.append(f"[{json.dumps(key)}]")
        else:
            parts.append(f"{'.' if index else ''}{key}")
    return "".join(parts)


def readings(root: Any, segments: list[Segment]) -> list[tuple[list[str | int], Any]]:
    """Every way the segments lead to a value under `root`: (the keys taken, the value).
    Stops at two: one reading is an answer, two are an ambiguity."""
    found: list[tuple[list[str | int], Any]] = []
    steps = [0]
    for reading in _walk(root, segments, 0, [], steps):
        found.append(reading)
        if len(found) == 2 or steps[0] > MAX_STEPS:
            break
    return found


def _walk(
    value: Any, segments: list[Segment], i: int, keys: list[str | int], steps: list[int]
) -> Iterator[tuple[list[str | int], Any]]:
    steps[0] += 1
    if steps[0] > MAX_STEPS:
        return
    if i == len(segments):
        yield keys, value
        return
    segment = segments[i]
    if segment.match is not None:  # every record that holds the values: one is an answer
        items = value.items() if isinstance(value, dict) else enumerate(value or ())
        if isinstance(value, dict | list):
            for key, record in list(items):
                if segment.matches(record):
                    yield from _walk(record, segments, i + 1, [*keys, key], steps)
        return
    if isinstance(value, list):
        text = segments[i].text
        if text.isdigit() and int(text) < len(value):
            yield from _walk(value[int(text)], segments, i + 1, [*keys, int(text)], steps)
        return
    if not isinstance(value, dict):
        return
    for end in key_ends(segments, i, value):
        key = ".".join(s.text for s in segments[i:end])
        yield from _walk(value[key], segments, end, [*keys, key], steps)


def key_ends(segments: list[Segment], start: int, keys: Collection[str]) -> list[int]:
    """Where each key of `keys` that the segments from `start` spell ends, longest first: a
    quoted segment is a key alone; an unquoted run may join parts with periods."""
    if segments[start].quoted:
        return [start + 1] if segments[start].text in keys else []
    if segments[start].match is not None:
        return []  # a match names no key: `readings` finds the records it selects
    run_end = start
    while run_end < len(segments) and not (segments[run_end].quoted or segments[run_end].match):
        run_end += 1
    return [
        end
        for end in range(run_end, start, -1)
        if ".".join(s.text for s in segments[start:end]) in keys
    ]


def ambiguity(text: str, found: list[tuple[list[str | int], Any]]) -> str:
    """The message for a path that reads two ways, or '' when it reads one way or none."""
    if len(found) < 2:
        return ""
    first, second = (show_keys(keys) for keys, _ in found[:2])
    if any(s.match for s in split_dotted(text)):
        return (
            f"path '{text}' matches more than one record, {first} and {second}: "
            "add a field to the match to say which"
        )
    return (
        f"path '{text}' can be read two ways, {first} and {second}: "
        "quote the key that holds a period to say which"
    )
