"""The world in the store: imported in bulk, read by collection or key. (During an event the
runtime reads it through world_view.StoreWorld, record by record.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from linkflow.errors import DefinitionError
from linkflow.runtime.world import World
from linkflow.store.backend import Tx
from linkflow.store.core import StoreCore
from linkflow.store.world_view import dump


class WorldStore(StoreCore):
    """`load_world` and `world` (see `Store`)."""

    def load_world(self, world: World | str | Path) -> int:
        """Import a world (or world file): each record replaces the stored one of its key, all
        in one transaction with one executemany (100,000 records: benchmarks/world_load.py)."""
        if not isinstance(world, World):
            from linkflow.runtime.world_loader import load_world  # noqa: PLC0415 - world files: only loading one needs the loader (and world schemas); `send` does not

            loaded, problems = load_world(world)
            if loaded is None:
                raise DefinitionError(problems)
            world = loaded
        records = [
            (name, str(key), dump(value))
            for name, items in world.collections.items()
            for key, value in items.items()
        ]

        def work(tx: Tx) -> int:
            tx.many(self.sql["load_world_record"], records)
            return len(records)

        return self._write(work)

    def world(self, collection: str, key: str | None = None) -> dict[str, Any]:
        """The records of a collection (or the one record of `key`), by key."""
        with self.backend.read() as tx:
            if key is None:
                rows = tx.all(self.sql["world_collection"], (collection,))
            else:
                rows = tx.all(self.sql["world_key"], (collection, key))
        return {str(k): json.loads(v) for k, v in rows}
