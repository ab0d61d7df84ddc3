"""JSON Schema validation with located, plain-word messages that never echo a value."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

from linkflow.errors import Problem
from linkflow.language.schema_files import load_schema, local_registry, schemas_dir
from linkflow.language.validators import (
    FAST_KEYWORDS,
    ONE_SCHEMA,
    PRECHECK_KEYWORDS,
    SCHEMA_LISTS,
    SCHEMA_MAPS,
    agreeing_validator,
    explaining_validator,
    meta_precheck,
    precheck_validator,
    trusted_valid,
)
from linkflow.language.yaml_loader import Document
from linkflow.source import DocPath

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


@cache
def validator_for(name: str) -> Any:
    """The explaining (jsonschema) validator of one of the project's schemas."""
    return explaining_validator(load_schema(name))


def fragment_validator(schema: Mapping[str, Any]) -> Any:
    """The explaining validator for a schema fragment written inside a definition (an event's
    payload), with the default size limits of `bounded`."""
    return explaining_validator(bounded(schema))


def fast_validator(schema: Mapping[str, Any]) -> Any | None:
    """A jsonschema-rs validator for a payload schema (with the default limits of `bounded`)
    whose answer is jsonschema's, or None when the schema uses a keyword outside
    FAST_KEYWORDS (linkflow.language.validators).

    It answers only "valid or not", about 100x faster than jsonschema on a small payload;
    jsonschema still says why a payload is refused, with its located, plain-word messages.
    """
    return agreeing_validator(bounded(schema))


#: Default sizes for payload values whose schema sets none: what an expression may be handed
#: decides what it costs. A schema's own limits win; values no schema describes are bounded by
#: the payload's total size and value count (linkflow.runtime.compiled).
DEFAULT_LIMITS = {"maxLength": 1000, "maxItems": 100, "maxProperties": 100}


