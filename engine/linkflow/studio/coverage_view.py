"""The coverage view: `linkflow coverage --diagrams` for one scenario folder, as page data.

The diagrams are the same overlay (linkflow.output.diagram_coverage.overlay_coverage):
transitions no scenario took red and dashed, guards never refused or never held orange, the
rest faded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from linkflow.analysis.coverage import run_suite
from linkflow.output.diagram import workflow_diagram
from linkflow.output.diagram_coverage import overlay_coverage
from linkflow.output.files import draw
from linkflow.studio.playground import PlaygroundError


def coverage_view(folder: str) -> dict[str, Any]:
    """Run the scenarios under `folder` and draw each workflow's coverage overlay."""
    if not Path(folder).is_dir():
        raise PlaygroundError(f"{folder}: no such folder of scenarios")
    report = run_suite([folder])
    workflows = []
    for name, cov in sorted(report.workflows.items()):
        diagram = overlay_coverage(cov.workflow, workflow_diagram(cov.workflow), cov)
        workflows.append({"name": name, "svg": draw(diagram, "svg").decode("utf-8")})
    return {
        "folder": folder,
        "scenarios": report.scenarios,
        "table": report.table(),
        "problems": [str(p) for p in report.problems],
        "workflows": workflows,
    }
