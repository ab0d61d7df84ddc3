"""Reading world files: the same staged, located checks as workflows, then the project's own
world schema (the records' shapes), when the project has one.

A world file is YAML (what people write by hand; at most 1 MiB, like every YAML file) or JSON
(what programs write: at most 32 MiB, MAX_JSON_BYTES). Either way a world holds at most
MAX_WORLD_RECORDS records. Both take a fast path: a JSON text goes through the C `json`
decoder with strict hooks (linkflow.language.json_reader.quick_json); then the jsonschema-rs
pre-checks of the generic world format and of the project's world schema; then a World that
adopts the parsed data without copying it (100,000 JSON records in under 2 s:
benchmarks/world_load.py). Only where one of those says no does the located path run, naming
every problem at file:line:column: the located JSON scanner for a text that is not sound, and
jsonschema on just the records the pre-check refused, located on demand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from linkflow.errors import Problem
from linkflow.language.json_reader import MAX_JSON_BYTES, is_json, read_document
from linkflow.language.schema import describe, precheck_for, validator_for
from linkflow.language.validators import trusted_valid
from linkflow.language.world_schema import (
    WorldSchema,
    too_many_records,
    world_document_problems,
    world_schema_of,
)
from linkflow.language.yaml_loader import TOO_LARGE, Document
from linkflow.runtime.world import World
from linkflow.source import SourceLocation


def world_from_document(doc: Document) -> World:
    return World(doc.value.get("collections") or {}, name=doc.value.get("world", ""))


def load_world_and_schema(
    path: str | Path,
) -> tuple[World | None, WorldSchema | None, list[Problem]]:
    """A world and the project schema it was checked against (None without one)."""
    doc, problems = read_document(Path(path), str(path))
    if doc is None or problems:
        return None, None, [_hint(Path(path), p) for p in problems]
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
    prechecked = _prechecked(doc)
    if prechecked is not None:
        return World.adopt(doc.value["collections"], name=doc.value["world"]), prechecked[0], []
    problems = world_document_problems(doc)
    if problems:
        return None, None, problems
    return world_from_document(doc), world_schema_of(doc)[0], []


def _hint(path: Path, problem: Problem) -> Problem:
    """A YAML world over the YAML bound is told where large worlds go."""
    if is_json(path) or not problem.message.startswith(TOO_LARGE):
        return problem
    where = f"write a large world as JSON (.json, up to {MAX_JSON_BYTES // 2**20} MiB)"
    return Problem(problem.location, f"{problem.message}: {where}")


def _prechecked(doc: Document) -> tuple[WorldSchema | None] | None:
    """(the world's schema) when the jsonschema-rs pre-checks accept the world as it is, else
    None: then the located checks run and say what is wrong, and where."""
    if not trusted_valid(precheck_for("world.schema.json"), doc.value):
        return None
    collections: dict[str, dict[str, Any]] = doc.value["collections"]
    if too_many_records(collections):
        return None
    schema, problems = world_schema_of(doc)
    if problems:
        return None
    if schema is not None and not trusted_valid(schema.precheck, collections):
        return None
    return (schema,)


def load_world(path: str | Path) -> tuple[World | None, list[Problem]]:
    """A world, or None with every located problem."""
    world, _, problems = load_world_and_schema(path)
    return world, problems


def collections_problems(collections: Any, schema: WorldSchema | None) -> list[str]:
    """What is wrong with collections changed after loading, as `path: why` lines."""
    whole = {"world": "w", "collections": collections}
    if trusted_valid(precheck_for("world.schema.json"), whole) and (
        schema is None or trusted_valid(schema.precheck, collections)
    ):
        return []
    errors = list(validator_for("world.schema.json").iter_errors(whole))
    if schema is not None and not errors:
        errors = list(schema.explaining.iter_errors(collections))
        where = [".".join(map(str, e.absolute_path)) for e in errors]
    else:
        where = [".".join(map(str, list(e.absolute_path)[1:])) for e in errors]
    return [f"{w or 'the world'}: {describe(e)}" for w, e in zip(where, errors, strict=True)]
