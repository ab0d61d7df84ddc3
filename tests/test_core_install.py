"""The core install (`pip install linkflow`, no extra) does every offline job, the SQLite store
included: the service, studio and PostgreSQL extras are needed only by what they serve.

Each command runs in a fresh interpreter in which importing any extra's module fails, as it
would where the extra was never installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Every top-level module that only an extra installs.
EXTRAS_ONLY = (
    "starlette",
    "uvicorn",
    "httptools",
    "uvloop",
    "psycopg",
    "psycopg_pool",
    "watchfiles",
)

BLOCKED_RUN = (
    "import sys\n"
    f"for name in {EXTRAS_ONLY!r}:\n"
    "    sys.modules[name] = None  # importing it now fails, as if never installed\n"
    "from linkflow.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def core_linkflow(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LINKFLOW_STORE": ""}
    return subprocess.run(
        [sys.executable, "-c", BLOCKED_RUN, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "examples"),
        ("test", "examples/scenarios"),
        ("explore", "examples/document_review.yaml"),
        ("coverage", "examples/scenarios"),
        ("mutate", "examples/document_review.yaml", "--scenarios", "examples/scenarios"),
        ("render", "--check"),
        ("show", "examples/document_review.yaml"),
    ],
    ids=lambda args: args[0],
)
def test_an_offline_command_needs_no_extra(args: tuple[str, ...]) -> None:
    result = core_linkflow(*args)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sqlite_store_needs_no_extra(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'core.db'}"
    world = core_linkflow(
        "world", "load", str(ROOT / "examples/document_world.yaml"), "--store", store
    )
    assert world.returncode == 0, world.stderr
    started = core_linkflow(
        "start", str(ROOT / "examples/document_review.yaml"), "--store", store, cwd=tmp_path
    )
    assert started.returncode == 0, started.stderr
    status = core_linkflow("status", started.stdout.strip(), "--store", store, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "Traceback" not in status.stderr
