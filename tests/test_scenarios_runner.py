"""The scenario runner reports failures at their YAML line, expected against actual."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from linkflow import load
from linkflow.testing.scenarios import run_scenario_file

CASES = Path(__file__).parent / "cases" / "scenarios"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "scenarios"


def test_failures_are_located_and_say_expected_and_actual() -> None:
    result = run_scenario_file(CASES / "wrong_expectations.yaml")
    assert not result.passed
    messages = [(f.location.line, f.step, f.message) for f in result.failures]
    assert messages == [
        (8, 1, "expected state 'published', got 'in_review'"),
        (9, 2, "'approve' was refused: 'ana' wrote 'Staff handbook' and cannot review it."),
        (14, 3, "'approve' was accepted (in_review -> published), expected a refusal"),
        (15, 3, 'data.approvals: expected ["ana"], got ["ben"]'),
        (16, 3, 'world.documents.handbook.status: expected "draft", got "published"'),
        (17, 3, 'expected data.approvals to contain "carl", got ["ben"]'),
    ]
    assert result.path_lines() == [
        " 1. document_review: submit: draft -> in_review",
        " 2. document_review: approve: refused "
        "('ana' wrote 'Staff handbook' and cannot review it.)",
        " 3. document_review: approve: in_review -> published",
    ]
    assert result.trace() == [
        ("document_review", 0, "draft", "in_review"),
        ("document_review", 1, "in_review", "published"),
    ]


def test_the_json_report_of_a_scenario_names_every_field() -> None:
    """`linkflow test --format json` prints as_dict(): each failure with its line, column and
    step, and the path taken (mutation audit: renamed keys survived the CLI test)."""
    report = run_scenario_file(CASES / "wrong_expectations.yaml").as_dict()
    assert json.loads(json.dumps(report)) == report
    assert set(report) == {
        "scenario", "file", "line", "passed", "rules", "failures", "problems", "path"
    }  # fmt: skip
    assert (report["scenario"], report["line"], report["passed"]) == (
        "wrong_expectations_on_purpose",
        1,
        False,
    )
    assert report["file"].endswith("wrong_expectations.yaml")
    assert (report["rules"], report["problems"]) == ([], [])
    assert report["failures"][0] == {
        "line": 8,
        "column": 21,
        "step": 1,
        "message": "expected state 'published', got 'in_review'",
    }
    assert [(f["line"], f["column"], f["step"]) for f in report["failures"]] == [
        (8, 21, 1), (9, 11, 2), (14, 7, 3), (15, 25, 3), (16, 42, 3), (17, 34, 3)
    ]  # fmt: skip
    assert report["path"][0] == " 1. document_review: submit: draft -> in_review"
    assert len(report["path"]) == 3


ACCEPTED = """\
scenario: accepted_on_purpose
workflow: document_review
workflows: .
world: document_world.yaml
data: {document: handbook}
steps:
  - send: submit
    expect: {accepted: true}
  - send: approve
    payload: {reviewer: ana, code: "4711"}
    expect: {accepted: true}
  - send: approve
    payload: {reviewer: ben, code: "4711"}
    expect: {accepted: false}
