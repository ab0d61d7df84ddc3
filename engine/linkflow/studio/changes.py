"""What one step changed in the world or in an instance's data, as dotted paths.

The studio highlights these in the page and writes them as `expect` blocks of a saved
scenario, so both read the same paths `linkflow test` looks up (`collection.record.field`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from linkflow.runtime.paths import ABSENT


@dataclass(frozen=True, slots=True)
class Change:
    """One path whose value differs; `before` or `after` is ABSENT when it was added/removed."""

    path: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        if self.before is not ABSENT:
            out["before"] = self.before
        if self.after is not ABSENT:
            out["after"] = self.after
        return out


def _addressable(key: Any) -> bool:
    """Whether a key can stand in a dotted path (a dot inside would split it)."""
    return isinstance(key, str) and key != "" and "." not in key


def diff(before: Any, after: Any, depth: int, prefix: str = "") -> list[Change]:
    """Changed paths, descending into mappings at most `depth` levels; deeper values (and
    lists) are compared whole, so a changed list shows as one change."""
    if before == after:
        return []
    if depth > 0 and isinstance(before, Mapping) and isinstance(after, Mapping):
        changes: list[Change] = []
        keys = list(before) + [k for k in after if k not in before]
        for key in keys:
            path = f"{prefix}.{key}" if prefix else str(key)
            if not _addressable(key):
                continue
            changes.extend(diff(before.get(key, ABSENT), after.get(key, ABSENT), depth - 1, path))
        return changes
    return [Change(prefix, before, after)]
