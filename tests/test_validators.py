"""The one validator factory (linkflow.language.validators): both engines built with the same
options, each schema compiled once, and jsonschema-rs trusted only where it agrees."""

from __future__ import annotations

import math

from linkflow.language.schema import fast_validator, validator_for
from linkflow.language.schema_files import load_schema
from linkflow.language.validators import (
    agreeing_validator,
    explaining_validator,
    precheck_validator,
    rust_validator,
    trusted_valid,
)


def test_a_schema_written_twice_is_compiled_once() -> None:
    first = {"type": "object", "properties": {"a": {"type": "integer"}}}
    again = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert rust_validator(first) is rust_validator(again)
    assert explaining_validator(first) is explaining_validator(again)
    assert validator_for("world.schema.json") is explaining_validator(
        load_schema("world.schema.json")
    )


def test_a_shared_validator_does_not_follow_the_callers_dict() -> None:
    schema = {"type": "object", "required": ["a"]}
    validator = explaining_validator(schema)
    schema["required"] = ["b"]
    assert not validator.is_valid({"b": 1})
    assert validator.is_valid({"a": 1})


def test_formats_are_annotations_and_refs_stay_local() -> None:
    email = {"type": "string", "format": "email"}
    fast = rust_validator(email)
    assert fast is not None
    assert fast.is_valid("not an email")
    assert explaining_validator(email).is_valid("not an email")
    world = {"$ref": load_schema("world.schema.json")["$id"]}
    assert not explaining_validator(world).is_valid({"world": 3})


def test_not_a_schema_leaves_jsonschema_to_say_why() -> None:
    assert rust_validator({"type": ["string", "string"]}) is None
    assert rust_validator({"type": "nonsense"}) is None
    assert fast_validator({"type": ["string", "string"]}) is None


def test_a_schema_that_is_not_json_text_is_built_uncached() -> None:
    odd = {"maximum": math.inf}
    assert explaining_validator(odd).is_valid(10**6)


def test_jsonschema_rs_decides_only_where_it_agrees() -> None:
    assert agreeing_validator({"type": "string", "maxLength": 3}) is not None
    assert agreeing_validator({"pattern": "^a$"}) is None  # `$` differs between the engines
    assert precheck_validator({"pattern": "^a$"}) is not None  # Rust is the stricter one
    assert precheck_validator({"pattern": "(?i)a"}) is None
    assert precheck_validator({"format": "email"}) is None
    assert not trusted_valid(None, {})
    # A value jsonschema-rs cannot take is not "valid": jsonschema decides it.
    assert not trusted_valid(rust_validator({"type": "array"}), {1, 2})
