"""The coverage view: `linkflow coverage --diagrams` for one scenario folder, as page data.

The diagrams are the same overlay (linkflow.output.diagram_coverage.overlay_coverage):
transitions no scenario took red and dashed, guards never refused or never held orange, the
rest faded.

Measuring again reuses what has not changed: a scenario file's result is kept by the hash of
its text (the workflows and worlds it runs on are read once per process, as `linkflow
coverage` reads them, so its text is all that can change its result), and a diagram by the
coverage it shows. Only the files edited since the last measure run again.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkflow.analysis.coverage import run_suite
from linkflow.output.diagram import workflow_diagram
from linkflow.output.diagram_coverage import overlay_coverage
from linkflow.output.files import draw
from linkflow.studio.playground import PlaygroundError
from linkflow.testing.scenarios import run_scenario_file

if TYPE_CHECKING:
    from linkflow.analysis.coverage import CoverageReport, WorkflowCoverage
    from linkflow.language.model import Workflow
    from linkflow.testing.scenarios import ScenarioResult

#: The most overlays kept (a few per workflow; an edit-measure loop adds one each time).
MAX_DRAWN = 256
_lock = threading.Lock()
#: (resolved path, sha-256 of the file's bytes) -> the scenario's result.
_results: dict[tuple[Path, str], ScenarioResult] = {}
#: (workflow, what the overlay shows) -> the SVG.
_drawn: dict[tuple[Workflow, tuple[Any, ...]], str] = {}


def _run(path: Path) -> tuple[ScenarioResult, bool]:
    """The result of one scenario file, and whether it was reused."""
    key = (path.resolve(), hashlib.sha256(path.read_bytes()).hexdigest())
    with _lock:
        found = _results.get(key)
    if found is not None:
        return found, True
    result = run_scenario_file(path)
    with _lock:
        # an edited file's older results are of no more use
        for old in [k for k in _results if k[0] == key[0]]:
            del _results[old]
        _results[key] = result
    return result, False


def suite(folder: str) -> tuple[CoverageReport, int]:
    """`linkflow.analysis.coverage.run_suite` over one folder, reusing unchanged files'
    results; with the number reused."""
    reused = 0

    def run(path: Path) -> ScenarioResult:
        nonlocal reused
        result, again = _run(path)
        reused += again
        return result

    return run_suite([folder], run), reused


def _svg(cov: WorkflowCoverage) -> str:
    shown = (
        frozenset(cov.states),
        frozenset(cov.transitions),
        frozenset((k, frozenset(v)) for k, v in cov.guards.items()),
    )
    key = (cov.workflow, shown)
    with _lock:
        svg = _drawn.get(key)
    if svg is None:
        diagram = overlay_coverage(cov.workflow, workflow_diagram(cov.workflow), cov)
        svg = draw(diagram, "svg").decode("utf-8")
        with _lock:
            if len(_drawn) >= MAX_DRAWN:  # old overlays of edited scenarios: start afresh
                _drawn.clear()
            _drawn[key] = svg
    return svg


def coverage_view(folder: str) -> dict[str, Any]:
    """Run the scenarios under `folder` and draw each workflow's coverage overlay."""
    if not Path(folder).is_dir():
        raise PlaygroundError(f"{folder}: no such folder of scenarios")
    report, reused = suite(folder)
    workflows = [{"name": name, "svg": _svg(cov)} for name, cov in sorted(report.workflows.items())]
    return {
        "folder": folder,
        "scenarios": report.scenarios,
        "reused": reused,
        "table": report.table(),
        "problems": [str(p) for p in report.problems],
        "workflows": workflows,
    }
