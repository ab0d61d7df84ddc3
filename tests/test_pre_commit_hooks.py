"""The pre-commit hooks the repository offers run real linkflow commands that pass here."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from linkflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def test_the_two_hooks_are_offered() -> None:
    assert [hook["id"] for hook in HOOKS] == ["linkflow-validate", "linkflow-render-check"]
    for hook in HOOKS:
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: str(h["id"]))
def test_each_hook_passes_on_this_repository(
    hook: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    command = shlex.split(str(hook["entry"]))
    assert command[0] == "linkflow"
    assert main(command[1:]) == 0


def test_the_install_page_shows_a_config_using_both_hooks() -> None:
    page = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    for hook in HOOKS:
        assert f"- id: {hook['id']}" in page
