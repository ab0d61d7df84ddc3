"""Typed data fields and `expect: {unchanged: true}`."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkflow import RefusalKind
from linkflow.errors import UsageError
from linkflow.language.loader import load, load_workflow
from linkflow.runtime.engine import Engine
from linkflow.testing.scenarios import run_scenario_file

WORKFLOW = """\
workflow: budget
initial: open
data:
  amount: {type: number, default: 0, minimum: 0}
  owner: ""
  tags: []
  note: null
states:
  open: {}
  done: {final: completed}
events:
  spend:
    payload: {type: object, properties: {amount: {}, tag: {}}}
  close: {}
transitions:
  - event: spend
    from: open
    to: open
    actions:
      - set: {path: data.amount, value: payload.amount}
      - add: {path: data.tags, value: payload.tag}
  - {event: close, from: open, to: done}
"""


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    path = tmp_path / "budget.yaml"
    path.write_text(WORKFLOW, encoding="utf-8")
    return Engine(load_workflow(path))


def test_initial_data_is_checked_against_the_declared_types(engine: Engine) -> None:
    assert (
        engine.create({"amount": 12.5, "owner": "ana", "note": {"any": "thing"}}).data["amount"]
        == 12.5
    )
    with pytest.raises(
        UsageError, match="data field 'amount' of workflow 'budget' expected a number, got a string"
    ):
        engine.create({"amount": "1200"})
    with pytest.raises(UsageError, match=r"'owner' .* expected a string, got a list"):
        engine.create({"owner": []})
    with pytest.raises(UsageError, match=r"'amount' .* must be at least 0"):
        engine.create({"amount": -1})


def test_an_action_that_breaks_a_type_fails_and_changes_nothing(engine: Engine) -> None:
    instance = engine.create()
    step = instance.send("spend", {"amount": "lots", "tag": "x"})
    assert step.refusal is not None
    assert step.refusal.kind is RefusalKind.ACTION_FAILED
    assert "data field 'amount' expected a number, got a string" in step.refusal.message
    assert instance.data == {"amount": 0, "owner": "", "tags": [], "note": None}
    step = instance.send("spend", {"amount": 5, "tag": 7})
    assert step.accepted  # tags is a list of anything
    assert instance.data["tags"] == [7]


def test_a_declaration_is_checked_by_validate(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        WORKFLOW.replace(
            "{type: number, default: 0, minimum: 0}", "{type: number, default: -5, minimum: 0}"
        ).replace('owner: ""', "owner: {type: text, default: ''}"),
        encoding="utf-8",
    )
    messages = [str(p) for p in load([path]).problems]
    assert messages[0] == f"{path}:4:35: the default of data field 'amount' must be at least 0"
    assert messages[1].startswith(f"{path}:5:17: type of data field 'owner': ")
    assert len(messages) == 2


def test_unchanged_fails_when_the_step_changed_something(tmp_path: Path) -> None:
    (tmp_path / "budget.yaml").write_text(WORKFLOW, encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "scenario: s\nworkflow: budget\nworkflows: budget.yaml\nsteps:\n"
        "  - send: spend\n    payload: {amount: 3, tag: a}\n    expect: {unchanged: true}\n"
        "  - send: close\n    expect: {unchanged: true}\n"
        "  - send: close\n    expect: {unchanged: true, refused: {kind: finished}}\n",
        encoding="utf-8",
    )
    result = run_scenario_file(scenario)
    assert [f.message for f in result.failures] == [
        "expected nothing to change, but data changed at: amount, tags",
        "expected nothing to change, but the state went from 'open' to 'done'",
    ]
    assert [f.step for f in result.failures] == [1, 2]


def test_validate_checks_a_scenarios_data(tmp_path: Path) -> None:
    (tmp_path / "budget.yaml").write_text(WORKFLOW, encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "scenario: s\nworkflow: budget\nworkflows: budget.yaml\n"
        'data: {amount: "1200", ownr: ana}\nsteps:\n  - send: close\n',
        encoding="utf-8",
    )
    assert [str(p) for p in load([scenario]).problems] == [
        f"{scenario}:4:16: data field 'amount' expected a number, got a string",
        f"{scenario}:4:24: workflow 'budget' has no data field 'ownr' (did you mean 'owner'?)",
    ]
