"""What a new user meets in the first hour, on a project made by `linkflow init`: JSON from
every command, usage errors with hints, names that work from any folder, honest defaults."""

from __future__ import annotations

import io
import json
import shlex
from pathlib import Path

import pytest

from linkflow.cli import main
from linkflow.cli.commands.console import paint
from linkflow.cli.commands.output import root_causes
from linkflow.errors import Problem
from linkflow.source import SourceLocation

WORKFLOW = "workflows/leave_request.yaml"
WORLD = "workflows/worlds/office.yaml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert main(["init", str(tmp_path / "demo")]) == 0
    monkeypatch.chdir(tmp_path / "demo")
    return tmp_path / "demo"


#: (argv, its exit code on a fresh `linkflow init` project). A 1 is what the command reports:
#: `run` sends an event the first state does not take, `render --check` finds no diagrams yet.
FIRST_COMMANDS: list[tuple[list[str], int]] = [
    (["validate"], 0),
    (["run", WORKFLOW, "--world", WORLD, "--data", '{"employee": "ana"}', "-e", "decline"], 1),
    (["show", "leave_request"], 0),
    (["test"], 0),
    (["render", "--check"], 1),
    (["render", "--file-types", "dot"], 0),
    (["docs"], 0),
    (["explore", WORKFLOW], 0),
    (["coverage"], 0),
    (["generate", WORKFLOW, "--missing"], 0),
    (["schema", "world", "--path"], 0),
]


