"""Every command that takes a workflow takes its name too, with a did-you-mean when misspelled:
the same resolver (`cli/commands/workflow_args.py`) for all of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkflow.cli import main


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("names") / "demo"
    assert main(["init", str(folder)]) == 0
    return folder


@pytest.fixture
def inside(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


def commands(out: Path) -> dict[str, list[str]]:
    """Each command with what it needs besides the workflow (outputs kept in `out`)."""
    return {
        "run": ["run", "{}"],
        "explore": ["explore", "{}"],
        "generate": ["generate", "{}", "--out", str(out / "todo")],
        "coverage": ["coverage", "{}"],
        "show": ["show", "{}"],
        "render": ["render", "{}", "--out", str(out / "diagrams"), "--file-types", "dot"],
        "start": ["start", "{}", "--store", f"sqlite:///{out / 'store.db'}"],
        "mutate": ["mutate", "{}", "--operator", "drop_guard", "--jobs", "1"],
    }


COMMANDS = ["run", "explore", "generate", "coverage", "show", "render", "start", "mutate"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_takes_a_workflow_name(
    command: str, inside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.format("leave_request") for a in commands(tmp_path)[command]]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "no such file" not in captured.err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_misspelled_name_gets_a_did_you_mean(
    command: str, inside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.format("leave_reqest") for a in commands(tmp_path)[command]]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"linkflow {command}: error: no workflow named" in err
    assert "(did you mean 'leave_request'?)" in err


def test_a_name_works_from_a_folder_below_the_project(
    inside: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(inside / "tests" / "scenarios")
    assert main(["explore", "leave_request", "--format", "json"]) == 0
    assert '"workflow": "leave_request"' in capsys.readouterr().out
