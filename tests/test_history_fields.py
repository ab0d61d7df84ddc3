"""History keeps only the payload fields an event declares and does not mark secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from linkflow import RefusalKind
from linkflow.language.loader import load_workflow
from linkflow.runtime.engine import Engine
from linkflow.runtime.steps import MAX_HISTORY_PAYLOAD_BYTES, history_payload
from linkflow.runtime.world_loader import load_world

ROOT = Path(__file__).resolve().parent.parent


def test_a_field_sent_by_mistake_is_not_recorded() -> None:
    workflow = load_workflow(ROOT / "examples/document_review.yaml")
    world, _ = load_world(ROOT / "examples/document_world.yaml")
    instance = Engine(workflow).create({"document": "handbook"}, world)
    instance.send("submit")

    step = instance.send("approve", {"reviewer": "ben", "code": "4711", "password": "hunter2"})
    assert step.refusal is not None
    assert step.refusal.kind is RefusalKind.INVALID_PAYLOAD
    assert step.refusal.message == "the payload does not allow 'password'"
    assert instance.history[-1].payload == {"reviewer": "ben"}

    rejected = instance.send("reject", {"note": "typo"})  # reject takes no payload
    assert rejected.refusal is not None
    assert rejected.refusal.message == "event 'reject' takes no payload"
    assert instance.history[-1].payload == {}


# Text whose JSON is longer than itself (escapes, control characters) or as long (accents).
_chars = st.sampled_from(["a", '"', "\\", "\n", "\x00", "\u00e9", "\U0001f600"])
_values = st.one_of(
    st.text(_chars, max_size=900),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.text(_chars, max_size=400), max_size=8),
)


@given(st.dictionaries(st.text(_chars, min_size=1, max_size=30), _values, max_size=8))
@example({"a": "\x00" * 681})  # 4,094 characters of JSON: kept
@example({"a": "\x00" * 682})  # 4,100: left out
@example({"a": ["x" * 2000, "y" * 2100]})  # not flat: written out to measure
def test_history_keeps_a_payload_exactly_when_its_json_fits(payload: dict[str, Any]) -> None:
    """The size bound that spares writing small payloads out never changes the verdict."""
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
    kept, omitted = history_payload(payload, checked=True)
    if size <= MAX_HISTORY_PAYLOAD_BYTES:
        assert (kept, omitted) == (payload, "")
    else:
        assert (kept, omitted) == ({}, "larger than 4 KiB")
