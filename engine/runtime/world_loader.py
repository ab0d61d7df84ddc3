"""Reading world files: the same staged, located checks as workflows, then the project's own
world schema (the records' shapes), when the project has one.

A world file is YAML (what people write by hand; at most 1 MiB, like every YAML file) or JSON
(what programs write: at most 32 MiB, MAX_JSON_BYTES). Either way a world holds at most
MAX_WORLD_RECORDS records. A JSON world takes a fast path first: the C `json` decoder with
strict hooks, then the jsonschema-rs pre-checks of the generic world format and of the
project's world schema, then a World that adopts the parsed data without copying it (100,000
records in well under 2 s; benchmarks/world_load.py). Only when any of those says no does the
located path run, which names every problem at file:line:column: the located JSON scanner,
then jsonschema on the records the pre-check refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import Problem
from engine.language.json_reader import (
    MAX_JSON_BYTES,
    is_json,
    located_later,
    quick_json,
    read_document,
)
from engine.language.schema import describe, precheck_for, trusted_valid, validator_for
from engine.language.world_schema import (
    WorldSchema,
    too_many_records,
    world_document_problems,
    world_schema_of,
)
from engine.language.yaml_loader import Document
from engine.runtime.world import World
from engine.source import SourceLocation


def world_from_document(doc: Document) -> World:
    return World(doc.value.get("collections") or {}, name=doc.value.get("world", ""))


def load_world_and_schema(
    path: str | Path,
) -> tuple[World | None, WorldSchema | None, list[Problem]]:
    """A world and the project schema it was checked against (None without one)."""
    path = Path(path)
    quick = _quick_world(path) if is_json(path) else None
    if isinstance(quick, tuple):
        return quick[0], quick[1], []
    doc = quick
    if doc is None:
        doc, problems = read_document(path, str(path))
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
    problems = world_document_problems(doc)
    if problems:
        return None, None, problems
    return world_from_document(doc), world_schema_of(doc)[0], []


def _quick_world(path: Path) -> tuple[World, WorldSchema | None] | Document | None:
    """The world and its schema when every check passes on the fast path. Else, when the text
    is sound JSON, a Document that locates on demand (the checks then say what is wrong, and
    where); None when even the text needs the located reader."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            return None
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    value = quick_json(text)
    if value is None:
        return None
    doc = located_later(text, str(path), value)
    if not (isinstance(value, dict) and "world" in value):
        return doc
    if not trusted_valid(precheck_for("world.schema.json"), value):
        return doc
    collections: dict[str, dict[str, Any]] = value["collections"]
    if too_many_records(collections):
        return doc
    schema, problems = world_schema_of(doc)
    if problems:
        return doc
    if schema is not None:
        validator, precheck = schema.validators
        if precheck is None:
            if next(iter(validator.iter_errors(collections)), None) is not None:
                return doc
        elif not trusted_valid(precheck, collections):
            return doc
    return World.adopt(collections, name=value["world"]), schema


def load_world(path: str | Path) -> tuple[World | None, list[Problem]]:
    """A world, or None with every located problem."""
    world, _, problems = load_world_and_schema(path)
    return world, problems


def collections_problems(collections: Any, schema: WorldSchema | None) -> list[str]:
    """What is wrong with collections changed after loading, as `path: why` lines."""
    whole = {"world": "w", "collections": collections}
    if trusted_valid(precheck_for("world.schema.json"), whole) and (
        schema is None or trusted_valid(schema.validators[1], collections)
    ):
        return []
    errors = list(validator_for("world.schema.json").iter_errors(whole))
    if schema is not None and not errors:
        errors = list(schema.validators[0].iter_errors(collections))
        where = [".".join(map(str, e.absolute_path)) for e in errors]
    else:
        where = [".".join(map(str, list(e.absolute_path)[1:])) for e in errors]
    return [f"{w or 'the world'}: {describe(e)}" for w, e in zip(where, errors, strict=True)]