"""


def test_accepted_true_and_false_are_checked_against_the_step(tmp_path: Path) -> None:
    """`expect: {accepted: ...}` passes when it holds and fails, at its key, when it does not
    (mutation audit: no scenario the tests run expected `accepted` and met the other answer)."""
    shutil.copytree(
        EXAMPLES.parent, tmp_path, ignore=shutil.ignore_patterns("scenarios"), dirs_exist_ok=True
    )
    path = tmp_path / "accepted.yaml"
    path.write_text(ACCEPTED, encoding="utf-8")
    result = run_scenario_file(path)
    assert result.problems == []
    assert [(f.location.line, f.step, f.message) for f in result.failures] == [
        (9, 2, "'approve' was refused: 'ana' wrote 'Staff handbook' and cannot review it."),
        (11, 2, "expected accepted: True, got False"),
        (14, 3, "'approve' was accepted (in_review -> published), expected a refusal"),
        (14, 3, "expected accepted: False, got True"),
    ]


def test_unknown_workflow_is_a_located_problem() -> None:
    result = run_scenario_file(CASES / "bad_setup.yaml")
    assert [str(p).split(": ", 1)[1] for p in result.problems] == [
        "no workflow named 'document_reviw' in "
        + str((CASES / "../../../examples").resolve())
        + " (there: document_review, expense_claim, freight_quote, onboarding, supplier_order)"
    ]
    assert result.problems[0].location.line == 2


def test_schema_errors_are_located() -> None:
    result = run_scenario_file(CASES / "bad_schema.yaml")
    found = sorted((p.location.line, p.message) for p in result.problems)
    assert (6, "unknown key 'expekt' (did you mean 'expect'?)") in found
    assert any(line == 4 for line, _ in found)  # send and wait together


def test_example_scenarios_pass() -> None:
    results = [run_scenario_file(p) for p in sorted(EXAMPLES.glob("*.yaml"))]
    assert [r.name for r in results if not r.passed] == []
    assert len(results) == 16  # document review 2, expense claim 5, freight 5, onboarding 4


def test_cli_summary_line_and_exit_codes() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "linkflow", "test", str(EXAMPLES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.splitlines()[-1] == "16 passed, 0 failed"

    bad = subprocess.run(
        [sys.executable, "-m", "linkflow", "test", str(CASES), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert (report["passed"], report["failed"]) == (0, 3)
    assert "Traceback" not in bad.stderr


def test_a_failure_says_how_to_draw_the_path() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "linkflow", "test", str(CASES / "wrong_expectations.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    hint = [line.strip() for line in done.stdout.splitlines() if "to see it:" in line]
    assert len(hint) == 1
    assert hint[0].startswith("to see it: linkflow render document_review ")
    assert hint[0].endswith(f"--trace {CASES / 'wrong_expectations.yaml'}")


def test_validate_finds_unknown_names_in_a_scenario_without_running_it() -> None:
    path = Path(__file__).parent / "cases" / "scenario_names" / "typos.yaml"
    result = load([path])
    assert [(p.location.line, p.location.column, p.message) for p in result.problems] == [
        (5, 11, "no event 'sbumit' in workflow 'document_review' (did you mean 'submit'?)"),
        (6, 21, "no state 'in_reveiw' in workflow 'document_review' (did you mean 'in_review'?)"),
        (
            7,
            24,
            "the scenario cannot reach a workflow 'document_reveiw' (only: document_review) "
            "(did you mean 'document_review'?)",
        ),
    ]


def test_validate_reads_only_secret_fields_from_the_environment() -> None:
    path = Path(__file__).parent / "cases" / "scenario_names" / "secrets.yaml"
    result = load([path])
    assert [(p.location.line, p.location.column, p.message) for p in result.problems] == [
        (
            6,
            15,
            "'code' is not a secret field of event 'submit' (its secret fields: none); only "
            "secret fields are read from the environment",
        ),
        (9, 15, "'code' is given in both `payload` and `secrets`: keep one"),
        (
            12,
            15,
            "'reviewr' is not a secret field of event 'approve' (its secret fields: code); only "
            "secret fields are read from the environment",
        ),
    ]


def test_a_secret_from_the_environment_is_sent_and_searched_for_afterwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = CASES.parent / "scenario_env" / "secret_from_env.yaml"
    monkeypatch.setenv("LINKFLOW_TEST_REVIEW_CODE", "0000")
    wrong = run_scenario_file(path)
    assert wrong.failures[0].message.split(":")[0] == "'approve' was refused"
    # The right code is also the world's review_code: the search after the step finds it there.
    monkeypatch.setenv("LINKFLOW_TEST_REVIEW_CODE", "4711")
    right = run_scenario_file(path)
    assert [(f.step, f.location.line, f.message) for f in right.failures] == [
        (2, 8, "a secret read from the environment was found in the world")
    ]
    assert "4711" not in str(right.failures)


def test_an_expected_outcome_fails_while_the_instance_has_not_finished(tmp_path: Path) -> None:
    # A copy of the example project: a scenario reads workflows under its own folder only.
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES.parent, examples, ignore=shutil.ignore_patterns("scenarios"))
    scenario = tmp_path / "outcome_too_early.yaml"
    scenario.write_text(
        "scenario: outcome_too_early\n"
        "workflow: document_review\n"
        "workflows: examples\n"
        "world: examples/document_world.yaml\n"
        "data: {document: handbook}\n"
        "steps:\n"
        "  - send: submit\n"
        "    expect: {state: in_review, outcome: completed}\n"
        "  - send: approve\n"
        '    payload: {reviewer: ben, code: "4711"}\n'
        "    expect: {state: published, outcome: completed}\n",
        encoding="utf-8",
    )
    result = run_scenario_file(scenario)
    assert result.problems == []
    assert not result.passed
    assert [(f.location.line, f.step, f.message) for f in result.failures] == [
        (8, 1, "expected outcome 'completed', got none: still in 'in_review'")
    ]
