"""The event path's payload check (jsonschema-rs where it checks as jsonschema does) refuses
exactly what jsonschema refuses: on generated schemas and payloads, and through the engine with
the strict-JSON and size limits in front of it."""

from __future__ import annotations

import math
from enum import Enum
from pathlib import Path
from typing import Any
from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from linkflow.language.data_types import FieldType, value_problem
from linkflow.language.loader import load_workflow
from linkflow.language.schema import fast_validator, fragment_validator
from linkflow.language.validators import (
    FAST_KEYWORDS,
    explaining_validator,
    meta_precheck,
    precheck_validator,
    trusted_valid,
)
from linkflow.runtime import json_values as json_values_module
from linkflow.runtime.compiled import MAX_PAYLOAD_BYTES, MAX_PAYLOAD_VALUES
from linkflow.runtime.engine import Engine
from linkflow.runtime.json_values import json_problem

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "tests" / "cases" / "runtime" / "shop.yaml"

# Text with what differs between engines: combining marks, astral characters, newlines.
text = st.text(
    alphabet=st.sampled_from(["a", "B", "0", "_", "-", "\n", "\u00e9", "\u0301", "\U0001f600"]),
    max_size=6,
)
numbers = st.one_of(
    st.integers(-5, 5),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, -1.5, 0.1, 0.3, 1e15, 2**53]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from("abcd"), inner, max_size=4)
    ),
    max_leaves=12,
)

_TYPES = ["object", "array", "string", "integer", "number", "boolean", "null"]


