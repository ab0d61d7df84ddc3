"""The keys the builder reads for each object are exactly the keys the JSON Schema allows.

Rather than trust a hand-kept list, the test runs the real builder on a document that uses every
object, with each mapping replaced by one that records which keys are read. A key the schema
accepts but the builder never reads is silently ignored input; a key the builder reads but the
schema refuses is dead code. Either way the two have drifted apart.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

import pytest

from linkflow.language.model import ActionKind
from linkflow.language.schema import validate_document
from linkflow.language.schema_files import load_schema
from linkflow.language.workflow_builder import build_workflow
from linkflow.language.yaml_loader import Document, parse_text

EVERYTHING = """\
workflow: everything
title: Every object once
description: Uses each kind of object the workflow language has.
rules: [E1]
initial: start
data:
  who: ""
  seen: []
bindings:
  person:
    from: people
    key: data.who
    description: The person.
  people:
    from: people
    keys: data.seen
states:
  start:
    description: Start.
    step: The first step.
    rule: E2
  waiting:
    description: Waits.
    waiting:
      for: someone
      timeout: {seconds: 5, to: late, description: Too late.}
  phase:
    description: A compound state.
    initial: first
    entry:
      - set: {path: data.who, value: "'in'"}
    exit:
      - set: {path: data.who, value: "'out'"}
    states:
      first: {}
      over: {final: done}
  done: {final: completed}
  late: {final: timed_out}
events:
  go:
    description: Go.
    payload:
      type: object
      properties:
        name: {type: string}
        pin: {type: string, secret: true}
  finish: {}
guards:
  known:
    when: person != null
    message: Unknown person.
    message_when_true: Known person.
    rule: E3
    description: The person is known.
  other:
    when: size(people) > 0
    message: Nobody.
exclusive:
  - [known, other]
transitions:
  - event: go
    from: start
    to: waiting
    guards: [known]
    description: Go on.
    rule: E4
    actions:
      - set: {path: data.who, value: payload.name}
      - append: {path: data.seen, value: "[payload.name]", each: true}
      - add:
          path: data.seen
          value: item
          for_each: {item: item, in: "['a']"}
      - remove: {path: data.seen, value: "'b'"}
  - event: go
    from: start
    to: done
    guards: [other]
  - event: finish
    from: waiting
    to: phase
  - event: finish
    from: phase.first
    to: phase.over
  - event: done.state.phase
    from: phase
    to: done
"""

#: Where each object's properties stand in the schema.
SCHEMA_PATHS: dict[str, tuple[str, ...]] = {
    "workflow": (),
    "binding": ("$defs", "binding"),
    "state": ("$defs", "state"),
    "waiting": ("$defs", "waiting"),
    "timeout": ("$defs", "waiting", "properties", "timeout"),
    "event": ("$defs", "event"),
    "guard": ("$defs", "guard"),
    "transition": ("$defs", "transition"),
    "action_body": ("$defs", "action_body"),
    "for_each": ("$defs", "action_body", "properties", "for_each"),
}


class Recorder(dict[str, Any]):
    """A mapping that notes every key looked up in it, under the name of its object kind."""

    def __init__(self, kind: str, value: dict[str, Any], log: dict[str, set[str]]) -> None:
        super().__init__(value)
        self.kind = kind
        self.log = log
        log.setdefault(kind, set())

    def __getitem__(self, key: str) -> Any:
        self.log[self.kind].add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.log[self.kind].add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.log[self.kind].add(str(key))
        return super().__contains__(key)


def _instrument(value: dict[str, Any], log: dict[str, set[str]]) -> Recorder:
    def state(spec: dict[str, Any]) -> Recorder:
        spec = dict(spec)
        if "waiting" in spec:
            wait = dict(spec["waiting"])
            if "timeout" in wait:
                wait["timeout"] = Recorder("timeout", wait["timeout"], log)
            spec["waiting"] = Recorder("waiting", wait, log)
        if "states" in spec:
            spec["states"] = {n: state(s or {}) for n, s in spec["states"].items()}
        return Recorder("state", spec, log)

    def action(spec: dict[str, Any]) -> dict[str, Any]:
        ((verb, body),) = spec.items()
        body = dict(body)
        if "for_each" in body:
            body["for_each"] = Recorder("for_each", body["for_each"], log)
        return {verb: Recorder("action_body", body, log)}

    def transition(spec: dict[str, Any]) -> Recorder:
        spec = dict(spec)
        if "actions" in spec:
            spec["actions"] = [action(a) for a in spec["actions"]]
        return Recorder("transition", spec, log)

    top = dict(value)
    top["bindings"] = {n: Recorder("binding", b, log) for n, b in top["bindings"].items()}
    top["states"] = {n: state(s) for n, s in top["states"].items()}
    top["events"] = {n: Recorder("event", e, log) for n, e in top["events"].items()}
    top["guards"] = {n: Recorder("guard", g, log) for n, g in top["guards"].items()}
    top["transitions"] = [transition(t) for t in top["transitions"]]
    return Recorder("workflow", top, log)


@pytest.fixture(scope="module")
def keys_read() -> dict[str, set[str]]:
    doc, problems = parse_text(EVERYTHING, "everything.yaml")
    assert doc is not None, problems
    assert validate_document(doc, "workflow.schema.json") == []
    log: dict[str, set[str]] = defaultdict(set)
    recorded = dataclasses.replace(doc, value=_instrument(doc.value, log))
    assert isinstance(recorded, Document)
    workflow, problems = build_workflow(recorded)
    assert problems == []
    assert workflow is not None
    return dict(log)


def schema_properties(kind: str) -> set[str]:
    node: Any = load_schema("workflow.schema.json")
    for part in SCHEMA_PATHS[kind]:
        node = node[part]
    return set(node["properties"])


def test_every_object_was_seen(keys_read: dict[str, set[str]]) -> None:
    assert set(keys_read) == set(SCHEMA_PATHS)


@pytest.mark.parametrize("kind", sorted(SCHEMA_PATHS))
def test_builder_reads_exactly_the_schema_keys(kind: str, keys_read: dict[str, set[str]]) -> None:
    read = keys_read[kind]
    allowed = schema_properties(kind)
    assert read - allowed == set(), f"the builder reads {kind} keys the schema refuses"
    assert allowed - read == set(), f"the schema allows {kind} keys the builder ignores"


def test_action_verbs_match_the_schema() -> None:
    schema = load_schema("workflow.schema.json")
    assert set(schema["$defs"]["action"]["properties"]) == {kind.value for kind in ActionKind}


def test_the_recorder_notices_a_key_the_builder_would_ignore() -> None:
    """The instrument itself works: a key nobody reads is absent from the log."""
    log: dict[str, set[str]] = {}
    mapping = Recorder("thing", {"read": 1, "ignored": 2}, log)
    assert mapping["read"] == 1
    assert mapping.get("absent") is None
    assert "other" not in mapping
    assert log == {"thing": {"read", "absent", "other"}}
