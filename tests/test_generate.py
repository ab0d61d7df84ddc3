"""linkflow generate: skeleton scenarios, valid against the scenario schema, on shortest paths."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from linkflow.analysis.coverage import WorkflowCoverage
from linkflow.analysis.generate import skeletons, write_skeletons
from linkflow.cli import main
from linkflow.language.loader import load
from linkflow.testing.scenarios import run_scenario_file

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "analysis"
SCHEMA = json.loads((ROOT / "schemas" / "scenario.schema.json").read_text(encoding="utf-8"))


def method() -> WorkflowCoverage:
    result = load([CASES / "link_entry.yaml", CASES / "link_method.yaml"])
    return WorkflowCoverage(result.workflows["link_method"])


def test_one_skeleton_per_transition_and_guard_refusal(tmp_path: Path) -> None:
    found = skeletons(method().workflow, None, tmp_path)
    assert [s.name for s in found] == [
        "todo_link_method_log_in_login_to_confirming",
        "todo_link_method_confirm_confirming_to_linked",
        "todo_link_method_cancel_login_to_cancelled",
        "todo_link_method_timeout_login_to_timed_out",
        "todo_link_method_log_in_refused_by_password_ok",
    ]
    for skeleton in found:
        jsonschema.validate(yaml.safe_load(skeleton.text), SCHEMA)


def test_shortest_path_payload_placeholders_and_notes(tmp_path: Path) -> None:
    confirm = skeletons(method().workflow, None, tmp_path)[1]
    doc = yaml.safe_load(confirm.text)
    assert doc["workflow"] == "link_method"
    assert (tmp_path / doc["workflows"]).resolve() == CASES.resolve()
    assert doc["steps"] == [
        {
            "send": "log_in",
            "payload": {"account": "TODO", "password": "TODO"},
            "expect": {"state": "confirming"},
        },
        {
            "send": "confirm",
            "expect": {"accepted": True, "state": "linked", "outcome": "completed"},
            "note": "confirm: confirming -> linked: no guards",
        },
    ]
    assert "#   1. log_in: login -> confirming: needs to hold: password_ok (R11)" in confirm.text
    refusal = yaml.safe_load(skeletons(method().workflow, None, tmp_path)[-1].text)
    assert refusal["steps"][-1]["expect"] == {
        "accepted": False,
        "state": "login",
        "refused": {"guard": "password_ok", "rule": "R11"},
    }
    timeout = yaml.safe_load(skeletons(method().workflow, None, tmp_path)[3].text)
    assert timeout["steps"] == [
        {
            "wait": 601.0,
            "expect": {"accepted": True, "state": "timed_out", "outcome": "timed_out"},
            "note": "timeout: login -> timed_out: no guards",
        }
    ]


def test_only_what_is_missing(tmp_path: Path) -> None:
    coverage = method()
    coverage.transitions |= {0, 1, 2}
    coverage.guards[(0, "password_ok")] = {True, False}
    assert [s.name for s in skeletons(coverage.workflow, coverage, tmp_path)] == [
        "todo_link_method_timeout_login_to_timed_out"
    ]


def test_a_filled_in_skeleton_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The timeout skeleton needs nothing filled in: it runs and passes as written."""
    # Written outside the project, it reaches back into it: a root the user names allows it.
    monkeypatch.setenv("LINKFLOW_ROOT", "/")
    (timeout,) = [s for s in skeletons(method().workflow, None, tmp_path) if "timeout" in s.name]
    written = write_skeletons([timeout], tmp_path)
    assert run_scenario_file(written[0]).passed
    assert write_skeletons([timeout], tmp_path) == []  # never overwrites


def test_cli_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "todo"
    suite = ROOT / "examples" / "scenarios"
    code = main(
        [
            "generate",
            str(ROOT / "examples" / "document_review.yaml"),
            "--missing",
            "--scenarios",
            str(suite),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    files = sorted(out.glob("*.yaml"))
    assert files
    assert all(f"wrote {f}" in printed for f in files)
    for path in files:
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), SCHEMA)
    assert not any("approve_in_review_to_published" in f.name for f in files)  # covered
