"""The guards of one transition are evaluated in one call of the expression library; the
outcome (step, checks, refusal words, history) is the same as checking them one by one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from linkflow import World
from linkflow.language.loader import load_workflow
from linkflow.runtime.engine import Engine

WORKFLOW = """\
workflow: batch
initial: open
data:
  limit: 10
bindings:
  item:
    from: items
    key: payload.sku
states:
  open: {}
  done: {final: completed}
events:
  buy:
    payload:
      type: object
      properties:
        sku: {type: string}
        count: {}
        note: {type: string}
guards:
  known:
    when: item != null
    message: "There is no item '{payload.sku}'."
  in_stock:
    when: item.stock >= payload.count
    message: "Only {item.stock} left."
  under_limit:
    when: payload.count <= data.limit
    message: "At most {data.limit} at once."
    message_when_true: "Within the limit of {data.limit}."
  noted:
    when: payload.note
    message: "A note is needed."
transitions:
  - event: buy
    from: open
    to: done
    guards: [known, in_stock, under_limit, noted]
  - event: buy
    from: open
    to: open
    guards: [known, "!under_limit"]
"""


def _engines(tmp_path: Path) -> tuple[Engine, Engine]:
    path = tmp_path / "batch.yaml"
    path.write_text(WORKFLOW)
    workflow = load_workflow(path)
    batched, single = Engine(workflow), Engine(workflow)
    assert len(batched.guards._combined) == 2
    single.guards._combined = {}
    return batched, single


def _outcome(engine: Engine, payload: dict[str, Any]) -> tuple[Any, ...]:
    world = World({"items": {"a": {"stock": 3}, "b": {"stock": "many"}}})
    instance = engine.create(world=world, clock=lambda: 5.0)
    step = instance.send("buy", payload)
    return step.as_dict(), step.checks, [h.as_dict() for h in instance.history]


payloads = st.fixed_dictionaries(
    {"sku": st.sampled_from(["a", "b", "zz"])},
    optional={
        "count": st.one_of(st.integers(0, 20), st.sampled_from(["2", None, 2.5])),
        "note": st.sampled_from(["", "gift"]),
    },
)


@settings(max_examples=150, deadline=None)
@given(payload=payloads)
def test_one_call_for_all_guards_decides_and_words_as_one_call_each(
    tmp_path_factory: Any, payload: dict[str, Any]
) -> None:
    batched, single = _engines(tmp_path_factory.mktemp("batch"))
    assert _outcome(batched, payload) == _outcome(single, payload)


def test_a_guard_that_cannot_be_evaluated_falls_back_to_one_call_each(tmp_path: Path) -> None:
    batched, _ = _engines(tmp_path)
    step, checks, _ = _outcome(batched, {"sku": "b", "count": 1, "note": "x"})
    assert step["accepted"] is False
    assert "could not be checked" in step["refusal"]["message"]  # 'many' >= 1
    assert checks[:2] == ((0, "known", True), (0, "in_stock", False))
