"""An installed (non-editable) package has every module and finds its schemas."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from linkflow.language import schema_files as schema

ROOT = Path(__file__).resolve().parent.parent


def test_the_schemas_are_package_data_read_through_importlib_resources() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "schemas/*.schema.json" in config["tool"]["setuptools"]["package-data"]["linkflow"]
    link = ROOT / "engine" / "linkflow" / "schemas"
    assert link.is_symlink()
    assert link.resolve() == ROOT / "schemas"
    assert schema.schemas_dir().resolve() == ROOT / "schemas"


def test_an_override_holding_no_schema_falls_back_to_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("LINKFLOW_SCHEMAS", str(empty))
    schema.schemas_dir.cache_clear()
    try:
        assert schema.schemas_dir().resolve() == ROOT / "schemas"
        (empty / "workflow.schema.json").write_text("{}", encoding="utf-8")
        schema.schemas_dir.cache_clear()
        assert schema.schemas_dir() == empty
    finally:
        schema.schemas_dir.cache_clear()


def test_every_package_is_in_the_wheel_and_none_is_named_engine() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["setuptools"]["package-dir"] == {"": "engine"}
    find = config["tool"]["setuptools"]["packages"]["find"]
    assert find["where"] == ["engine"]
    packages = [
        ".".join(init.parent.relative_to(ROOT / "engine").parts)
        for init in sorted((ROOT / "engine").rglob("__init__.py"))
    ]
    assert "linkflow.cli.commands" in packages
    assert not (ROOT / "engine" / "__init__.py").exists()
    missing = [p for p in packages if not any(fnmatch.fnmatch(p, pat) for pat in find["include"])]
    assert missing == []


def test_the_core_install_names_no_server_asgi_or_database_driver() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    core = {Requirement(text).name.lower() for text in config["project"]["dependencies"]}
    heavy = {"starlette", "uvicorn", "uvloop", "httptools", "psycopg", "psycopg-pool", "watchfiles"}
    assert core.isdisjoint(heavy), core & heavy
    extras = config["project"]["optional-dependencies"]
    for extra in ("service", "studio", "postgres", "all"):
        assert extra in extras


def test_runtime_dependencies_are_ranges_pinned_by_the_constraints_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    optional = config["project"]["optional-dependencies"]
    named = [*config["project"]["dependencies"], *optional["service"], *optional["postgres"]]
    for text in [*named, *optional["studio"][1:]]:
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
    code = (
        "import sys\n"
        "for name in ('typer', 'rich', 'prompt_toolkit', 'pygments'):\n"
        "    sys.modules[name] = None  # importing any of them now fails\n"
        "from linkflow.cli import main\n"
        "sys.exit(main(['test', 'examples/scenarios']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "16 passed, 0 failed" in result.stdout
