"""A project's world schema: which collections its worlds hold and the shape of their records.

The engine ships only the generic world format (collections of records keyed by id). The
records' shapes belong to the project, in a `world.schema.yaml` file (top-level `world_schema:`)
beside its workflows: a world is checked against the nearest one at or above its folder (or the
file its `schema:` names), and `linkflow validate` uses it to check what workflows read and write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from linkflow.errors import Problem
from linkflow.language.schema import (
    check_fragment_schema,
    located_problems,
    precheck_for,
    validate_document,
    validator_for,
)
from linkflow.language.validators import explaining_validator, precheck_validator, trusted_valid
from linkflow.language.yaml_loader import Document, read_file

#: The file name looked for in a folder and the folders above it.
WORLD_SCHEMA_FILE = "world.schema.yaml"
#: The most records a world may hold, over all its collections: twice the 100,000 a world
#: file is measured with (benchmarks/world_load.py), so memory (about 2 KB a record once
#: loaded) and load time stay in proportion.
MAX_WORLD_RECORDS = 200_000


@dataclass(frozen=True, eq=False)
class WorldSchema:
    """The collections a project declares, each with the JSON Schema of one record."""

    name: str
    file: str
    records: Mapping[str, Mapping[str, Any]]
    #: Shared pieces the records refer to as `#/$defs/<name>`.
    defs: Mapping[str, Any] = field(default_factory=dict)
    #: Per collection, an extra JSON Schema for its record ids.
    ids: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def validators(self) -> tuple[Any, Any | None]:
        """jsonschema for `whole()` and its jsonschema-rs pre-check (None when the schema uses
        a keyword the pre-check cannot be trusted with). No default size limits: those are
        for payloads (linkflow.language.schema.bounded); a world is the project's own data, and
        a collection routinely holds more than 100 records."""
        return self.explaining, self.precheck

    @cached_property
    def explaining(self) -> Any:
        """jsonschema for `whole()`: built only when the pre-check refuses (or there is none),
        so a valid world never imports jsonschema."""
        return explaining_validator(self.whole())

    @cached_property
    def precheck(self) -> Any | None:
        """The jsonschema-rs pre-check of `whole()` (None when it cannot be trusted with it)."""
        return precheck_validator(self.whole())

    def whole(self) -> dict[str, Any]:
        """One JSON Schema for a world's `collections` mapping."""
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                name: {
                    "type": "object",
                    "additionalProperties": dict(record),
                    **({"propertyNames": dict(self.ids[name])} if name in self.ids else {}),
                }
                for name, record in self.records.items()
            },
            "$defs": dict(self.defs),
        }

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """A record (or field) schema with a local `$ref` followed, for field look-ups."""
        seen = 0
        while isinstance(schema, Mapping) and "$ref" in schema and seen < 16:
            ref = str(schema["$ref"])
            if not ref.startswith("#/$defs/"):
                return schema
            target = self.defs.get(ref.removeprefix("#/$defs/"))
            if not isinstance(target, Mapping):
                return schema
            schema, seen = target, seen + 1
        return schema

    def fields(self, collection: str) -> frozenset[str] | None:
        """The fields a record of `collection` may have, or None when any field may be there."""
        record = self.resolve(self.records.get(collection) or {})
        props = record.get("properties")
        if record.get("additionalProperties") is False and isinstance(props, Mapping):
            return frozenset(props)
        return None


def build_world_schema(doc: Document) -> tuple[WorldSchema | None, list[Problem]]:
    """A schema-valid `world_schema:` document, with every record schema itself checked."""
    spec: dict[str, Any] = doc.value
    collections = spec["collections"]
    built = WorldSchema(
        spec["world_schema"],
        doc.file,
        {name: c["record"] for name, c in collections.items()},
        spec.get("$defs") or {},
        {name: c["id"] for name, c in collections.items() if "id" in c},
    )
    problems = [
        Problem(doc.locate(_source_path(inner)), f"record schema: {message}")
        for inner, message in check_fragment_schema(built.whole())
    ]
    return (None if problems else built), problems


