"""Typed data fields: each field of `data:` has a JSON Schema, declared or read off its default.

`field: value` declares a field whose type is that of its default (`""` a string, `[]` a list,
`0` a whole number, `null` any value); `field: {type: ..., default: ...}` declares the type
(any JSON Schema keywords) and the default. Initial data (`--data`, a scenario's `data:`) and
what actions write to a field are checked against it, so a wrong type is caught where it enters,
not later inside an expression.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from linkflow.language.schema import (
    DEFAULT_LIMITS,
    check_fragment_schema,
    describe,
    fast_validator,
    fragment_validator,
)
from linkflow.language.yaml_loader import MAX_SAFE_INTEGER
from linkflow.source import DocPath

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


def value_problem(schema: Mapping[str, Any], value: Any, validator: Any = None) -> str:
    """Why `value` does not fit `schema`, in words, or ''. `validator`: the schema's
    `fragment_validator`, when the caller keeps one."""
    errors = list((validator or fragment_validator(schema)).iter_errors(value))
    if not errors:
        return ""
    first = errors[0]
    where = ".".join(str(p) for p in first.absolute_path)
    return (f"at '{where}' " if where else "") + describe(first)


class FieldType:
    """A data field's type, compiled once for the event path, where actions write fields.

    jsonschema-rs answers "fits?" (a fraction of a microsecond against jsonschema's ten or
    more) for plain JSON values, where it checks as jsonschema does; jsonschema decides every
    other value and says why a value does not fit.
    """

    __slots__ = ("_fast", "_fits", "_slow", "schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self._fast = fast_validator(schema)
        self._slow: Any = None
        self._fits = _fits_by_type(schema)

    def problem(self, value: Any) -> str:
        """Why `value` does not fit, in words, or ''; the same verdict as `value_problem`."""
        fits = self._fits
        if fits is not None and type(value) in fits:  # a type-only schema (the inferred kind)
            limit = fits[type(value)]
            if limit is None or len(value) <= limit:
                return ""
        if self._fast is not None and _plain(value):
            try:
                if self._fast.is_valid(value):
                    return ""
            except (ValueError, OverflowError):  # text Rust cannot hold: jsonschema decides
                pass
        if self._slow is None:
            self._slow = fragment_validator(self.schema)
        return value_problem(self.schema, value, self._slow)


#: For a schema that says only `type` (what a data field's default infers): the Python types
#: that fit it, each with the size limit `bounded` gives it (None: no size). Exact types only
#: (a subclass, an enum member, goes the general way), and a value these call fitting is one
#: jsonschema accepts: the limits apply to their own type only.
_TYPE_FITS: dict[str, dict[type, int | None]] = {
    "string": {str: DEFAULT_LIMITS["maxLength"]},
    "array": {list: DEFAULT_LIMITS["maxItems"]},
    "object": {dict: DEFAULT_LIMITS["maxProperties"]},
    "boolean": {bool: None},
    "null": {type(None): None},
}


def _fits_by_type(schema: Mapping[str, Any]) -> dict[type, int | None] | None:
    """The types that fit a schema saying only `type` (one of _TYPE_FITS), else None."""
    if len(schema) != 1 or not isinstance(schema.get("type"), str):
        return None
    return _TYPE_FITS.get(schema["type"])


_SCALARS = (str, bool, type(None))


def _plain(value: Any) -> bool:
    """Only dicts with text keys, lists, text, booleans, null and numbers jsonschema-rs and
    jsonschema compare alike (finite, integers within the safe range): jsonschema-rs takes a
    tuple or an enum member for JSON, and rounds large integers to floats."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind in _SCALARS:
            continue
        if kind is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            return False
        if kind is float:
            if math.isfinite(item):
                continue
            return False
        if kind is list:
            pending.extend(item)
            continue
        if kind is dict:
            if not all(type(key) is str for key in item):
                return False
            pending.extend(item.values())
            continue
        return False
    return True
