"""A parallel state at the configuration cap: `mutate` said that its scenarios were missing only
after listing every mutant (thousands: each configuration is a source), half a minute; it
reads the scenarios first now."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.hostile.helpers import cli, write


def wide(regions: int, states: int) -> dict[str, Any]:
    """`regions` regions of `states` states each, one `go` moving each region along."""
    inner: dict[str, Any] = {f"s{j}": {} for j in range(states)}
    inner[f"s{states - 1}"] = {"final": "done"}
    region = {"initial": "s0", "states": inner}
    transitions = [
        {"event": "go", "from": f"p.r{i}.s{j}", "to": f"p.r{i}.s{j + 1}"}
        for i in range(regions)
        for j in range(states - 1)
    ]
    return {
        "workflow": "wide",
        "initial": "p",
        "events": {"go": {}},
        "states": {
            "p": {"parallel": True, "states": {f"r{i}": region for i in range(regions)}},
            "end": {"final": "completed"},
        },
        "transitions": [*transitions, {"event": "done.state.p", "from": "p", "to": "end"}],
    }


def test_mutate_reports_missing_scenarios_at_once_at_the_configuration_cap(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "wide.yaml", wide(4, 4))  # 4 ** 4 = 256 configurations
    assert cli("validate", str(path)).returncode == 0
    started = time.monotonic()
    done = cli("mutate", str(path), "--scenarios", str(tmp_path / "none"))
    took = time.monotonic() - started
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "none: no such file or folder" in done.stdout + done.stderr
    assert took < 10, took  # half a minute before