def _schema(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A schema node made only of FAST_KEYWORDS, nesting `children`."""
    sizes = st.integers(0, 3)
    bounds = st.one_of(st.integers(-2, 3), st.sampled_from([0.5, 1.0, 2.5]))
    keyword: dict[str, st.SearchStrategy[Any]] = {
        "type": st.one_of(
            st.sampled_from(_TYPES), st.lists(st.sampled_from(_TYPES), min_size=1, unique=True)
        ),
        "properties": st.dictionaries(st.sampled_from("abcd"), children, max_size=3),
        "required": st.lists(st.sampled_from("abcd"), unique=True, max_size=3),
        "additionalProperties": st.one_of(st.booleans(), children),
        "items": st.one_of(st.booleans(), children),
        "prefixItems": st.lists(children, min_size=1, max_size=2),
        "enum": st.lists(scalars, min_size=1, max_size=3),
        "const": json_values,
        "minLength": sizes,
        "maxLength": sizes,
        "minItems": sizes,
        "maxItems": sizes,
        "minProperties": sizes,
        "maxProperties": sizes,
        "minimum": bounds,
        "maximum": bounds,
        "exclusiveMinimum": bounds,
        "exclusiveMaximum": bounds,
        "allOf": st.lists(children, min_size=1, max_size=2),
        "anyOf": st.lists(children, min_size=1, max_size=2),
        "oneOf": st.lists(children, min_size=1, max_size=2),
        "not": children,
        "secret": st.just(True),
        "description": text,
    }
    assert FAST_KEYWORDS.issuperset(keyword)
    return st.lists(st.sampled_from(sorted(keyword)), unique=True, max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({k: keyword[k] for k in keys})
    )


schemas: st.SearchStrategy[dict[str, Any]] = st.recursive(st.just({}), _schema, max_leaves=6)


@given(schemas, st.lists(json_values, min_size=1, max_size=8))
def test_jsonschema_rs_agrees_with_jsonschema(schema: dict[str, Any], values: list[Any]) -> None:
    fast = fast_validator(schema)
    assert fast is not None, schema
    slow = fragment_validator(schema)
    for value in values:
        assert fast.is_valid(value) == slow.is_valid(value), (schema, value)


def test_schemas_whose_keywords_differ_between_the_libraries_stay_on_jsonschema() -> None:
    # re's `$` matches before a trailing newline, Rust's does not: the explaining validator
    # reads `$` as JSON Schema does (validators.ecma_pattern), but other regex features still
    # differ, so a pattern stays on jsonschema; 0.3 % 0.1 is not 0 in Python.
    pattern = {"type": "string", "pattern": "^[a-z]+$"}
    assert not fragment_validator(pattern).is_valid("abc\n")
    assert fragment_validator(pattern).is_valid("abc")
    assert fast_validator(pattern) is None
    assert fast_validator({"multipleOf": 0.1}) is None
    assert fast_validator({"properties": {"a": {"format": "email"}}}) is None
    assert fast_validator({"items": {"uniqueItems": True}}) is None
    assert fast_validator({"anyOf": [{"$ref": "#/$defs/x"}], "$defs": {"x": {}}}) is None
    assert fast_validator({"type": ["string", "string"]}) is None  # not a schema: jsonschema
    assert fast_validator({"type": "object", "properties": {"a": {"type": "string"}}})


def _engines() -> tuple[Engine, Engine]:
    """The shop workflow twice: with the fast path, and with jsonschema alone."""
    workflow = load_workflow(SHOP)
    fast, slow = Engine(workflow), Engine(workflow)
    assert set(fast._fast) == {"add_item", "tag", "untag"}  # `pay` has a pattern: jsonschema
    slow._fast = {}
    return fast, slow


FAST, SLOW = _engines()

hostile = st.one_of(
    json_values,
    st.sampled_from(
        [
            math.nan,
            math.inf,
            -math.inf,
            2**60,
            "\ud800",
            {"x"},
            (1, 2),
            b"bytes",
            "x" * (MAX_PAYLOAD_BYTES + 1),
            ["v"] * MAX_PAYLOAD_VALUES,
        ]
    ),
)
payloads = st.one_of(
    st.dictionaries(st.sampled_from(["sku", "tags", "card", "x"]), hostile, max_size=3),
    st.fixed_dictionaries({"tags": st.lists(st.one_of(text, hostile), max_size=4)}),
    st.fixed_dictionaries({"sku": st.one_of(text, hostile)}),
    hostile,
)


@given(st.sampled_from(["add_item", "tag", "untag", "pay"]), payloads)
def test_the_engine_refuses_the_same_payloads_with_and_without_the_fast_path(
    event: str, payload: Any
) -> None:
    verdict = FAST.check_payload(event, payload)
    assert verdict == SLOW.check_payload(event, payload)
    if isinstance(payload, dict) and any(
        isinstance(v, float) and not math.isfinite(v) for v in payload.values()
    ):
        assert verdict.startswith("the payload "), verdict  # refused: not JSON, or too large


def test_limits_and_non_json_refused_before_either_validator() -> None:
    for engine in (FAST, SLOW):
        assert "not finite" in engine.check_payload("tag", {"tags": ["a"], "x": math.nan})
        assert "larger than" in engine.check_payload("tag", {"tags": ["x" * MAX_PAYLOAD_BYTES]})
        assert "more than" in engine.check_payload("tag", {"tags": ["v"] * MAX_PAYLOAD_VALUES})
        assert "not JSON data" in engine.check_payload("tag", {"tags": {"a"}})
        # a lone surrogate is text Rust cannot hold: jsonschema decides, and takes it
        assert engine.check_payload("tag", {"tags": ["\ud800"]}) == ""


class _Word(Enum):
    A = "a"


#: Values an action may write to a data field that jsonschema-rs reads otherwise than
#: jsonschema: tuples and enum members (JSON for Rust), integers past 2**53 (rounded), NaN.
odd_values = st.one_of(
    json_values,
    st.sampled_from(
        [(1, 2), ["a", (1,)], {"a": (1,)}, _Word.A, 2**53 + 1, -(2**60), math.nan, math.inf]
    ),
    st.sampled_from(["\ud800", {1: "a"}, b"x", {"a"}]),
)


@given(schemas, st.lists(odd_values, min_size=1, max_size=8))
def test_a_data_field_type_gives_the_verdict_and_words_of_jsonschema(
    schema: dict[str, Any], values: list[Any]
) -> None:
    compiled = FieldType(schema)
    for value in values:
        assert compiled.problem(value) == value_problem(schema, value), (schema, value)


def test_a_data_field_type_refuses_what_rust_would_take() -> None:
    assert FieldType({"type": "array"}).problem((1, 2)) != ""
    assert FieldType({"type": "string"}).problem(_Word.A) != ""
    assert FieldType({"type": "integer", "maximum": 2**53}).problem(2**53 + 1) != ""
    assert FieldType({"type": "string"}).problem("ok") == ""


flat_payloads = st.dictionaries(
    st.one_of(text, st.integers(0, 3)),
    st.one_of(
        scalars,
        st.sampled_from([2**53, -(2**53), math.nan, math.inf, (1,), ["a"], {"a": 1}]),
        st.text(max_size=40),
    ),
    max_size=6,
)


@given(flat_payloads, st.integers(1, 8), st.integers(8, 120))
def test_the_one_pass_check_of_a_flat_payload_agrees_with_the_walk(
    payload: dict[Any, Any], max_values: int, max_chars: int
) -> None:
    fast = json_problem(payload, max_values=max_values, max_chars=max_chars)
    with patch.object(json_values_module, "_flat_fits", lambda *_: False):
        walked = json_problem(payload, max_values=max_values, max_chars=max_chars)
    assert fast == walked, payload


# Schema-like documents, valid and not: what a payload or record schema fragment may hold.
_META_KEYS = [
    "type",
    "properties",
    "required",
    "items",
    "minLength",
    "maxLength",
    "enum",
    "const",
    "pattern",
    "$ref",
    "$defs",
    "$anchor",
    "$schema",
    "dependentRequired",
    "additionalProperties",
    "anyOf",
    "minimum",
    "format",
    "$id",
    "exclusiveMinimum",
    "uniqueItems",
    "prefixItems",
]
_META_VALUES = st.one_of(
    scalars,
    st.sampled_from(["string", "object", "strin", "#/$defs/a", "a\n", "^a(?:b)$", "x y", 1.0]),
    st.lists(st.sampled_from(["a", "b", "string", 1]), max_size=3),
)
fragments = st.recursive(
    _META_VALUES,
    lambda inner: st.one_of(
        st.dictionaries(st.sampled_from(_META_KEYS), inner, max_size=4),
        st.lists(inner, max_size=3),
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(_META_KEYS), fragments, max_size=4))
def test_the_meta_schema_pre_check_never_accepts_what_jsonschema_refuses(
    fragment: dict[str, Any],
) -> None:
    if trusted_valid(meta_precheck(), fragment):
        meta = explaining_validator(Draft202012Validator.META_SCHEMA)
        assert not list(meta.iter_errors(fragment)), fragment


_PRECHECKED = st.fixed_dictionaries(
    {
        "type": st.just("object"),
        "dependentRequired": st.dictionaries(
            st.sampled_from("abc"), st.lists(st.sampled_from("abc"), unique=True), max_size=2
        ),
        "properties": st.fixed_dictionaries(
            {"d": st.fixed_dictionaries({"pattern": st.sampled_from(["^(?:ab)+$", "^x(?:y|z)?$"])})}
        ),
    }
)


@given(
    _PRECHECKED,
    st.dictionaries(
        st.sampled_from("abcd"), st.sampled_from(["ab", "xz", "ab\n", "q", 1]), max_size=4
    ),
)
def test_the_pre_check_of_dependent_keys_and_non_capturing_groups_is_never_more_lenient(
    schema: dict[str, Any], value: dict[str, Any]
) -> None:
    precheck = precheck_validator(schema)
    assert precheck is not None
    if trusted_valid(precheck, value):
        assert explaining_validator(schema).is_valid(value), (schema, value)


@given(
    st.sampled_from(["string", "array", "object", "boolean", "null", "integer", "number"]),
    st.lists(
        st.one_of(
            odd_values,
            st.text(max_size=3),
            st.lists(scalars, max_size=3),
            st.just("x" * 1001),
            st.just(list(range(101))),
            st.just({str(n): n for n in range(101)}),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_a_type_only_data_field_gives_the_verdict_and_words_of_jsonschema(
    kind: str, values: list[Any]
) -> None:
    compiled = FieldType({"type": kind})
    for value in values:
        assert compiled.problem(value) == value_problem({"type": kind}, value), (kind, value)