@pytest.mark.parametrize(
    ("argv", "code"), FIRST_COMMANDS, ids=[" ".join(argv[:2]) for argv, _ in FIRST_COMMANDS]
)
def test_every_command_speaks_json_on_stdout(
    project: Path, argv: list[str], code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--format", "json"]) == code
    out = capsys.readouterr().out
    report = json.loads(out)  # one JSON document, nothing else on stdout
    assert isinstance(report, dict)
    assert report
    # Each 1 is what the report says went wrong, not a failure of the command itself.
    if argv[0] == "run":
        [step] = report["steps"]
        assert (step["accepted"], step["refusal"]["kind"]) == (False, "wrong_state")
    elif argv[:2] == ["render", "--check"]:
        assert report["ok"] is False
        assert "missing: diagrams/leave_request.svg" in report["stale"]
    else:
        assert code == 0


def test_an_up_to_date_check_in_json_is_json_only(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "--file-types", "dot"]) == 0
    assert main(["docs"]) == 0
    capsys.readouterr()
    for argv in (["render", "--file-types", "dot", "--check"], ["docs", "--check"]):
        assert main([*argv, "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["ok"] is True


def test_run_waits_shows_world_changes_and_puts_the_world_in_json(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["run", WORKFLOW, "--world", WORLD, "--data", '{"employee": "ana"}']
    watch = ["--watch", "world.employees.ana.days_left"]
    assert main([*base, *watch, "-e", 'submit={"days": 3}', "-e", 'approve={"manager": "mo"}']) == 0
    out = capsys.readouterr().out
    assert "world.employees.ana.days_left = 12" in out
    assert "world.employees.ana.days_left = 9" in out
    assert main([*base, "-e", 'submit={"days": 3}', "--wait", "60", "--wait", "604800"]) == 0
    out = capsys.readouterr().out
    assert "(after 7 d of waiting)" in out
    assert "timeout: with_manager -> expired" in out
    assert main([*base, "-e", 'submit={"days": 3}', "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["world"]["employees"]["ana"]["days_left"] == 12


def test_run_without_a_world_says_so(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", WORKFLOW, "--data", '{"employee": "ana"}', "-e", 'submit={"days": 1}']) == 1
    captured = capsys.readouterr()
    assert "no --world given: 'leave_request' runs on an empty world" in captured.err
    assert "There is no employee 'ana'." in captured.out


def test_validate_without_workflows_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 2
    assert "start a project with `linkflow init`" in capsys.readouterr().err


def test_coverage_without_scenarios_measures_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in (project / "tests" / "scenarios").iterdir():
        path.unlink()
    assert main(["coverage"]) == 2
    captured = capsys.readouterr()
    assert "no scenario files in tests/scenarios" in captured.err
    assert "100.0%" not in captured.out


def test_render_keeps_the_old_format_spelling_with_a_deprecation(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "--format", "dot"]) == 0
    captured = capsys.readouterr()
    assert "deprecated: --format dot names file types; write --file-types dot" in captured.err
    assert (project / "diagrams" / "leave_request.dot").is_file()
    assert not (project / "diagrams" / "leave_request.svg").exists()
    assert main(["render", "--format", "xml"]) == 2


def test_show_takes_a_name_from_any_folder_and_lists_actions(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project / "tests" / "scenarios")
    assert main(["show", "leave_request"]) == 0
    out = capsys.readouterr().out
    assert "then: set world.employees[data.employee].days_left = person.days_left" in out
    assert "after 7 d goes to 'expired'" in out
    assert main(["show", "leave_reqest"]) == 1
    assert "(did you mean 'leave_request'?)" in capsys.readouterr().err


def test_the_failure_hint_works_from_the_scenario_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scenarios = project / "tests" / "scenarios"
    scenario = scenarios / "l2_not_enough_days_left.yaml"
    scenario.write_text(
        scenario.read_text(encoding="utf-8").replace("state: draft", "state: approved"),
        encoding="utf-8",
    )
    monkeypatch.chdir(scenarios)
    assert main(["test", "."]) == 1
    out = capsys.readouterr().out
    assert "expected state 'approved', got 'draft'" in out
    hint = next(line for line in out.splitlines() if "to see it:" in line)
    command = shlex.split(hint.split("to see it: ")[1])
    assert command[:2] == ["linkflow", "render"]
    assert main(command[1:]) == 0
    assert (scenarios / "diagrams" / "traces" / "l2_not_enough_days_left").is_dir()


def test_generated_skeletons_are_skipped_until_finished_and_survive_a_move(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", WORKFLOW, "--missing"]) == 0
    todo = sorted((project / "tests" / "scenarios_todo").glob("*.yaml"))
    assert todo
    text = todo[0].read_text(encoding="utf-8")
    schema_line = "# yaml-language-server: $schema=../../.linkflow/schemas/scenario.schema.json"
    assert text.startswith(schema_line)  # resolves before and after the move
    assert "\nworkflows:" not in text  # found by looking up for workflows/, wherever it is
    moved = project / "tests" / "scenarios" / todo[0].name
    todo[0].rename(moved)
    assert (moved.parent / schema_line.split("=")[1]).resolve().is_file()
    capsys.readouterr()
    assert main(["test"]) == 0
    assert "2 passed, 0 failed, 1 skipped" in capsys.readouterr().out
    moved.write_text(
        "".join(line for line in text.splitlines(True) if "unfinished skeleton" not in line),
        encoding="utf-8",
    )
    main(["test"])
    out = capsys.readouterr().out
    assert "no `workflows/` folder found" not in out
    assert "3 passed" in out or "1 failed" in out  # it runs; whether it passes is for a person


def test_one_root_cause_is_one_line_and_problems_sort_by_line() -> None:
    def at(line: int, message: str) -> Problem:
        return Problem(SourceLocation("w.yaml", line, 3), message)

    problems = [
        at(61, "guard 'ready' is defined but no transition uses it"),
        at(77, "unknown guard 'raedy' (did you mean 'ready'?)"),
        at(12, "unknown event 'goo'"),
        at(12, "unknown event 'goo'"),
    ]
    assert root_causes(problems) == [at(12, "unknown event 'goo'"), problems[1]]


def test_colour_only_in_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert paint("FAIL", "fail", Terminal()) == "\033[31mFAIL\033[0m"
    assert paint("FAIL", "fail", io.StringIO()) == "FAIL"
    monkeypatch.setenv("NO_COLOR", "1")
    assert paint("FAIL", "fail", Terminal()) == "FAIL"


def test_a_broken_workflow_is_reported_once_not_per_scenario(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = project / WORKFLOW
    workflow.write_text(
        workflow.read_text(encoding="utf-8").replace(
            "guards: [is_their_manager]", "guards: [is_their_managr]"
        ),
        encoding="utf-8",
    )
    assert main(["test"]) == 1
    out = capsys.readouterr().out
    problem = "unknown guard 'is_their_managr' (did you mean 'is_their_manager'?)"
    assert out.count(problem) == 1
    assert f"{WORKFLOW}:" in out.splitlines()[0]  # relative, as a person would type it
    assert "is defined but no transition uses it" not in out
    assert out.count("cannot run: 1 problem(s) in its workflows, above") == 2
