"""A command that needs a missing extra names it and exits 2, never with a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def with_blocked(
    modules: list[str], *argv: str, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """`linkflow ARGV` in a process where `modules` cannot be imported (as if not installed)."""
    probe = (
        "import sys\n"
        f"for name in {modules!r}:\n"
        "    sys.modules[name] = None\n"
        "from linkflow.cli import main\n"
        f"sys.exit(main({list(argv)!r}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
        env={**os.environ, "LINKFLOW_STORE": ""},
    )


@pytest.mark.parametrize(
    ("blocked", "argv", "extra"),
    [
        (["starlette"], ["serve"], "service"),
        (["uvicorn"], ["serve", "--port", "1"], "service"),
        (["starlette"], ["studio"], "studio"),
        (["watchfiles"], ["studio"], "studio"),
        (["httpx"], ["webhooks", "run"], "service"),
        (["standardwebhooks"], ["webhooks", "list"], "service"),
        (
            ["psycopg", "psycopg_pool"],
            ["status", "x", "--store", "postgresql://nobody@127.0.0.1:1/x"],
            "postgres",
        ),
    ],
)
def test_a_missing_extra_is_named(blocked: list[str], argv: list[str], extra: str) -> None:
    result = with_blocked(blocked, *argv)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert f"pip install 'linkflow[{extra}]'" in result.stderr
    assert f"{blocked[0]} is not installed" in result.stderr


def test_commands_that_need_no_extra_run_without_them(tmp_path: Path) -> None:
    blocked = ["starlette", "uvicorn", "watchfiles", "psycopg", "psycopg_pool"]
    result = with_blocked(blocked, "validate", str(ROOT / "examples"))
    assert result.returncode == 0, result.stderr


def test_the_python_api_names_the_postgres_extra_too() -> None:
    probe = (
        "import sys\n"
        "sys.modules['psycopg'] = None\n"
        "import linkflow\n"
        "try:\n"
        "    linkflow.open('examples', store='postgresql://nobody@127.0.0.1:1/x')\n"
        "except linkflow.LinkflowError as err:\n"
        "    print(err)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert result.stderr == ""
    assert "pip install 'linkflow[postgres]'" in result.stdout