def _source_path(inner: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Where a path inside `WorldSchema.whole()` was written in the world schema file."""
    if inner[:1] == ("properties",) and len(inner) >= 3:
        part = "record" if inner[2] == "additionalProperties" else "id"
        return ("collections", inner[1], part, *inner[3:])
    return inner


def find_world_schema(start: Path) -> Path | None:
    """The nearest `world.schema.yaml` in `start` (a folder, or a file's folder) or above it."""
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.resolve().parents):
        path = candidate / WORLD_SCHEMA_FILE
        if path.is_file():
            return path
    return None


#: World schemas the loader has read, checked and built without a problem, by resolved path:
#: the first look-up of that file in this process takes the one built instead of reading and
#: checking the file a second time (`linkflow validate` reads each file once).
_BUILT: dict[Path, WorldSchema] = {}


def remember_world_schema(file: str, schema: WorldSchema) -> None:
    """Keep a world schema the loader built from `file` (read, schema-valid, no problem) for
    the first `load_world_schema` of that file, named as that look-up names it."""
    path = Path(file).resolve()
    _BUILT[path] = replace(schema, file=str(path))


@cache
def _load(path: Path) -> tuple[WorldSchema | None, tuple[Problem, ...]]:
    built = _BUILT.pop(path, None)
    if built is not None:
        return built, ()
    doc, problems = read_file(path, str(path))
    if doc is None or problems:
        return None, tuple(problems)
    if not isinstance(doc.value, dict) or "world_schema" not in doc.value:
        return None, (Problem(doc.locate(()), "not a world schema: expected `world_schema:`"),)

    problems = validate_document(doc, "world_schema.schema.json")
    if problems:
        return None, tuple(problems)
    schema, problems = build_world_schema(doc)
    return schema, tuple(problems)


def load_world_schema(path: Path) -> tuple[WorldSchema | None, list[Problem]]:
    """A world schema file, read once per process."""
    schema, problems = _load(path.resolve())
    return schema, list(problems)


def schema_for(start: Path) -> tuple[WorldSchema | None, list[Problem]]:
    """The world schema that governs files at `start`, or None when the project has none."""
    found = find_world_schema(start)
    return (None, []) if found is None else load_world_schema(found)


def world_schema_of(doc: Document) -> tuple[WorldSchema | None, list[Problem]]:
    """The schema a world document names with `schema:`, or the nearest one above it."""
    named = doc.value.get("schema")
    if isinstance(named, str):
        path = Path(doc.file).parent / named
        if not path.is_file():
            return None, [Problem(doc.locate(("schema",)), f"no world schema file '{named}'")]
        return load_world_schema(path)
    return schema_for(Path(doc.file))


def world_problems(doc: Document) -> list[Problem]:
    """A generic-valid world checked against its project's schema, located in the world file."""
    schema, problems = world_schema_of(doc)
    if schema is None:
        return problems
    return collection_problems(doc, schema, doc.value.get("collections") or {}, ("collections",))


def world_document_problems(doc: Document) -> list[Problem]:
    """Every check of a world file after reading it: the generic world format, the bound on
    records, then the project's world schema. Each schema check runs the jsonschema-rs
    pre-check first, and jsonschema only on the records it refused."""
    collections = doc.value.get("collections") if isinstance(doc.value, dict) else None
    generic_errors = _checked(
        lambda: validator_for("world.schema.json"),
        precheck_for("world.schema.json"),
        doc.value,
        ("collections",),
    )
    problems = located_problems(doc, generic_errors)
    if problems:
        return problems
    count = too_many_records(collections)
    if count:
        return [
            Problem(
                doc.locate(("collections",), key=True),
                f"the world holds {count:,} records; at most {MAX_WORLD_RECORDS:,} are allowed",
            )
        ]
    return world_problems(doc)


def too_many_records(collections: Any) -> int:
    """How many records a generic-valid world's collections hold, when that is more than
    MAX_WORLD_RECORDS; else 0."""
    count = sum(len(records) for records in collections.values()) if collections else 0
    return count if count > MAX_WORLD_RECORDS else 0


def collection_problems(
    doc: Document, schema: WorldSchema, collections: Any, base: tuple[str | int, ...]
) -> list[Problem]:
    """Where `collections` breaks `schema`, located at `base` in `doc`."""
    errors = _checked(lambda: schema.explaining, schema.precheck, collections, ())
    return located_problems(doc, errors, base=base)


def _checked(
    explaining: Callable[[], Any], precheck: Any | None, value: Any, at: tuple[str, ...]
) -> Iterator[Any]:
    """jsonschema's errors for `value`, with jsonschema run only where it is needed: nowhere
    when the pre-check calls the value valid, else on the records the pre-check refused (when
    every refusal is inside a record; `at` is where the collections are within `value`).
    `explaining` gives the jsonschema validator, built (and jsonschema imported) only then."""
    if trusted_valid(precheck, value):
        return iter(())
    if precheck is None:
        return iter(explaining().iter_errors(value))
    try:
        refused = [tuple(e.instance_path) for e in precheck.iter_errors(value)]
    except (ValueError, TypeError, OverflowError):
        return iter(explaining().iter_errors(value))
    return iter(explaining().iter_errors(_focused(value, at, refused)))


def _focused(value: Any, at: tuple[str, ...], refused: list[tuple[Any, ...]]) -> Any:
    """`value` with each collection cut down to its refused records, or `value` itself when a
    refusal is not inside one record (a collection's own shape, the file's top level).

    Records are checked one by one (the schemas a world is checked against constrain a record,
    or a record id, never two records together), so leaving out the records the pre-check
    accepted changes no error about the others, nor where it is."""
    depth = len(at)
    keep: dict[str, set[str]] = {}
    for path in refused:
        if len(path) < depth + 2 or path[:depth] != at:
            return value
        keep.setdefault(path[depth], set()).add(path[depth + 1])
    collections: Any = value
    for key in at:
        collections = collections[key]
    cut = {
        name: {key: records[key] for key in keep.get(name, ()) if key in records}
        for name, records in collections.items()
    }
    if not at:
        return cut
    return {**value, at[0]: cut}
