"""Item 5 (and issue 13's overlap): a scenario's `world:` and `workflows:` resolve inside the
project (or a root the user names), are checked by validate, and never reach `/` or /etc."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from linkflow.language.scenario_check import ROOT_VARIABLE
from tests.hostile.helpers import cli, write
from tests.hostile.test_time import CHAIN


def project(tmp_path: Path, key: str, value: str) -> Path:
    """A project folder with one workflow and a scenario whose `key` is `value` (line 4)."""
    root = tmp_path / "project"
    (root / "workflows").mkdir(parents=True)
    write(root / "workflows" / "chain.yaml", CHAIN)
    (root / "tests").mkdir()
    scenario = root / "tests" / "s.yaml"
    scenario.write_text(
        f"scenario: paths\nworkflow: chain\nsteps: [{{send: poke}}]\n{key}: {json.dumps(value)}\n",
        encoding="utf-8",
    )
    return scenario


CASES = [
    ("world", "\0", "the `world` path holds a control character"),
    ("workflows", "\0", "the `workflows` path holds a control character"),
    ("workflows", "/", "the `workflows` path '/' leads outside the project"),
    ("world", "../../../../../../../../etc/passwd", "leads outside the project"),
    ("world", "/etc/passwd", "leads outside the project"),
    ("world", "missing.yaml", "the `world` path 'missing.yaml' names no file"),
    ("workflows", "../nowhere", "the `workflows` path '../nowhere' names no file or folder"),
    ("world", "x" * 5000, "path is longer than 1024 characters"),
]


@pytest.mark.parametrize(("key", "value", "words"), CASES)
def test_a_bad_scenario_path_is_a_located_problem(
    tmp_path: Path, key: str, value: str, words: str
) -> None:
    scenario = project(tmp_path, key, value)
    for command in ("validate", "test"):
        done = cli(command, str(scenario), timeout=20)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        located = [line for line in done.stdout.splitlines() if words in line]
        assert located, (command, done.stdout)
        assert located[0].strip().startswith(f"{scenario}:4:"), located
        assert "root:x:0:0" not in done.stdout + done.stderr


def test_a_root_the_user_names_allows_a_folder_outside_the_project(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    write(shared / "chain.yaml", CHAIN)
    scenario = project(tmp_path, "workflows", "../../shared")
    refused = cli("test", str(scenario))
    assert refused.returncode == 1
    assert "leads outside the project" in refused.stdout
    env_root = os.environ.get(ROOT_VARIABLE)
    try:
        os.environ[ROOT_VARIABLE] = str(tmp_path)
        allowed = cli("test", str(scenario))
    finally:
        if env_root is None:
            del os.environ[ROOT_VARIABLE]
        else:
            os.environ[ROOT_VARIABLE] = env_root
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_a_project_without_markers_is_rooted_where_the_command_runs(tmp_path: Path) -> None:
    """A project copied to a bare folder (no `workflows/`, pyproject.toml or .git): its
    scenarios in a subfolder may reach `..` when linkflow runs from the project's folder, and
    not when it runs from the scenarios' own folder, which the refusal explains."""
    root = tmp_path / "copy"
    (root / "scenarios").mkdir(parents=True)
    write(root / "chain.yaml", CHAIN)
    (root / "scenarios" / "s.yaml").write_text(
        "scenario: copied\nworkflow: chain\nworkflows: ..\nsteps: [{send: poke}]\n",
        encoding="utf-8",
    )
    assert cli("validate", ".", cwd=root).returncode == 0
    from_root = cli("test", ".", cwd=root)
    assert from_root.returncode == 0, from_root.stdout + from_root.stderr
    inside = cli("test", ".", cwd=root / "scenarios")
    assert inside.returncode == 1
    assert "run linkflow from the project's folder, or set LINKFLOW_ROOT" in inside.stdout
