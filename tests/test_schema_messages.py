"""Schema problems read as plain words, stand where the mistake is, and never echo secrets."""

from __future__ import annotations

from typing import Any

import pytest

from linkflow.language.schema import describe, fragment_validator, validate_document
from linkflow.language.yaml_loader import parse_text

BASE = """\
workflow: tiny
initial: start
states:
  start: {}
  done: {final: completed}
events:
  go: {}
transitions:
  - event: go
    from: start
    to: done
"""


def problems(text: str, schema: str = "workflow.schema.json") -> list[str]:
    doc, parse_problems = parse_text(text, "f.yaml")
    assert parse_problems == []
    assert doc is not None
    return [str(p) for p in validate_document(doc, schema)]


def test_the_base_document_is_schema_valid() -> None:
    assert problems(BASE) == []


def test_unknown_key_suggests_the_close_one_at_the_key() -> None:
    assert problems(BASE + "    gaurds: []\n") == [
        "f.yaml:12:5: unknown key 'gaurds' (did you mean 'guards'?)"
    ]


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    assert problems(BASE + "    colour: red\n") == [
        "f.yaml:12:5: unknown key 'colour'; allowed keys: actions, assumption, "
        "check_all_guards, description, event, from, guards, notify, rule, step, to"
    ]


def test_unknown_top_level_key() -> None:
    assert problems(BASE + "transition: []\n") == [
        "f.yaml:12:1: unknown key 'transition' (did you mean 'transitions'?)"
    ]


def test_missing_required_key() -> None:
    assert problems(BASE.replace("initial: start\n", "")) == [
        "f.yaml:1:1: missing required key 'initial'"
    ]


def test_final_yes_is_a_string_not_an_outcome() -> None:
    assert problems(BASE.replace("{final: completed}", "{final: yes}")) == [
        "f.yaml:5:17: must be one of: completed, cancelled, refused, declined, failed, "
        "timed_out, done (got 'yes')"
    ]


def test_final_true_gets_one_message_not_two() -> None:
    assert problems(BASE.replace("{final: completed}", "{final: true}")) == [
        "f.yaml:5:17: expected a string, got a boolean"
    ]


def test_yes_where_a_boolean_is_meant_gets_a_hint() -> None:
    text = BASE.replace("transitions:", "data: {tags: []}\ntransitions:") + (
        "    actions:\n      - add: {path: data.tags, value: \"['a']\", each: on}\n"
    )
    assert problems(text) == [
        "f.yaml:14:54: expected true or false, got a string "
        "(write true or false; yes/no/on/off are strings here)"
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "Start",
            "'Start' is not a plain name: start with a lowercase letter, then use lowercase "
            "letters, digits and _",
        ),
        (
            "st\u0430rt",
            "'st\\u0430rt' contains the non-ASCII character U+0430 (CYRILLIC SMALL LETTER A); "
            "names use lowercase ASCII letters, digits and _",
        ),
        (
            "\u0455tart",
            "'\\u0455tart' contains the non-ASCII character U+0455 "
            "(CYRILLIC SMALL LETTER DZE); names use lowercase ASCII letters, digits and _",
        ),
    ],
)
def test_names_that_are_not_plain_ascii(name: str, message: str) -> None:
    text = BASE.replace("  start: {}", f"  {name}: {{}}")
    assert problems(text) == [f"f.yaml:4:3: {message}"]


def test_a_look_alike_in_from_explains_the_character_not_the_star() -> None:
    assert problems(BASE.replace("from: start", "from: st\u0430rt")) == [
        "f.yaml:10:11: 'st\\u0430rt' contains the non-ASCII character U+0430 "
        "(CYRILLIC SMALL LETTER A); names use lowercase ASCII letters, digits and _"
    ]


def test_from_of_the_wrong_type_names_both_allowed_types() -> None:
    assert problems(BASE.replace("from: start", "from: 5")) == [
        "f.yaml:10:11: expected a string or a list, got a number"
    ]


def test_from_list_points_at_the_bad_item() -> None:
    assert problems(BASE.replace("from: start", "from: [start, 7]")) == [
        "f.yaml:10:19: expected a string, got a number"
    ]