def bounded(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a payload schema where every (sub)schema without its own size limits gets
    DEFAULT_LIMITS. Each limit applies only to its own type (maxLength to strings, ...), so
    adding them refuses nothing but oversized values."""
    out: dict[str, Any] = _bounded_node(schema)
    return out


def _bounded_node(node: Any) -> Any:
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = dict(node)
    for key, limit in DEFAULT_LIMITS.items():
        out.setdefault(key, limit)
    for key in ONE_SCHEMA:
        if key in out:
            out[key] = _bounded_node(out[key])
    for key in SCHEMA_MAPS:
        if isinstance(out.get(key), Mapping):
            out[key] = {name: _bounded_node(sub) for name, sub in out[key].items()}
    for key in SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_bounded_node(sub) for sub in out[key]]
    return out


def check_fragment_schema(schema: Mapping[str, Any]) -> list[tuple[DocPath, str]]:
    """Problems with a schema fragment itself, as (path inside the fragment, message)."""
    fragment = dict(schema)
    found: list[tuple[DocPath, str]] = []
    if not trusted_valid(meta_precheck(), fragment):  # jsonschema says where and why
        from jsonschema import Draft202012Validator  # noqa: PLC0415 - jsonschema: only a fragment the pre-check refused needs the explaining meta-schema validator

        meta = explaining_validator(Draft202012Validator.META_SCHEMA)
        found = [
            (tuple(leaf.absolute_path), describe(leaf))
            for error in meta.iter_errors(fragment)
            for leaf in _leaf_errors(error)
        ]
    return found + list(_regex_problems(schema, ()))


#: Keywords whose values are data, not schemas: a `pattern` inside them is not a regex.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})


def _regex_problems(node: Any, path: DocPath) -> Iterator[tuple[DocPath, str]]:
    """Every `pattern` and `patternProperties` key that is not a valid regular expression.

    The meta-schema only says "a string"; jsonschema compiles the pattern when a payload is
    checked, so a broken one would fail at run time instead of at validate.
    """
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _regex_problems(item, (*path, index))
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in _DATA_KEYWORDS:
            continue
        if key == "pattern" and isinstance(value, str):
            problem = _regex_problem(value)
            if problem:
                yield (*path, key), problem
            continue
        if key == "patternProperties" and isinstance(value, dict):
            for regex in value:
                problem = _regex_problem(regex)
                if problem:
                    yield (*path, key, regex), problem
        yield from _regex_problems(value, (*path, key))


def _regex_problem(regex: str) -> str:
    try:
        re.compile(regex)
    except re.error as err:
        return f"'{regex}' is not a valid regular expression ({err.msg})"
    except (OverflowError, RecursionError):
        return "the regular expression is too large"
    return ""


#: The word for a value's type, first match wins (a boolean is also an int).
_VALUE_WORDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),
    (type(None), "null"),
    ((int, float), "a number"),
    (str, "a string"),
    (list, "a list"),
    (dict, "a mapping"),
)


def type_word(value: Any) -> str:
    for kind, word in _VALUE_WORDS:
        if isinstance(value, kind):
            return word
    return type(value).__name__


def name_problem(text: str) -> str:
    """Why `text` is not a plain ASCII name, pointing at a look-alike or invisible character."""
    for char in text:
        if not char.isascii():
            code = f"U+{ord(char):04X}"
            title = unicodedata.name(char, "unnamed character")
            return (
                f"'{text.encode('ascii', 'backslashreplace').decode()}' contains the non-ASCII "
                f"character {code} ({title}); names use lowercase ASCII letters, digits and _"
            )
    return (
        f"'{one_line(text)}' is not a plain name: start with a lowercase letter, then use "
        "lowercase letters, digits and _"
    )


def one_line(text: str) -> str:
    """`text` as a message shows it: a line break, tab or other control character escaped
    (`\\n`), so a message stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def describe(error: Any, *, secret_safe: bool = False) -> str:
    """A plain-word message for one jsonschema error. With secret_safe, no value is echoed."""
    kind = error.validator
    describer = _DESCRIBERS.get(kind)
    if describer is not None:
        schema = error.schema if isinstance(error.schema, dict) else {}
        message = describer(error, schema, error.instance, secret_safe)
        if message is not None:
            return message
    if secret_safe:
        return f"is not valid ({kind})"
    return str(error.message)


def _describe_type(error: Any, schema: dict[str, Any], value: Any, secret_safe: bool) -> str:
    expected = error.validator_value
    wanted = (
        " or ".join(str(_TYPE_WORDS.get(t, t)) for t in expected)
        if isinstance(expected, list)
        else _TYPE_WORDS.get(expected, expected)
    )
    hint = ""
    if expected == "boolean" and isinstance(value, str) and not secret_safe:
        hint = " (write true or false; yes/no/on/off are strings here)"
    return f"expected {wanted}, got {type_word(value)}{hint}"


def _describe_required(error: Any, schema: dict[str, Any], value: Any, secret_safe: bool) -> str:
    found = re.match(r"^'(.+)' is a required property", str(error.message))
    return f"missing required key '{found.group(1)}'" if found else str(error.message)


def _describe_enum(error: Any, schema: dict[str, Any], value: Any, secret_safe: bool) -> str:
    options = ", ".join(str(v) for v in error.validator_value)
    got = "" if secret_safe else f" (got '{value}')"
    return f"must be one of: {options}{got}"


def _describe_const(error: Any, schema: dict[str, Any], value: Any, secret_safe: bool) -> str:
    return f"must be '{error.validator_value}'"


def _describe_pattern(error: Any, schema: dict[str, Any], value: Any, secret_safe: bool) -> str:
    if secret_safe:
        return "does not have the expected form"
    if schema.get("pattern") == "^[a-z][a-z0-9_]*$" or "[a-z]" in str(schema.get("pattern")):
        return name_problem(str(value))
    about = str(schema.get("description", "")).rstrip(".") or error.validator_value
    return f"'{one_line(str(value))}' does not have the expected form ({about})"


def _describe_size(error: Any, schema: dict[str, Any], value: Any, secret_safe: bool) -> str:
    kind = error.validator
    limit = error.validator_value
    noun = {"Length": "characters", "Items": "items", "Properties": "keys"}[kind[3:]]
    if kind == "minLength" and limit == 1:
        return "must not be empty"
    bound = "at least" if kind.startswith("min") else "at most"
    if limit == 1:
        noun = {"characters": "character", "items": "item", "keys": "key"}[noun]
    hint = ""
    if kind.endswith("Properties") and schema.get("properties"):
        hint = f" (one of: {', '.join(sorted(schema['properties']))})"
    return f"must hold {bound} {limit} {noun}{hint}"


_BOUND_WORDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "more than",
    "exclusiveMaximum": "less than",
}


def _describe_bound(error: Any, schema: dict[str, Any], value: Any, secret_safe: bool) -> str:
    return f"must be {_BOUND_WORDS[error.validator]} {error.validator_value}"


def _describe_one_of(error: Any, schema: dict[str, Any], value: Any, secret_safe: bool) -> str:
    keys = _required_only(error.validator_value)
    if keys is not None:
        return "needs exactly one of " + ", ".join(f"'{k}'" for k in keys)
    wanted = [
        _TYPE_WORDS.get(str(e.validator_value), str(e.validator_value))
        for e in error.context or ()
        if e.validator == "type" and not e.relative_path
    ]
    if wanted:
        return f"expected {' or '.join(dict.fromkeys(wanted))}, got {type_word(value)}"
    return "does not match any of the allowed forms"


def _describe_extra_keys(
    error: Any, schema: dict[str, Any], value: Any, secret_safe: bool
) -> str | None:
    if not isinstance(value, dict):
        return None  # the generic message
    known = schema.get("properties", {})
    extra = [k for k in value if k not in known]
    return "does not allow " + ", ".join(f"'{k}'" for k in extra)


