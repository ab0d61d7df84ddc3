"""Item 9: what a sender controls is bounded, so no event costs more than the limits allow.
(The time itself is measured in benchmarks/, as the `hostile` figure.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linkflow.language.loader import load_workflow
from linkflow.language.schema import bounded, fragment_validator
from linkflow.runtime.engine import Engine
from linkflow.runtime.steps import RefusalKind
from tests.hostile.helpers import tiny_workflow, write

OPEN = {"type": "object", "properties": {"items": {"type": "array"}, "name": {"type": "string"}}}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"items": list(range(101))}, "field 'items' must hold at most 100 items"),
        ({"name": "x" * 1001}, "field 'name' must hold at most 1000 characters"),
    ],
)
def test_a_schema_without_limits_gets_the_default_ones(
    tmp_path: Path, payload: dict[str, Any], message: str
) -> None:
    workflow = load_workflow(write(tmp_path / "t.yaml", tiny_workflow(payload=OPEN)))
    instance = Engine(workflow).create()
    step = instance.send("go", payload)
    assert step.refusal is not None
    assert step.refusal.kind is RefusalKind.INVALID_PAYLOAD
    assert step.refusal.message == message


def test_a_schemas_own_limits_win_and_nothing_else_changes() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"long": {"type": "string", "maxLength": 5000}},
    }
    validator = fragment_validator(schema)
    assert validator.is_valid({"long": "x" * 5000})
    assert not validator.is_valid({"long": "x" * 5001})
    assert not validator.is_valid({"other": 1})  # additionalProperties: false stays
    assert bounded(schema)["properties"]["long"]["maxLength"] == 5000
