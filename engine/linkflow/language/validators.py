"""The one place JSON Schema validators are built.

Two engines check the same schemas, and the rule between them is: jsonschema-rs decides where
it agrees with jsonschema, and jsonschema explains. jsonschema-rs (Rust) answers only "valid?",
about 100x faster; jsonschema (Python) gives the located errors the plain-word messages are
made from. A caller asks jsonschema-rs first when the schema keeps to keywords on which the two
agree (FAST_KEYWORDS: both ways; PRECHECK_KEYWORDS: jsonschema-rs is never the more lenient),
and asks jsonschema only when jsonschema-rs says no or cannot decide.

Every validator of either kind is built here, with the same options (Draft 2020-12, formats as
annotations, no network), and cached by its schema's JSON text: a schema written the same way
in two places is compiled once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from linkflow.language.schema_files import local_registry

#: The keywords jsonschema-rs checks exactly as jsonschema does (a property test holds them to
#: it: tests/test_fast_validator.py). Left out on purpose: `pattern` and `patternProperties`
#: (Rust's regex and Python's re differ: `$` matches before a trailing newline only in re),
#: `multipleOf` (0.3 is a multiple of 0.1 only for jsonschema-rs), `format`, `uniqueItems`,
#: `$ref` and every keyword not named here: a schema that uses one stays on jsonschema alone.
FAST_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "prefixItems",
        "enum",
        "const",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        # annotations: checked by neither
        "description",
        "title",
        "default",
        "examples",
        "secret",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)

#: Keywords for which jsonschema-rs never accepts what jsonschema refuses, though it may refuse
#: more: enough for a pre-check whose "valid" is trusted and whose "invalid" sends the value to
#: jsonschema for the located, plain-word verdict. `uniqueItems` agrees both ways (1 and 1.0 are
#: the same item, true and 1 are not: checked); local `$ref`s resolve alike; a `pattern` only in
#: the plain subset of _PLAIN_PATTERN, where the one difference was that Python's `$` also
#: matches before a final newline (the explaining validator now reads `$` as JSON Schema does:
#: `ecma_pattern`; jsonschema-rs is never the more lenient one).
PRECHECK_KEYWORDS = FAST_KEYWORDS | {
    "$ref",
    "$defs",
    "$schema",
    "$id",
    "propertyNames",
    "uniqueItems",
    "pattern",
    # a key's presence requiring other keys or a schema: checked alike (the property test
    # tests/test_fast_validator.py holds jsonschema-rs to never accepting what jsonschema refuses)
    "dependentRequired",
    "dependentSchemas",
}

#: Literal characters, ASCII classes and ranges, anchors, groups (non-capturing `(?:` too),
#: alternation, quantifiers and the escape \d (decimal digits in both). No other `(?` (flags,
#: look-arounds, named groups), no back-references,
#: no \s or \w (their Unicode sets differ: jsonschema-rs's \s takes U+FEFF, Python's not).
_PLAIN_PATTERN = re.compile(
    r"(?:[A-Za-z0-9 _\-.,:;/@#%&=!'\"<>~^$*+?()\[\]{}|]|\\[.\-\\/\[\](){}*+?^$|d])*"
)

#: Keywords whose value is one schema, or a mapping or list of schemas.
ONE_SCHEMA = ("items", "additionalProperties", "contains", "not", "if", "then", "else")
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SCHEMA_LISTS = ("prefixItems", "allOf", "anyOf", "oneOf")

#: Distinct schemas kept compiled per kind: payload schemas of every loaded definition, the
#: project's schemas, world schemas and the service's bodies fit with room to spare.
_CACHED = 512


def _cached(build: Callable[[Any], Any]) -> Callable[[Mapping[str, Any] | bool], Any]:
    """`build`, cached by the schema's JSON text and given its own copy of the schema (a
    caller that changes its dict later cannot change a shared validator); a schema that is
    not JSON text (a value YAML allows and JSON does not) is built from itself, uncached."""
    from_text = lru_cache(maxsize=_CACHED)(lambda text: build(json.loads(text)))

    def get(schema: Mapping[str, Any] | bool) -> Any:
        try:
            text = json.dumps(schema, allow_nan=False)
        except (TypeError, ValueError):
            return build(schema)
        return from_text(text)

    return get


def _build_rust(schema: Any) -> Any:
    import jsonschema_rs  # noqa: PLC0415 - jsonschema_rs: only building a validator needs it, not this module's importers

    try:
        return jsonschema_rs.Draft202012Validator(schema, validate_formats=False, offline=True)
    except (jsonschema_rs.ValidationError, ValueError, TypeError):  # not a schema it takes
        return None


@lru_cache(maxsize=_CACHED)
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """`pattern` compiled with JSON Schema's (ECMA 262's) `$`: the end of the text only.
    Python's `$` also matches before a final newline, so `^[a-z]+$` took a name ending in a
    line break (a service's, an environment variable's, a header's). Each `$` outside a
    character class becomes end-of-text; a pattern with inline flags, look-arounds or named
    groups (any `(?` but a plain `(?:` group) is left as it is."""
    if re.search(r"\(\?(?!:)", pattern):
        return re.compile(pattern)
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = "\\Z"
        out.append(char)
        index += 1
    return re.compile("".join(out))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    """jsonschema's `pattern` keyword with JSON Schema's `$` (`ecma_pattern`)."""
    from jsonschema import ValidationError  # noqa: PLC0415 - as _build_explaining

    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=1)
def _explaining_class() -> Any:
    from jsonschema import Draft202012Validator, validators  # noqa: PLC0415 - jsonschema: only the explaining validator (messages on failure) needs it

    return validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]


def _build_explaining(schema: Any) -> Any:
    return _explaining_class()(schema, registry=local_registry())


_rust = _cached(_build_rust)
_explaining = _cached(_build_explaining)


def rust_validator(schema: Mapping[str, Any] | bool) -> Any | None:
    """A compiled jsonschema-rs validator for `schema`, or None when jsonschema-rs cannot
    compile it (then jsonschema alone decides, and says why the schema is wrong).

    It answers only "valid?": trust its answer as the module's rule says."""
    return _rust(schema)


def explaining_validator(schema: Mapping[str, Any] | bool) -> Any:
    """A jsonschema validator for `schema`, whose errors locate and explain a refusal; every
    `$ref` to a project schema resolves locally, never over the network."""
    return _explaining(schema)


#: Draft 2020-12's meta-schema, by the address jsonschema-rs resolves from its own copy
#: (offline): a schema fragment is data to it, whatever `$schema` the fragment names.
META_SCHEMA_REF = {"$ref": "https://json-schema.org/draft/2020-12/schema"}


def meta_precheck() -> Any | None:
    """A jsonschema-rs validator of schemas against Draft 2020-12's meta-schema, as a
    pre-check: its "valid" is trusted (it is never the more lenient: tests/test_fast_validator.py),
    and jsonschema's meta-schema validator says where and why only when it says no."""
    return rust_validator(META_SCHEMA_REF)


def keeps_to(node: Any, keywords: frozenset[str]) -> bool:
    """Whether a schema uses only `keywords` (with plain patterns and local `$ref`s), all the
    way down: where jsonschema-rs may decide."""
    if isinstance(node, bool):
        return True
    if not isinstance(node, Mapping) or not keywords.issuperset(node):
        return False
    if "pattern" in node and not _plain_pattern(str(node["pattern"])):
        return False
    if "$ref" in node and not str(node["$ref"]).startswith("#/$defs/"):
        return False
    return all(keeps_to(sub, keywords) for sub in _subschemas(node))


def _subschemas(node: Mapping[str, Any]) -> Iterator[Any]:
    """The schemas directly inside `node`, in keyword order: single, then mapped, then listed."""
    for key in (*ONE_SCHEMA, "propertyNames"):
        if key in node:
            yield node[key]
    for key in SCHEMA_MAPS:
        if key in node:
            yield from node[key].values()
    for key in SCHEMA_LISTS:
        if key in node:
            yield from node[key]


def _plain_pattern(pattern: str) -> bool:
    plain = pattern.replace("(?:", "(")  # a non-capturing group groups alike in both
    return "(?" not in plain and _PLAIN_PATTERN.fullmatch(plain) is not None


def agreeing_validator(schema: Mapping[str, Any]) -> Any | None:
    """A jsonschema-rs validator whose answer is jsonschema's, both ways, for `schema`; None
    when the schema uses a keyword outside FAST_KEYWORDS."""
    return rust_validator(schema) if keeps_to(schema, FAST_KEYWORDS) else None


def precheck_validator(schema: Mapping[str, Any]) -> Any | None:
    """A jsonschema-rs validator whose "valid" can be trusted for `schema` as written, or None
    when the schema uses a keyword outside PRECHECK_KEYWORDS.

    Checking 100,000 world records takes jsonschema about 20 s and jsonschema-rs about 0.1 s:
    a value it calls valid skips jsonschema entirely; otherwise jsonschema runs (on the parts
    jsonschema-rs refused, where the caller can narrow it) to say where and why.
    """
    return rust_validator(schema) if keeps_to(schema, PRECHECK_KEYWORDS) else None


def trusted_valid(validator: Any | None, value: Any) -> bool:
    """Whether a jsonschema-rs validator calls `value` valid; False when there is none, or when
    it cannot take the value (nesting past its own limit, a number it cannot hold, a lone
    surrogate): then jsonschema decides."""
    if validator is None:
        return False
    try:
        return bool(validator.is_valid(value))
    except (ValueError, TypeError, OverflowError):
        return False


__all__ = [
    "FAST_KEYWORDS",
    "PRECHECK_KEYWORDS",
    "agreeing_validator",
    "explaining_validator",
    "keeps_to",
    "meta_precheck",
    "precheck_validator",
    "rust_validator",
    "trusted_valid",
]