def _describe_unique(error: Any, schema: dict[str, Any], value: Any, secret_safe: bool) -> str:
    return "items must not repeat"


def _describe_not(error: Any, schema: dict[str, Any], value: Any, secret_safe: bool) -> str:
    banned = error.validator_value
    if isinstance(banned, dict) and set(banned) == {"required"}:
        together = " and ".join(f"'{k}'" for k in banned["required"])
        return f"{together} cannot be used together"
    if banned in ({}, True):
        return "is not allowed here"
    return "this combination of keys is not allowed"


#: How each kind of jsonschema error is put in words (any other kind: its own message).
_DESCRIBERS: dict[str, Callable[[Any, dict[str, Any], Any, bool], str | None]] = {
    "type": _describe_type,
    "required": _describe_required,
    "enum": _describe_enum,
    "const": _describe_const,
    "pattern": _describe_pattern,
    **dict.fromkeys(
        ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"),
        _describe_size,
    ),
    **dict.fromkeys(_BOUND_WORDS, _describe_bound),
    "oneOf": _describe_one_of,
    "anyOf": _describe_one_of,
    "additionalProperties": _describe_extra_keys,
    "uniqueItems": _describe_unique,
    "not": _describe_not,
}


def _required_only(branches: Any) -> list[str] | None:
    """The keys of a oneOf whose branches each only require one key, as in key | keys."""
    if not isinstance(branches, list):
        return None
    keys: list[str] = []
    for branch in branches:
        if not (isinstance(branch, dict) and set(branch) == {"required"}):
            return None
        keys.extend(branch["required"])
    return keys


def _branch_rank(error: Any) -> tuple[int, int]:
    """How telling one oneOf/anyOf branch error is: deeper first, then a wrong value of the
    right type, then a near miss of a constant, and last a plain type mismatch."""
    depth = len(error.relative_path)
    if error.validator == "type":
        return depth, 0
    if error.validator in {"const", "enum"}:
        options = error.validator_value if error.validator == "enum" else [error.validator_value]
        same_type = any(type(option) is type(error.instance) for option in options)
        return depth, 1 if same_type else 0
    return depth, 2


def _leaf_errors(error: Any) -> Iterator[Any]:
    """For oneOf/anyOf, the most relevant branch error instead of 'is not valid under any'."""
    if error.validator in {"oneOf", "anyOf"}:
        if _required_only(error.validator_value) is not None or not error.context:
            yield error
            return
        best = max(error.context, key=_branch_rank)
        if _branch_rank(best) != (0, 0):
            yield from _leaf_errors(best)
            return
    yield error


def located_problems(
    doc: Document, errors: Iterator[Any], *, base: DocPath = (), secret_safe: bool = False
) -> list[Problem]:
    """Turn schema errors into problems located at the offending key or value."""
    problems: list[Problem] = []
    leaves = [leaf for raw in errors for leaf in _leaf_errors(raw)]
    wrong_type = {(*base, *e.absolute_path) for e in leaves if e.validator == "type"}
    for error in leaves:
        path: DocPath = (*base, *error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(error.schema.get("properties", {}))
            for key in error.instance:
                if key in allowed:
                    continue
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                known = f"; allowed keys: {', '.join(allowed)}" if allowed and not hint else ""
                problems.append(
                    Problem(doc.locate((*path, key), key=True), f"unknown key '{key}'{hint}{known}")
                )
            continue
        if error.validator == "propertyNames" or (
            error.absolute_schema_path and "propertyNames" in error.absolute_schema_path
        ):
            key = error.instance
            parent = path
            message = describe(error)
            problems.append(Problem(doc.locate((*parent, key), key=True), message))
            continue
        if path in wrong_type and error.validator != "type":
            continue  # the type is wrong: what else is wrong with the value adds nothing
        problems.append(Problem(doc.locate(path), describe(error, secret_safe=secret_safe)))
    return sorted(problems, key=lambda p: (p.location, p.message))


@cache
def precheck_for(name: str) -> Any | None:
    """The pre-check validator of one of the project's schemas (None when it has none)."""
    return precheck_validator(load_schema(name))


def validate_document(doc: Document, schema_name: str) -> list[Problem]:
    if trusted_valid(precheck_for(schema_name), doc.value):
        return []
    validator = validator_for(schema_name)
    return located_problems(doc, validator.iter_errors(doc.value))


#: The most telling error of each oneOf/anyOf (linkflow.language.pruning removes its part).
leaf_errors = _leaf_errors

#: Re-exported for the modules that import them from here (the event path among them).
__all__ = [
    "FAST_KEYWORDS",
    "PRECHECK_KEYWORDS",
    "bounded",
    "check_fragment_schema",
    "describe",
    "fast_validator",
    "fragment_validator",
    "leaf_errors",
    "load_schema",
    "local_registry",
    "located_problems",
    "precheck_for",
    "precheck_validator",
    "schemas_dir",
    "trusted_valid",
    "validate_document",
    "validator_for",
]
