"""Where the project's JSON schemas are, and reading them: the bottom of the schema modules,
so the validator factory and the located validation both use it and neither imports the other.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any


def schema_dirs() -> list[Path]:
    """Where the schemas may be, in order: an override, then the package's own copy.

    The package data folder `linkflow/schemas` is a link to the checkout's top-level `schemas/`
    in a source tree and an editable install, and a copy in a wheel, so one lookup through
    importlib.resources serves every kind of install (`--user` and `--target` included)."""
    from importlib.resources import files  # noqa: PLC0415 - importlib.resources (~80 ms): only locating the schema folder needs it

    found = [Path(os.environ["LINKFLOW_SCHEMAS"])] if os.environ.get("LINKFLOW_SCHEMAS") else []
    found.append(Path(str(files("linkflow") / "schemas")))
    return found


@cache
def schemas_dir() -> Path:
    """The first folder that holds the workflow schema."""
    candidates = schema_dirs()
    for folder in candidates:
        if (folder / "workflow.schema.json").is_file():
            return folder
    return candidates[-1]


@cache
def load_schema(name: str) -> dict[str, Any]:
    with (schemas_dir() / name).open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@cache
def local_registry() -> Any:
    """Every local schema under its $id, so a $ref never reaches for the network."""
    from referencing import Registry, Resource  # noqa: PLC0415 - referencing: only the explaining (jsonschema) validator needs the registry

    resources = []
    for path in sorted(schemas_dir().glob("*.schema.json")):
        schema = load_schema(path.name)
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)
