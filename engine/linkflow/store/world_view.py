"""The world as one event sees it: records fetched from the store by key, on first use.

The runtime reads and writes `World.collections[name][key]` as plain dicts; here those dicts
load a record the first time a key is asked for (inside the event's transaction, locked on
PostgreSQL) and remember its stored text, so after the step only the records that changed
are written back. Guards stay as cheap as a primary-key lookup however large the world is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from linkflow.runtime.json_values import compact_json
from linkflow.runtime.world import World

#: Loads one record's stored JSON text, or None when there is no such record.
Fetch = Callable[[str, str], str | None]


def dump(value: Any) -> str:
    """A JSON value as stored: compact, key order kept (so an unchanged record compares equal)."""
    return compact_json(value)


class Records(dict[str, Any]):
    """One collection: a dict that fetches a key from the store the first time it is read."""

    def __init__(self, name: str, fetch: Fetch) -> None:
        super().__init__()
        self.name = name
        self._fetch = fetch
        #: key -> stored text as loaded (None: there was no record).
        self.loaded: dict[str, str | None] = {}

    def _load(self, key: Any) -> None:
        if not isinstance(key, str) or key in self.loaded:
            return
        text = self._fetch(self.name, key)
        self.loaded[key] = text
        if text is not None:
            dict.__setitem__(self, key, json.loads(text))

    def get(self, key: Any, default: Any = None) -> Any:
        self._load(key)
        return dict.get(self, key, default)

    def __getitem__(self, key: str) -> Any:
        self._load(key)
        return dict.__getitem__(self, key)

    def __contains__(self, key: object) -> bool:
        self._load(key)
        return dict.__contains__(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._load(key)  # remember what was there before, to know it changed
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        self._load(key)
        dict.__delitem__(self, key)


class Collections(dict[str, dict[str, Any]]):
    """Every collection exists: a name never seen before is an empty collection to read."""

    def __init__(self, fetch: Fetch) -> None:
        super().__init__()
        self._fetch = fetch

    def get(self, name: Any, default: Any = None) -> dict[str, Any]:
        records = dict.get(self, name)
        if records is None:
            records = Records(str(name), self._fetch)
            dict.__setitem__(self, name, records)
        return records

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self.get(name)


class StoreWorld(World):
    """A World whose records live in the store; `changes()` lists what to write back."""

    __slots__ = ()

    def __init__(self, fetch: Fetch) -> None:
        super().__init__()
        self.collections = Collections(fetch)

    def changes(self) -> list[tuple[str, str, str | None, bool]]:
        """(collection, key, new text or None to delete, whether a record was there before)."""
        out: list[tuple[str, str, str | None, bool]] = []
        for name, records in dict.items(self.collections):
            assert isinstance(records, Records)
            for key, before in records.loaded.items():
                if dict.__contains__(records, key):
                    after = dump(dict.__getitem__(records, key))
                    if after != before:
                        out.append((name, key, after, before is not None))
                elif before is not None:
                    out.append((name, key, None, True))
        return out
