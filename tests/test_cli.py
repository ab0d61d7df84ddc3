"""`linkflow` end to end, as a user runs it: exit codes, output formats, and never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from linkflow.cli import main
from tests.support.requirements import unavailable

ROOT = Path(__file__).resolve().parent.parent
INVALID = "tests/cases/invalid"
VALID = "tests/cases/valid"
EXAMPLE = "examples/document_review.yaml"
EXAMPLE_WORLD = "examples/document_world.yaml"


def linkflow(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "linkflow", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
    return result


def test_validate_clean_files_exits_0() -> None:
    result = linkflow("validate", VALID)
    assert result.returncode == 0
    assert result.stdout == "ok: 4 files valid\n"


def test_the_same_workflow_twice_is_a_problem() -> None:
    result = linkflow("validate", f"{VALID}/document_review.yaml", EXAMPLE)
    assert result.returncode == 1
    assert (
        f"{EXAMPLE}:4:11: workflow 'document_review' is already defined in "
        f"{VALID}/document_review.yaml:3:11"
    ) in result.stdout


def test_validate_reports_every_problem_of_every_file_and_exits_1() -> None:
    files = [f"{INVALID}/duplicate_key.yaml", f"{INVALID}/reserved_names.yaml", EXAMPLE]
    result = linkflow("validate", *files)
    assert result.returncode == 1
    expected = "".join(
        (ROOT / f).with_suffix(".expected").read_text(encoding="utf-8") for f in files[:2]
    )
    assert (result.stdout + result.stderr).startswith(expected)
    assert "3 problems in 3 files" in result.stdout + result.stderr


def test_validate_a_whole_folder_of_bad_files_in_one_run() -> None:
    result = linkflow("validate", INVALID)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    for expected in sorted((ROOT / INVALID).glob("*.expected")):
        for line in expected.read_text(encoding="utf-8").splitlines():
            assert line in output


def test_validate_json_output_parses() -> None:
    result = linkflow("validate", "--format", "json", f"{INVALID}/unknown_references.yaml")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["files"] == 1
    first = report["problems"][0]
    assert first == {
        "file": f"{INVALID}/unknown_references.yaml",
        "line": 15,
        "column": 12,
        "message": "unknown event 'goo' (did you mean 'go'?): declare it under `events`",
    }
    assert len(report["problems"]) == 4


def test_validate_json_output_when_clean() -> None:
    result = linkflow("validate", "--format", "json", EXAMPLE)
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"ok": True, "files": 1, "problems": []}


def test_validate_a_missing_path_is_a_problem() -> None:
    result = linkflow("validate", "no/such/file.yaml")
    assert result.returncode == 1
    assert "no/such/file.yaml: no such file or folder" in result.stdout + result.stderr


def test_run_the_example_in_text() -> None:
    result = linkflow(
        "run",
        EXAMPLE,
        "--world",
        EXAMPLE_WORLD,
        "--data",
        '{"document": "handbook"}',
        "--event",
        "submit",
        "--event",
        'approve={"reviewer": "ben", "code": "4711"}',
    )
    assert result.returncode == 0, result.stderr
    assert "submit: draft -> in_review" in result.stdout
    assert "approve: in_review -> published" in result.stdout
    assert "'published' (completed)" in result.stdout


def test_run_json_output_parses_and_a_refusal_exits_1() -> None:
    result = linkflow(
        "run",
        EXAMPLE,
        "--world",
        EXAMPLE_WORLD,
        "--data",
        '{"document": "handbook"}',
        "--format",
        "json",
        "-e",
        "approve",
        "-e",
        "submit",
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["workflow"] == "document_review"
    assert report["state"] == "in_review"
    assert [s["accepted"] for s in report["steps"]] == [False, True]
    assert report["steps"][0]["refusal"]["kind"] == "wrong_state"


def test_run_an_invalid_workflow_exits_1_with_located_problems() -> None:
    result = linkflow("run", f"{INVALID}/dead_end_state.yaml", "-e", "go")
    assert result.returncode == 1
    expected = (ROOT / INVALID / "dead_end_state.expected").read_text(encoding="utf-8")
    assert expected.strip() in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frobnicate"], "unknown command 'frobnicate' (commands: init, validate,"),
        (["valdiate"], "unknown command 'valdiate' (did you mean 'validate'?)"),
        (["run", EXAMPLE, "--wait", "soon"], "'soon' is not a number of seconds"),
        (["run", EXAMPLE, "-e", "timeout"], "--wait SECONDS lets a state's wait run out"),
        (["validate", "--colour"], "unrecognized arguments: --colour"),
        (["validate", "--format", "xml"], "invalid choice: 'xml'"),
        (["run"], "the following arguments are required: WORKFLOW"),
        (["run", EXAMPLE, "--event", "x={bad json"], "the payload of 'x' is not valid JSON"),
        (["run", EXAMPLE, "--event", "x=[1]"], "the payload of 'x' must be a JSON object"),
        (["run", EXAMPLE, "--event", "=1"], "an event is written NAME or NAME=JSON"),
        (["run", EXAMPLE, "--data", "{nope"], "--data: the inline JSON is not valid JSON"),
        (["run", EXAMPLE, "--data", "[1]"], "--data must be a mapping"),
        (["run", EXAMPLE, "--data", '{"colour": 1}'], "has no data field 'colour'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In-process (a subprocess each would make the suite slow); the same `main` the script runs.
    monkeypatch.chdir(ROOT)
    code: int | str | None
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse leaves through SystemExit
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert message in err
    assert "Traceback" not in out + err


def test_a_usage_error_in_a_real_process() -> None:
    result = linkflow("run", EXAMPLE, "--event", "approve={bad json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "linkflow run: error: the payload of 'approve' is not valid JSON: expected a key in "
        "double quotes (at the top level, character 2)\n"
    )


def test_help_and_version() -> None:
    help_result = linkflow("--help")
    assert help_result.returncode == 0
    assert "validate" in help_result.stdout
    assert "Exit codes" in help_result.stdout
    version = linkflow("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("linkflow ")
    assert version.stdout.strip() != "linkflow unknown"


def test_subcommand_help() -> None:
    result = linkflow("run", "--help")
    assert result.returncode == 0
    assert "--event" in result.stdout


def test_the_installed_script_is_the_same_command() -> None:
    script = Path(sys.executable).parent / "linkflow"
    if not script.exists():
        unavailable("the linkflow script is not installed next to this Python")
    result = subprocess.run(
        [str(script), "validate", EXAMPLE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "ok: 1 file valid\n")
