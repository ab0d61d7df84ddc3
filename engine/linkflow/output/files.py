"""Diagram files: one diagram description drawn in a format, and every file `render` writes.

Kept apart from `linkflow.output.diagram` so the description never imports its renderers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from linkflow.language.model import Workflow
from linkflow.output.diagram import TraceStep, overview_diagram, workflow_diagram
from linkflow.output.diagram_model import Diagram, View
from linkflow.output.graphviz import render
from linkflow.output.mermaid import to_mermaid
from linkflow.output.reader import reader_diagram

#: Output format -> file extension.
EXTENSIONS: Mapping[str, str] = {"svg": "svg", "png": "png", "dot": "dot", "mermaid": "mmd"}
#: Both views, in the order they are written.
VIEWS: tuple[View, ...] = (View.READER, View.ENGINEER)


def diagram_stem(name: str, view: View) -> str:
    """The file name of a workflow's diagram without its extension: the engineer view keeps
    the plain name, the reader view adds `.reader`."""
    return f"{name}.reader" if view is View.READER else name


def draw(diagram: Diagram, fmt: str) -> bytes:
    """One diagram in one format (`svg`, `png`, `dot` or `mermaid`)."""
    if fmt == "mermaid":
        return to_mermaid(diagram).encode("utf-8")

    return render(diagram, fmt)


def diagram_files(
    workflows: Mapping[str, Workflow],
    formats: Sequence[str],
    *,
    selected: Sequence[str] | None = None,
    overview: bool = True,
    trace: Sequence[TraceStep] = (),
    views: Sequence[View] = (View.ENGINEER,),
) -> dict[str, bytes]:
    """Every diagram file, by file name: one per selected workflow, view and format, plus the
    overview of all `workflows` (an engineer's picture) when `overview` is true."""
    names = sorted(selected if selected is not None else workflows)
    files: dict[str, bytes] = {}
    for name in names:
        for view in views:
            if view is View.READER:
                diagram = reader_diagram(workflows[name])
            else:
                diagram = workflow_diagram(workflows[name], trace)
            for fmt in formats:
                files[f"{diagram_stem(name, view)}.{EXTENSIONS[fmt]}"] = draw(diagram, fmt)
    if overview and View.ENGINEER in views:
        whole = overview_diagram(workflows, trace)
        for fmt in formats:
            files[f"overview.{EXTENSIONS[fmt]}"] = draw(whole, fmt)
    return files
