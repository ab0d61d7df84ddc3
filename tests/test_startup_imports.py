"""The start-up budgets: what `linkflow --help`, `import linkflow` and a durable `linkflow send`
load, each in a fresh process.

Imports stay inside functions only where a light path must not pay for a library (ruff's PLC0415
with a reason on each such line); these tests are what keeps those reasons true.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

#: Libraries `linkflow --help` must not load: each command imports its own only when it runs.
HELP_FORBIDDEN = {
    "yaml",
    "jsonschema",
    "jsonschema_rs",
    "networkx",
    "graphviz",
    "cel",
    "transitions",
    "starlette",
    "uvicorn",
    "psycopg",
    "watchfiles",
    "prometheus_client",
    "httpx",
    "standardwebhooks",
}
#: Libraries a send to a SQLite store must not load: no graph checks, drawing, server or driver.
SEND_FORBIDDEN = {
    "networkx",
    "graphviz",
    "starlette",
    "uvicorn",
    "psycopg",
    "watchfiles",
    "prometheus_client",
    "httpx",
    "standardwebhooks",
}


def _python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env={**os.environ, "LINKFLOW_STORE": ""},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _modules_after_cli(argv: list[str]) -> tuple[int, set[str]]:
    """The exit code of `linkflow ARGV` and the modules loaded, in a fresh process."""
    probe = (
        "import contextlib, io, json, sys\n"
        "from linkflow.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        code = main({argv!r})\n"
        "    except SystemExit as exit_:\n"
        "        code = exit_.code\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}))\n"
    )
    answer = json.loads(_python(probe).splitlines()[-1])
    return answer["code"], set(answer["modules"])


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".", maxsplit=1)[0] for name in modules}


def test_help_loads_no_library_a_command_needs() -> None:
    code, modules = _modules_after_cli(["--help"])
    assert code == 0
    assert _top_level(modules) & HELP_FORBIDDEN == set()


def test_import_linkflow_loads_no_submodule_and_no_library() -> None:
    probe = "import json, sys\nimport linkflow\nprint(json.dumps(sorted(sys.modules)))\n"
    modules = set(json.loads(_python(probe).splitlines()[-1]))
    assert {name for name in modules if name.startswith("linkflow.")} == set()
    assert _top_level(modules) & HELP_FORBIDDEN == set()


def test_a_durable_send_loads_no_graph_drawing_server_or_driver(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    setup = (
        "from linkflow.cli import main\n"
        f"assert main(['world', 'load', {str(EXAMPLES / 'document_world.yaml')!r},"
        f" '--store', {store!r}]) == 0\n"
        f"assert main(['start', {str(EXAMPLES / 'document_review.yaml')!r},"
        f" '--store', {store!r}, '--data', '{{\"document\": \"handbook\"}}']) == 0\n"
    )
    instance = _python(setup).splitlines()[-1].strip()
    code, modules = _modules_after_cli(["send", instance, "submit", "--store", store])
    assert code == 0  # the event was taken: the probe went the whole way
    assert _top_level(modules) & SEND_FORBIDDEN == set()
