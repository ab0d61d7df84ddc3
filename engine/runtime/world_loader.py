"""Reading world files: the same staged, located checks as workflows, then the project's own
world schema (the records' shapes), when the project has one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import Problem
from engine.language.schema import describe, fragment_validator, validate_document, validator_for
from engine.language.world_schema import WorldSchema, world_problems, world_schema_of
from engine.language.yaml_loader import Document, read_file
from engine.runtime.world import World
from engine.source import SourceLocation


def world_from_document(doc: Document) -> World:
    return World(doc.value.get("collections") or {}, name=doc.value.get("world", ""))


def load_world_and_schema(
    path: str | Path,
) -> tuple[World | None, WorldSchema | None, list[Problem]]:
    """A world and the project schema it was checked against (None without one)."""
    doc, problems = read_file(Path(path), str(path))
    if doc is None or problems:
        return None, None, problems
    if not isinstance(doc.value, dict) or "world" not in doc.value:
        return (
            None,
            None,
            [
                Problem(
                    SourceLocation(str(path), 1, 1),
                    "not a world file: expected a top-level `world` key",
                )
            ],
        )
    problems = validate_document(doc, "world.schema.json") or world_problems(doc)
    if problems:
        return None, None, problems
    return world_from_document(doc), world_schema_of(doc)[0], []


def load_world(path: str | Path) -> tuple[World | None, list[Problem]]:
    """A world, or None with every located problem."""
    world, _, problems = load_world_and_schema(path)
    return world, problems


def collections_problems(collections: Any, schema: WorldSchema | None) -> list[str]:
    """What is wrong with collections changed after loading, as `path: why` lines."""
    errors = list(
        validator_for("world.schema.json").iter_errors({"world": "w", "collections": collections})
    )
    if schema is not None and not errors:
        errors = list(fragment_validator(schema.whole()).iter_errors(collections))
        where = [".".join(map(str, e.absolute_path)) for e in errors]
    else:
        where = [".".join(map(str, list(e.absolute_path)[1:])) for e in errors]
    return [f"{w or 'the world'}: {describe(e)}" for w, e in zip(where, errors, strict=True)]
