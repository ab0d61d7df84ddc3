"""Items 12-14: secrets stay out of messages at the source (no text replacement afterwards),
nested `secret: true` is refused at load, and every way of naming a secret field is caught."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from linkflow.errors import DefinitionError
from linkflow.language.loader import load_workflow
from linkflow.runtime.engine import Engine
from tests.hostile.helpers import tiny_workflow, write

PIN = {
    "type": "object",
    "required": ["pin"],
    "properties": {"pin": {"type": "string", "secret": True}, "user": {"type": "string"}},
}


def login(tmp_path: Path, when: str) -> Engine:
    return Engine(load_workflow(write(tmp_path / "t.yaml", tiny_workflow(when=when, payload=PIN))))


@pytest.mark.parametrize("secret", ['zz\\q"x', 'say "hi"', "tab\there", "plain-pin-4711"])
def test_a_secret_never_leaks_through_an_expression_error(tmp_path: Path, secret: str) -> None:
    # The map lookup fails with the key in the library's text, escaped or not.
    instance = login(tmp_path, "{'known': true}[payload.pin]").create()
    step = instance.send("go", {"pin": secret, "user": "ana"})
    assert step.refusal is not None
    message = step.refusal.message
    assert message == (
        "refused because this could not be checked: guard 'ok' "
        "(a field is missing in `{'known': true}[payload.pin]`)"
    )
    everything = json.dumps([h.as_dict() for h in instance.history]) + repr(step)
    for form in (secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], "zz", "plain-pin"):
        assert form not in everything


def test_without_a_secret_the_library_detail_is_shown(tmp_path: Path) -> None:
    instance = login(tmp_path, "{'known': true}[payload.user]").create()
    step = instance.send("go", {"pin": "1", "user": "nobody"})
    assert step.refusal is not None
    assert "(a field is missing" in step.refusal.message  # a secret was sent: no detail
    open_payload = {"type": "object", "properties": {"user": {"type": "string"}}}
    workflow = tiny_workflow(when="{'known': true}[payload.user]", payload=open_payload)
    plain = Engine(load_workflow(write(tmp_path / "p.yaml", workflow))).create()
    step = plain.send("go", {"user": "nobody"})
    assert step.refusal is not None
    assert "no field 'nobody'" in step.refusal.message


def test_a_one_letter_secret_does_not_garble_messages(tmp_path: Path) -> None:
    instance = login(tmp_path, "payload.pin == 'x'").create()
    step = instance.send("go", {"pin": "o", "user": "ana"})
    assert step.refusal is not None
    assert step.refusal.message == "not ok"
    step = instance.send("nope", {"pin": "o"})
    assert step.refusal is not None
    assert step.refusal.message == "workflow 'tiny' has no event 'nope' (events: go)"


NESTED: dict[str, Any] = {
    "object": {"properties": {"login": {"type": "object", "properties": {"pw": {"secret": True}}}}},
    "items": {"properties": {"pws": {"type": "array", "items": {"secret": True}}}},
    "defs": {"$defs": {"pw": {"secret": True}}, "properties": {"pw": {"$ref": "#/$defs/pw"}}},
    "all_of": {"allOf": [{"properties": {"pw": {"secret": True}}}]},
}


@pytest.mark.parametrize("kind", sorted(NESTED))
def test_a_nested_secret_is_refused_at_load(tmp_path: Path, kind: str) -> None:
    payload = {"type": "object", **NESTED[kind]}
    path = write(tmp_path / "nested.yaml", tiny_workflow(payload=payload))
    with pytest.raises(DefinitionError) as caught:
        load_workflow(path)
    [problem] = [p for p in caught.value.problems if "secret" in p.message]
    assert problem.message.startswith("`secret: true` works only on a field directly under")
    assert problem.location.line > 1


@pytest.mark.parametrize(
    "message",
    ["Wrong {payload['pin']}", 'Wrong {payload["pin"]}', "Wrong {payload [ 'pin' ]}"],
)
def test_a_secret_named_by_index_in_a_message_is_refused(tmp_path: Path, message: str) -> None:
    workflow = tiny_workflow(payload=PIN)
    workflow["guards"]["ok"]["message"] = message
    with pytest.raises(DefinitionError, match="may not use the secret payload field 'pin'"):
        load_workflow(write(tmp_path / "t.yaml", workflow))


def test_a_secret_named_by_index_in_an_action_is_refused(tmp_path: Path) -> None:
    actions = [{"set": {"path": "data.note", "value": "payload['pin']"}}]
    workflow = tiny_workflow(payload=PIN, actions=actions)
    with pytest.raises(DefinitionError, match="an action may not use the secret payload field"):
        load_workflow(write(tmp_path / "t.yaml", workflow))
