"""History keeps only the payload fields an event declares and does not mark secret."""

from __future__ import annotations

from pathlib import Path

from engine import Engine, RefusalKind, load_workflow, load_world

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
