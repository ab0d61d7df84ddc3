"""The world a workflow acts on: named collections of records keyed by id.

Guards never see it whole; bindings look records up by key, so their cost does not grow with
the world. Actions change it through a journal, so a failed step can be undone exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MISSING: Any = object()


def copy_json(value: Any) -> Any:
    """A deep copy of plain JSON-like data (much faster than copy.deepcopy for it)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


class World:
    """Collections of records: `collections[name][key] -> record`."""

    __slots__ = ("collections", "name")

    def __init__(
        self, collections: Mapping[str, Mapping[str, Any]] | None = None, name: str = ""
    ) -> None:
        self.name = name
        self.collections: dict[str, dict[str, Any]] = {
            cname: {str(k): copy_json(v) for k, v in records.items()}
            for cname, records in (collections or {}).items()
        }

    @classmethod
    def adopt(cls, collections: dict[str, dict[str, Any]], name: str = "") -> World:
        """A world that takes `collections` as they are, without the deep copy `__init__`
        makes: for freshly parsed data that nothing else holds (string keys, plain JSON
        values). Copying 100,000 records costs about as much as parsing them."""
        world = cls.__new__(cls)
        world.name = name
        world.collections = collections
        return world

    def get(self, collection: str, key: Any) -> Any:
        """One record, or None; never raises for a missing collection or key."""
        records = self.collections.get(collection)
        if records is None:
            return None
        if type(key) is str:
            return records.get(key)
        if not isinstance(key, str | int):
            return None
        return records.get(str(key))

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return copy_json(self.collections)  # type: ignore[no-any-return]


class Journal:
    """Undo records for in-place writes: `rollback` restores every container exactly."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[tuple[Any, Any, Any]] = []

    def put(self, container: dict[str, Any], key: str, value: Any) -> None:
        self.entries.append((container, key, container.get(key, MISSING)))
        container[key] = value

    def delete(self, container: dict[str, Any], key: str) -> None:
        if key in container:
            self.entries.append((container, key, container[key]))
            del container[key]

    def rollback(self) -> None:
        for container, key, old in reversed(self.entries):
            if old is MISSING:
                container.pop(key, None)
            else:
                container[key] = old
        self.entries.clear()
