"""World schemas belong to the project: the engine knows no collection names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkflow.cli import main
from linkflow.language.world_schema import find_world_schema
from linkflow.runtime.paths import ABSENT, lookup, parent
from linkflow.runtime.world_loader import load_world
from linkflow.testing.scenarios import run_scenario_file

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "tests" / "cases" / "purchase_orders"


def test_the_engine_schema_names_no_collection() -> None:
    text = (ROOT / "schemas" / "world.schema.json").read_text(encoding="utf-8")
    for word in ("tiktok", "business_center", "ad_account", "users", "settings"):
        assert word not in text.lower()


def test_a_new_users_own_collections_validate_and_run() -> None:
    assert main(["validate", str(PO)]) == 0
    result = run_scenario_file(PO / "scenarios" / "p1_p2_head_approves_within_budget.yaml")
    assert result.passed, [str(f) for f in result.failures] + [str(p) for p in result.problems]


def test_the_nearest_world_schema_governs_a_world() -> None:
    assert find_world_schema(PO / "worlds" / "acme.yaml") == PO / "world.schema.yaml"
    assert (
        find_world_schema(ROOT / "workflows" / "worlds") == ROOT / "workflows" / "world.schema.yaml"
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


SCHEMA = """world_schema: shop
collections:
  items:
    record:
      type: object
      additionalProperties: false
      required: [price]
      properties: {price: {type: number}}
"""


def test_a_world_is_checked_against_its_projects_schema(tmp_path: Path) -> None:
    write(tmp_path, "world.schema.yaml", SCHEMA)
    world = write(
        tmp_path,
        "w.yaml",
        "world: w\ncollections:\n  items:\n    tea.green_1: {price: cheap}\n  itmes: {}\n",
    )
    found, problems = load_world(world)
    assert found is None
    assert [str(p) for p in problems] == [
        f"{world}:4:26: expected a number, got a string",
        f"{world}:5:3: unknown key 'itmes' (did you mean 'items'?)",
    ]


def test_record_ids_allow_periods_and_underscores_but_not_spaces(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", "world: w\ncollections:\n  people:\n    _ana.cooks_2: {}\n")
    assert load_world(good)[1] == []
    bad = write(tmp_path, "bad.yaml", "world: w\ncollections:\n  people:\n    ana cooks: {}\n")
    (problem,) = load_world(bad)[1]
    assert problem.location.line == 4
    assert "'ana cooks' does not have the expected form" in problem.message


def test_a_world_may_name_its_schema(tmp_path: Path) -> None:
    schema = write(tmp_path, "shop.yaml", SCHEMA)
    sub = tmp_path / "sub"
    sub.mkdir()
    named = write(sub, "w.yaml", f"world: w\nschema: {schema}\ncollections:\n  items: {{}}\n")
    assert load_world(named)[1] == []
    missing = write(sub, "m.yaml", "world: w\nschema: nope.yaml\ncollections: {}\n")
    (problem,) = load_world(missing)[1]
    assert problem.message == "no world schema file 'nope.yaml'"


def test_a_broken_world_schema_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "world.schema.yaml",
        "world_schema: shop\ncollections:\n  items:\n    id: {pattern: 5}\n"
        "    record: {type: thing}\n",
    )
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:5:20: record schema: must be one of:" in out
    assert f"{path}:4:19: record schema: expected a string, got a number" in out


def test_world_changes_are_checked_against_the_world_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKFLOW_ROOT", "/")  # the scenario in tmp reads the workflow in tests/
    scenario = write(
        tmp_path,
        "s.yaml",
        f"scenario: s\nworkflow: purchase_order\nworkflows: {PO / 'purchase_order.yaml'}\n"
        f"world: {PO / 'worlds' / 'acme.yaml'}\n"
        "world_changes:\n  orders.po.1001.status: lost\n  department.nope.head: x\n"
        "steps:\n  - send: approve\n    payload: {approver: jo.smith}\n",
    )
    result = run_scenario_file(scenario)
    assert [str(p) for p in result.problems] == [
        f"{scenario}:6:26: this change leaves the world invalid: "
        "orders.po.1001.status: must be one of: open, approved (got 'lost')"
    ]
    listed = write(
        tmp_path,
        "l.yaml",
        f"scenario: l\nworkflow: purchase_order\nworkflows: {PO / 'purchase_order.yaml'}\n"
        f"world: {PO / 'worlds' / 'acme.yaml'}\n"
        "world_changes:\n  - {path: nothing, remove: true}\n"
        "steps:\n  - send: approve\n    payload: {approver: jo.smith}\n",
    )
    assert [p.message for p in run_scenario_file(listed).problems] == [
        "world has nothing at 'nothing' to change"
    ]


def test_dotted_paths_find_ids_that_hold_periods() -> None:
    world = {"accounts": {"ana.cooks": {"name": "Ana"}, "ana": {"x": 1}}}
    assert lookup(world, "accounts.ana.cooks.name") == "Ana"
    assert lookup(world, "accounts.ana.x") == 1
    assert lookup(world, "accounts.ana.y") is ABSENT
    assert lookup({"l": [1, 2]}, "l.1") == 2
    assert parent(world, "accounts.bo.b") == (world["accounts"], "bo.b")
    assert parent(world, "accounts.ana.cooks.name") == (world["accounts"]["ana.cooks"], "name")
    assert parent([], "x") is None
    assert json.dumps(parent({}, "x")) == '[{}, "x"]'