def test_binding_needs_exactly_one_of_key_and_keys_without_echoing_it() -> None:
    text = BASE.replace(
        "states:",
        "bindings:\n  both: {from: d, key: data.x, keys: data.y}\n  neither: {from: d}\nstates:",
    )
    assert problems(text) == [
        "f.yaml:4:9: needs exactly one of 'key', 'keys'",
        "f.yaml:5:12: needs exactly one of 'key', 'keys'",
    ]


def test_an_action_takes_exactly_one_verb() -> None:
    text = BASE + (
        "    actions:\n"
        "      - {}\n"
        "      - set: {path: data.a, value: '1'}\n"
        "        add: {path: data.b, value: '1'}\n"
    )
    assert problems(text) == [
        "f.yaml:13:9: must hold at least 1 key (one of: add, append, remove, set)",
        "f.yaml:14:9: must hold at most 1 key (one of: add, append, remove, set)",
    ]


def test_final_and_waiting_together() -> None:
    text = BASE.replace("{final: completed}", "{final: completed, waiting: {for: x}}")
    assert problems(text) == ["f.yaml:5:9: 'final' and 'waiting' cannot be used together"]


def test_limits_in_words() -> None:
    text = BASE.replace(
        "  done: {final: completed}",
        "  done: {final: completed}\n  w: {waiting: {for: '', timeout: {seconds: 0, to: done}}}",
    ).replace("transitions:", "exclusive: [[a]]\ntransitions:")
    assert problems(text) == [
        "f.yaml:6:22: must not be empty",
        "f.yaml:6:45: must be more than 0",
        "f.yaml:9:13: must hold at least 2 items",
    ]


def test_rule_ids_explain_their_form() -> None:
    assert problems(BASE + "    rule: r1\n") == [
        "f.yaml:12:11: 'r1' does not have the expected form "
        "(The id of a domain rule, such as R19 or X1)"
    ]


def test_problems_are_sorted_by_position() -> None:
    text = BASE.replace("initial: start", "initial: [start]") + "    colour: red\n"
    found = problems(text.replace("workflow: tiny", "workflow: Tiny"))
    assert [p.split(": ", 1)[0] for p in found] == ["f.yaml:1:11", "f.yaml:2:10", "f.yaml:12:5"]


def test_world_files_have_their_own_schema() -> None:
    text = "world: demo\ncollections:\n  docs:\n    'bad key!': {}\n    ok: 5\n  Docs: {}\n"
    found = problems(text, "world.schema.json")
    assert len(found) == 3
    # Record ids allow capitals: the message must not claim they need a lowercase start.
    assert found[0].startswith("f.yaml:4:5: 'bad key!' does not have the expected form (")
    assert found[1:] == [
        "f.yaml:5:9: expected a mapping, got a number",
        "f.yaml:6:3: 'Docs' is not a plain name: start with a lowercase letter, then use "
        "lowercase letters, digits and _",
    ]


SECRET = "S3cr3t-canary-value"


def _payload_errors(schema: dict[str, Any], payload: dict[str, Any]) -> list[str]:
    validator = fragment_validator(schema)
    return [describe(e, secret_safe=True) for e in validator.iter_errors(payload)]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"code": {"enum": ["a", "b"]}}},
        {"type": "object", "properties": {"code": {"const": "a"}}},
        {"type": "object", "properties": {"code": {"pattern": "^[0-9]+$"}}},
        {"type": "object", "properties": {"code": {"type": "integer"}}},
        {"type": "object", "properties": {"code": {"type": "boolean"}}},
        {"type": "object", "properties": {"code": {"maxLength": 3}}},
        {"type": "object", "properties": {"code": {"format": "email", "not": {"type": "string"}}}},
        {"type": "object", "properties": {"code": {"anyOf": [{"type": "integer"}]}}},
        {"type": "object", "additionalProperties": False},
    ],
    ids=lambda s: str(next(iter(s.get("properties", {"x": s}).values()))),
)
def test_secret_safe_messages_never_echo_the_value(schema: dict[str, Any]) -> None:
    found = _payload_errors(schema, {"code": SECRET})
    assert found, "the payload should have been refused"
    assert all(SECRET not in message for message in found), found
