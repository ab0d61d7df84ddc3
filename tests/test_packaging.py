"""An installed (non-editable) package has every module and finds its schemas."""

from __future__ import annotations

import fnmatch
import sys
import tomllib
from pathlib import Path

import pytest

from engine.language import schema

ROOT = Path(__file__).resolve().parent.parent


def test_pyproject_installs_the_schemas_where_the_lookup_looks() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data_files = config["tool"]["setuptools"]["data-files"]
    assert data_files == {str(schema.INSTALLED_SCHEMAS): ["schemas/*.schema.json"]}
    assert Path(sys.prefix) / schema.INSTALLED_SCHEMAS in schema.schema_dirs()


def test_the_first_folder_holding_the_schemas_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("LINKFLOW_SCHEMAS", str(empty))
    schema.schemas_dir.cache_clear()
    try:
        # The override holds no schema, so the source tree's folder is used.
        assert schema.schemas_dir() == ROOT / "schemas"
        monkeypatch.setattr(
            schema, "__file__", str(tmp_path / "site" / "engine" / "language" / "schema.py")
        )
        monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
        installed = tmp_path / "prefix" / schema.INSTALLED_SCHEMAS
        installed.mkdir(parents=True)
        (installed / "workflow.schema.json").write_text("{}", encoding="utf-8")
        schema.schemas_dir.cache_clear()
        assert schema.schemas_dir() == installed
    finally:
        schema.schemas_dir.cache_clear()


def test_every_engine_package_is_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in sorted((ROOT / "engine").rglob("__init__.py"))
    ]
    assert "engine.cli.commands" in packages
    missing = [p for p in packages if not any(fnmatch.fnmatch(p, pat) for pat in include)]
    assert missing == []


def test_runtime_dependencies_are_ranges_pinned_by_the_constraints_file() -> None:
    from packaging.requirements import Requirement

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    for text in config["project"]["dependencies"]:
        requirement = Requirement(text)
        name = requirement.name.lower().replace("_", "-")
        exact = [s for s in requirement.specifier if s.operator == "=="]
        if exact:  # a new dependency pinned in pyproject itself is still reproducible
            continue
        assert name in pins, f"{name}: add its pin to constraints.txt"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {text}"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert config["project"]["license"] == "MIT"


def test_linkflow_runs_without_the_cel_packages_interactive_shell() -> None:
    """common-expression-language requires typer, rich, prompt-toolkit and pygments for its
    shell; linkflow loads the compiled extension alone, so `--no-deps` installs of it work."""
    import subprocess

    code = (
        "import sys\n"
        "for name in ('typer', 'rich', 'prompt_toolkit', 'pygments'):\n"
        "    sys.modules[name] = None  # importing any of them now fails\n"
        "from engine.cli import main\n"
        "sys.exit(main(['test', 'examples/scenarios']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "2 passed, 0 failed" in result.stdout
