"""The bundled example runs end to end through the public API."""

from __future__ import annotations

from pathlib import Path

from linkflow.language.loader import load_workflow
from linkflow.runtime.engine import Engine
from linkflow.runtime.world_loader import load_world

ROOT = Path(__file__).resolve().parent.parent


def test_document_review_publishes_and_refuses_the_author() -> None:
    workflow = load_workflow(ROOT / "examples/document_review.yaml")
    world, problems = load_world(ROOT / "examples/document_world.yaml")
    assert world is not None, problems
    instance = Engine(workflow).create({"document": "handbook"}, world)

    assert instance.send("submit").target == "in_review"
    refused = instance.send("approve", {"reviewer": "ana", "code": "4711"})
    assert refused.refusal is not None
    assert refused.refusal.rule == "D2"
    assert refused.refusal.message == "'ana' wrote 'Staff handbook' and cannot review it."
    assert instance.state == "in_review"

    done = instance.send("approve", {"reviewer": "ben", "code": "4711"})
    assert done.accepted
    assert instance.outcome == "completed"
    assert world.get("documents", "handbook")["status"] == "published"
    # The code is kept nowhere in history (the time is left out: its digits may hold "4711").
    for entry in instance.history:
        kept = {k: v for k, v in entry.as_dict().items() if k != "time"}
        assert "4711" not in repr(kept)
        assert "code" not in entry.payload
