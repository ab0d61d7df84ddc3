"""Item 10: a refused payload is not kept whole; every history entry has a size cap."""

from __future__ import annotations

import json
import math
from pathlib import Path

from linkflow.language.loader import load_workflow
from linkflow.runtime.engine import Engine
from linkflow.runtime.steps import MAX_HISTORY_PAYLOAD_BYTES
from tests.hostile.helpers import tiny_workflow, write

NOTE = {"type": "object", "properties": {"note": {"type": "string", "maxLength": 10_000_000}}}


def test_refused_huge_payloads_are_not_kept(tmp_path: Path) -> None:
    workflow = load_workflow(write(tmp_path / "t.yaml", tiny_workflow(when="false", payload=NOTE)))
    instance = Engine(workflow).create()
    huge = "x" * 10_000_000
    for _ in range(20):
        assert not instance.send("go", {"note": huge}).accepted  # too large for a payload
        assert not instance.send("go", {"note": "y" * 5000}).accepted  # refused by the guard
    assert not instance.send("go", {"note": math.nan}).accepted
    sizes = [len(json.dumps(entry.as_dict())) for entry in instance.history]
    assert max(sizes) < MAX_HISTORY_PAYLOAD_BYTES
    assert {e.payload_omitted for e in instance.history} == {
        "larger than 4 KiB",
        "not plain JSON data",
    }
    assert instance.history[0].as_dict()["payload_omitted"] == "larger than 4 KiB"


def test_a_small_payload_is_kept(tmp_path: Path) -> None:
    workflow = load_workflow(write(tmp_path / "t.yaml", tiny_workflow(payload=NOTE)))
    instance = Engine(workflow).create()
    assert instance.send("go", {"note": "short"}).accepted
    assert instance.history[0].payload == {"note": "short"}
    assert "payload_omitted" not in instance.history[0].as_dict()
