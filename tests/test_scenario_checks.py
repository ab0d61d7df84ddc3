"""`validate` checks what a scenario names (its `available:` events, its `world_changes` paths),
and a broken workflow fails only the scenarios that reach it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from linkflow.language.loader import load
from linkflow.testing.scenarios import run_scenario_file

PROJECT = Path(__file__).parent / "cases" / "purchase_orders"
SCENARIO = "scenarios/p1_p2_head_approves_within_budget.yaml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "purchase_orders"
    shutil.copytree(PROJECT, copy)
    monkeypatch.setenv("LINKFLOW_ROOT", str(tmp_path))
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def problems(project: Path) -> list[str]:
    return [str(p).removeprefix(f"{project}/") for p in load([project / SCENARIO]).problems]


def test_the_unchanged_project_has_no_problem(project: Path) -> None:
    assert problems(project) == []
    assert run_scenario_file(project / SCENARIO).passed


def test_an_unknown_available_event_gets_a_did_you_mean(project: Path) -> None:
    edit(
        project / SCENARIO,
        "expect: {refused: {rule: P1}, unchanged: true}",
        "expect: {refused: {rule: P1}, unchanged: true, available: [approve, aprove]}",
    )
    assert problems(project) == [
        f"{SCENARIO}:11:73: no event 'aprove' in workflow 'purchase_order' "
        "(did you mean 'approve'?)"
    ]


def test_world_changes_paths_are_checked_against_the_world_and_its_schema(
    project: Path,
) -> None:
    edit(
        project / SCENARIO,
        "world_changes: {department.hr.budget: 1500}",
        "world_changes: {department.hr.budgt: 1500, departmnt.hr.name: X, department: {},\n"
        "  department.it.name: Y, department.it: {name: IT, head: ana, budget: 1},\n"
        "  orders.po.1001.status: open}",
    )
    assert problems(project) == [
        f"{SCENARIO}:6:17: 'department.hr.budgt': a record of 'department' has no field "
        "'budgt' (did you mean 'budget'?)",
        f"{SCENARIO}:6:44: 'departmnt.hr.name': the world has no collection 'departmnt' "
        "(did you mean 'department'?)",
        f"{SCENARIO}:6:66: 'department' names a whole collection: change a record, as in "
        "department.<id>",
        f"{SCENARIO}:7:3: 'department.it.name': collection 'department' has no record 'it'; "
        "add a new record whole, as department.<id>",
    ]


def test_a_broken_workflow_fails_only_the_scenarios_that_reach_it(project: Path) -> None:
    broken = project / "broken.yaml"
    shutil.copy(project / "purchase_order.yaml", broken)
    edit(broken, "workflow: purchase_order", "workflow: broken_order")
    edit(broken, "guards: [head_approves, within_budget]", "guards: [head_aproves, within_budget]")
    edit(project / SCENARIO, "workflows: ../purchase_order.yaml", "workflows: ..")
    other = project / "scenarios" / "broken.yaml"
    shutil.copy(project / SCENARIO, other)
    edit(other, "workflow: purchase_order", "workflow: broken_order")

    untouched = run_scenario_file(project / SCENARIO)
    assert untouched.passed, untouched.problems
    reaching = run_scenario_file(other)
    assert [p.message for p in reaching.problems] == [
        "unknown guard 'head_aproves' (did you mean 'head_approves'?)"
    ]
    assert not reaching.passed


def test_a_change_may_name_its_record_by_what_it_holds(project: Path) -> None:
    edit(
        project / SCENARIO,
        "world_changes: {department.hr.budget: 1500}",
        "world_changes:\n"
        '  department[name="Human Resources"].budget: 1500\n'
        '  department[name="Human Resourcs"].budget: 1\n'
        '  department[head="jo.smith"].budgt: 1\n',
    )
    assert problems(project) == [
        f"{SCENARIO}:8:3: 'department[name=\"Human Resourcs\"].budget': no record of "
        "'department' matches [name=\"Human Resourcs\"]",
        f"{SCENARIO}:9:3: 'department[head=\"jo.smith\"].budgt': a record of 'department' has "
        "no field 'budgt' (did you mean 'budget'?)",
    ]
    edit(project / SCENARIO, '  department[name="Human Resourcs"].budget: 1\n', "")
    edit(project / SCENARIO, '  department[head="jo.smith"].budgt: 1\n', "")
    assert problems(project) == []
    assert run_scenario_file(project / SCENARIO).passed


EXPIRES = "scenarios/document_review_expires.yaml"


@pytest.fixture
def examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "examples"
    shutil.copytree(Path(__file__).parent.parent / "examples", copy)
    monkeypatch.setenv("LINKFLOW_ROOT", str(tmp_path))
    return copy


def test_a_scenario_waits_a_written_duration(examples: Path) -> None:
    edit(examples / EXPIRES, "  - wait: 3600\n", "  - wait: 1h\n")
    edit(examples / EXPIRES, "  - wait: 86400\n", "  - wait: P1D\n")
    assert load([examples / EXPIRES]).problems == []
    result = run_scenario_file(examples / EXPIRES)
    assert result.passed, (result.problems, result.failures)
    assert result.path_lines()[-1] == " 3. document_review: timeout: in_review -> expired"


def test_a_wait_of_no_duration_is_a_located_problem(examples: Path) -> None:
    edit(examples / EXPIRES, "  - wait: 3600\n", "  - wait: PT\n")
    message = (
        "'PT' is not a duration: write a number of seconds (86400), or 2d, 90m, 1h30m, 45s, "
        "or ISO 8601 such as P2D, PT90M, P1DT12H"
    )
    assert [(p.location.line, p.message) for p in load([examples / EXPIRES]).problems] == [
        (10, message)
    ]
    result = run_scenario_file(examples / EXPIRES)
    assert [(p.location.line, p.message) for p in result.problems] == [(10, message)]


def test_a_scenario_the_schema_refuses_still_has_its_names_checked(examples: Path) -> None:
    edit(examples / EXPIRES, "  - send: submit\n", "  - send: sbumit\n    note: 5\n")
    assert [(p.location.line, p.message) for p in load([examples / EXPIRES]).problems] == [
        (10, "expected a string, got a number"),
        (9, "no event 'sbumit' in workflow 'document_review' (did you mean 'submit'?)"),
    ]
