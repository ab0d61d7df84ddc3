"""Reading world files: the same staged, located checks as workflows."""

from __future__ import annotations

from pathlib import Path

from engine.errors import Problem
from engine.language.schema import validate_document
from engine.language.yaml_loader import Document, read_file
from engine.runtime.world import World
from engine.source import SourceLocation


def world_from_document(doc: Document) -> World:
    return World(doc.value.get("collections") or {}, name=doc.value.get("world", ""))


def load_world(path: str | Path) -> tuple[World | None, list[Problem]]:
    """A world, or None with every located problem."""
    doc, problems = read_file(Path(path), str(path))
    if doc is None or problems:
        return None, problems
    if not isinstance(doc.value, dict) or "world" not in doc.value:
        return None, [
            Problem(
                SourceLocation(str(path), 1, 1),
                "not a world file: expected a top-level `world` key",
            )
        ]
    problems = validate_document(doc, "world.schema.json")
    if problems:
        return None, problems
    return world_from_document(doc), []
