"""Small workflows and a CLI runner shared by the hostile-input tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def tiny_workflow(
    *,
    when: str = "true",
    payload: dict[str, Any] | None = None,
    actions: list[dict[str, Any]] | None = None,
    bindings: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A two-state workflow with one event `go`, one guard and the given payload and actions."""
    event: dict[str, Any] = {"payload": payload} if payload is not None else {}
    workflow: dict[str, Any] = {
        "workflow": "tiny",
        "initial": "start",
        "data": data if data is not None else {"note": ""},
        "states": {"start": {}, "end": {"final": "completed"}},
        "events": {"go": event},
        "guards": {"ok": {"when": when, "message": "not ok"}},
        "transitions": [
            {
                "event": "go",
                "from": "start",
                "to": "end",
                "guards": ["ok"],
                "actions": actions or [],
            }
        ],
    }
    if bindings:
        workflow["bindings"] = bindings
    workflow.update(extra or {})
    return workflow


def write(path: Path, value: Any) -> Path:
    """JSON is YAML too, and never writes aliases."""
    path.write_text(json.dumps(value, indent=1), encoding="utf-8")
    return path


def cli(
    *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real command line in a child process, so a native crash shows as a signal."""
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    return subprocess.run(
        [sys.executable, "-m", "linkflow", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=timeout,
        check=False,
    )
