"""Strict JSON values: what a payload, initial data or a world may hold, and one compact encoder.

The Python API accepts any object at all; the engine takes only what JSON means, bounded like
the YAML reader. JSON text is read by the one strict reader, linkflow.language.json_text.
"""

from __future__ import annotations

import json
import math
from typing import Any

from linkflow.language.yaml_loader import MAX_DEPTH, MAX_SAFE_INTEGER

#: Compact JSON text, keys in their order, non-ASCII kept. One encoder for every call:
#: `json.dumps` with options builds a new one each time, which costs as much as encoding a
#: small value (a step's history payload; each of a 100,000-record world's records).
compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_problem(  # noqa: PLR0911, PLR0912 - one walk, a return per kind of problem; a helper per kind would cost a call per value
    value: Any,
    max_depth: int = MAX_DEPTH,
    *,
    max_values: int | None = None,
    max_chars: int | None = None,
) -> str:
    """Why `value` is not strict, bounded JSON data, or ''. Never repeats a value.

    With `max_values`, it may hold at most that many values (containers included); with
    `max_chars`, its JSON text may be at most that long (counted as it is walked, so a 10 MB
    string is refused without writing 10 MB of JSON first).
    """
    if type(value) is dict and max_depth >= 1 and _flat_fits(value, max_values, max_chars):
        return ""
    pending: list[tuple[Any, int]] = [(value, 0)]
    values = 0
    chars = 0
    while pending:
        item, depth = pending.pop()
        values += 1
        if max_values is not None and values > max_values:
            return f"it holds more than {max_values:,} values"
        if depth > max_depth:
            return f"nesting is deeper than {max_depth} levels"
        kind = type(item)
        chars += len(item) + 3 if kind is str else 8
        if max_chars is not None and chars > max_chars:
            return f"it is larger than {max_chars // 1024} KiB"
        if item is None or kind is bool or kind is str:
            continue
        if kind is int:
            if abs(item) > MAX_SAFE_INTEGER:
                return f"a number is out of range (limit: {MAX_SAFE_INTEGER:,} either way)"
            continue
        if kind is float:
            if not math.isfinite(item):
                return "a number is not finite (NaN and infinity are not JSON)"
            continue
        if kind is dict:
            if max_values is not None and values + len(item) > max_values:
                return f"it holds more than {max_values:,} values"
            for key, child in item.items():
                if type(key) is not str:
                    return "a key is not a string"
                chars += len(key) + 3
                pending.append((child, depth + 1))
            continue
        if kind is list:
            if max_values is not None and values + len(item) > max_values:
                return f"it holds more than {max_values:,} values"
            pending.extend((child, depth + 1) for child in item)
            continue
        return f"a value is not JSON data ({kind.__name__})"
    return ""


def _flat_fits(fields: dict[Any, Any], max_values: int | None, max_chars: int | None) -> bool:
    """A mapping of text keys to text, booleans, nulls and numbers in range, within the limits
    as `json_problem` counts them: the common payload, judged in one pass without the stack.
    False means only "walk it", never "refused"."""
    if max_values is not None and len(fields) + 1 > max_values:
        return False
    chars = 8
    for key, item in fields.items():
        if type(key) is not str:
            return False
        kind = type(item)
        if kind is str:
            chars += len(key) + len(item) + 6
        elif _plain_scalar(item, kind):
            chars += len(key) + 11
        else:
            return False
    return max_chars is None or chars <= max_chars


#: For the event path, which judges the common payload before calling `json_problem`: True
#: means `json_problem` finds nothing (with the same limits), False only "walk it".
flat_fits = _flat_fits


def _plain_scalar(item: Any, kind: type) -> bool:
    if item is None or kind is bool:
        return True
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER)
    return kind is float and math.isfinite(item)
