"""Typed data fields: each field of `data:` has a JSON Schema, declared or read off its default.

`field: value` declares a field whose type is that of its default (`""` a string, `[]` a list,
`0` a whole number, `null` any value); `field: {type: ..., default: ...}` declares the type
(any JSON Schema keywords) and the default. Initial data (`--data`, a scenario's `data:`) and
what actions write to a field are checked against it, so a wrong type is caught where it enters,
not later inside an expression.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.language.schema import check_fragment_schema, describe, fragment_validator
from engine.source import DocPath

_INFERRED = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def is_declaration(value: Any) -> bool:
    """The long form: a mapping with `default` and `type` (a default may itself be a mapping)."""
    return isinstance(value, dict) and "default" in value and "type" in value


def field_type(value: Any) -> dict[str, Any]:
    """The JSON Schema of a field declared as `value` (long or short form)."""
    if is_declaration(value):
        return {k: v for k, v in value.items() if k != "default"}
    for kind, name in _INFERRED:
        if isinstance(value, kind):
            return {"type": name}
    return {}


def default_of(value: Any) -> Any:
    return value["default"] if is_declaration(value) else value


def declaration_problems(name: str, value: Any) -> list[tuple[DocPath, str]]:
    """Problems with one field's declaration: a broken schema, or a default it refuses."""
    if not is_declaration(value):
        return []
    schema = field_type(value)
    found = [
        (tuple(p), f"type of data field '{name}': {m}") for p, m in check_fragment_schema(schema)
    ]
    if not found:
        why = value_problem(schema, value["default"])
        if why:
            found.append((("default",), f"the default of data field '{name}' {why}"))
    return found


def value_problem(schema: Mapping[str, Any], value: Any) -> str:
    """Why `value` does not fit `schema`, in words, or ''."""
    errors = list(fragment_validator(schema).iter_errors(value))
    if not errors:
        return ""
    first = errors[0]
    where = ".".join(str(p) for p in first.absolute_path)
    return (f"at '{where}' " if where else "") + describe(first)
