"""`linkflow init` makes a project that validates and passes its tests; it never overwrites."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import pytest
import yaml

from linkflow.cli import main
from linkflow.cli.project_template import SCHEMA_DIR


def in_folder(folder: Path, *argv: str) -> int:
    here = Path.cwd()
    os.chdir(folder)
    try:
        return main(list(argv))
    finally:
        os.chdir(here)


def test_a_new_project_validates_and_passes_its_scenarios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "demo")]) == 0
    project = tmp_path / "demo"
    capsys.readouterr()
    assert in_folder(project, "validate") == 0
    assert capsys.readouterr().out == "ok: 3 files valid\n"  # workflow, world schema, world
    assert in_folder(project, "test") == 0
    assert capsys.readouterr().out.endswith("2 passed, 0 failed\n")
    assert in_folder(project, "validate", "tests/scenarios") == 0


def test_every_yaml_file_names_a_schema_that_exists_next_to_it(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path)]) == 0
    yaml_files = sorted(p for p in tmp_path.rglob("*.yaml") if p.name != ".pre-commit-config.yaml")
    assert len(yaml_files) == 5
    for path in yaml_files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        prefix = "# yaml-language-server: $schema="
        assert first.startswith(prefix), path
        target = (path.parent / first.removeprefix(prefix)).resolve()
        assert target.is_file(), target
        assert target.parent == (tmp_path / SCHEMA_DIR).resolve()
    settings = json.loads((tmp_path / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    for schema_file in settings["yaml.schemas"]:
        assert (tmp_path / schema_file).is_file()


def test_the_projects_pre_commit_hooks_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["init", str(tmp_path)]) == 0
    config = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = config["repos"][0]["hooks"]
    assert [h["id"] for h in hooks] == ["linkflow-validate", "linkflow-test"]
    monkeypatch.chdir(tmp_path)
    for hook in hooks:
        command = shlex.split(hook["entry"])
        assert command[0] == "linkflow"
        assert re.search(hook["files"], "workflows/leave_request.yaml")
        assert main(command[1:]) == 0


def test_init_refuses_to_overwrite_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "README.md").write_text("mine\n", encoding="utf-8")
    assert main(["init", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err
    assert f"{tmp_path / 'README.md'}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "mine\n"


def test_init_into_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "taken"
    target.write_text("", encoding="utf-8")
    assert main(["init", str(target)]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_init_json_lists_what_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "p"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert all(Path(p).is_file() for p in report["written"])
    assert main(["init", str(tmp_path / "p"), "--format", "json"]) == 1
    again = json.loads(capsys.readouterr().out)
    assert again["ok"] is False
    assert sorted(again["existing"]) == sorted(report["written"])


@pytest.mark.parametrize("kind", ["workflow", "world", "scenario"])
def test_schema_prints_the_schema_or_its_path(
    kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", kind]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["$id"].endswith(f"/{kind}.schema.json")
    assert main(["schema", kind, "--path"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert json.loads(path.read_text(encoding="utf-8")) == printed
    assert main(["schema", kind, "--path", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"kind": kind, "path": str(path)}
