"""Diagram files: one diagram description drawn in a format, and every file `render` writes.

Kept apart from `engine.output.diagram` so the description never imports its renderers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.language.model import Workflow
from engine.output.diagram import Diagram, TraceStep, overview_diagram, workflow_diagram

#: Output format -> file extension.
EXTENSIONS: Mapping[str, str] = {"svg": "svg", "png": "png", "dot": "dot", "mermaid": "mmd"}


def draw(diagram: Diagram, fmt: str) -> bytes:
    """One diagram in one format (`svg`, `png`, `dot` or `mermaid`)."""
    if fmt == "mermaid":
        from engine.output.mermaid import to_mermaid

        return to_mermaid(diagram).encode("utf-8")
    from engine.output.graphviz import render

    return render(diagram, fmt)


def diagram_files(
    workflows: Mapping[str, Workflow],
    formats: Sequence[str],
    *,
    selected: Sequence[str] | None = None,
    overview: bool = True,
    trace: Sequence[TraceStep] = (),
) -> dict[str, bytes]:
    """Every diagram file, by file name: one per selected workflow and format, plus the
    overview of all `workflows` when `overview` is true."""
    names = sorted(selected if selected is not None else workflows)
    files: dict[str, bytes] = {}
    for name in names:
        diagram = workflow_diagram(workflows[name], trace)
        for fmt in formats:
            files[f"{name}.{EXTENSIONS[fmt]}"] = draw(diagram, fmt)
    if overview:
        whole = overview_diagram(workflows, trace)
        for fmt in formats:
            files[f"overview.{EXTENSIONS[fmt]}"] = draw(whole, fmt)
    return files
