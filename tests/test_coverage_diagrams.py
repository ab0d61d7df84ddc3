"""Coverage diagrams: `overlay_coverage` and `linkflow coverage --diagrams DIR`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from linkflow.analysis.coverage import CoverageReport, run_suite
from linkflow.cli import main
from linkflow.output.diagram import workflow_diagram
from linkflow.output.diagram_coverage import overlay_coverage
from linkflow.output.diagram_model import EDGE_STYLES, Diagram, EdgeRole
from linkflow.output.graphviz import to_dot

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SCENARIOS = ROOT / "examples" / "scenarios"

TICKET = """\
workflow: ticket
title: Ticket
description: A ticket is closed once it has a title, or dropped.
initial: open
data:
  title: ""
states:
  open: {description: The ticket is open.}
  closed: {final: completed}
  dropped: {final: cancelled}
events:
  close: {description: Close the ticket.}
  drop: {description: Drop the ticket.}
guards:
  has_title:
    rule: T1
    when: data.title != ""
    message: "A ticket needs a <title> & more."
transitions:
  - event: close
    from: open
    to: closed
    guards: [has_title]
  - event: drop
    from: open
    to: dropped
"""

SCENARIOS = {
    "close.yaml": """\
scenario: close
workflow: ticket
data: {title: Printer jam}
steps:
  - send: close
    expect: {outcome: completed}
""",
    "close_refused.yaml": """\
scenario: close_refused
workflow: ticket
steps:
  - send: close
    expect: {refused: {guard: has_title, rule: T1}, state: open}
""",
    "drop.yaml": """\
scenario: drop
workflow: ticket
steps:
  - send: drop
    expect: {outcome: cancelled}
""",
}

WARNINGS = {EdgeRole.UNCOVERED, EdgeRole.GUARD_GAP}


@pytest.fixture
def ticket(tmp_path: Path) -> Path:
    """A folder with workflows/ticket.yaml and scenarios/ that cover it fully."""
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "ticket.yaml").write_text(TICKET, encoding="utf-8")
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name, text in SCENARIOS.items():
        (scenarios / name).write_text(text, encoding="utf-8")
    return scenarios


def coverage_diagram(report: CoverageReport, name: str) -> Diagram:
    cov = report.workflows[name]
    return overlay_coverage(cov.workflow, workflow_diagram(cov.workflow), cov)


def edge_line(dot: str, source: str, target: str) -> str:
    lines = [line for line in dot.splitlines() if f'"{source}" -> "{target}"' in line]
    assert len(lines) == 1, lines
    return lines[0]


def styled(line: str, role: EdgeRole) -> bool:
    """Whether a DOT edge line is drawn in the colours and dashing of `role`."""
    style = EDGE_STYLES[role]
    return (
        f'color="{style.color}"' in line
        and f'fontcolor="{style.font}"' in line
        and ("style=dashed" in line) == style.dashed
    )


def test_uncovered_transition_and_never_refused_guard_are_marked(ticket: Path) -> None:
    report = run_suite([ticket / "close.yaml"])
    diagram = coverage_diagram(report, "ticket")
    dot = to_dot(diagram)

    drop = edge_line(dot, "open", "dropped")
    assert styled(drop, EdgeRole.UNCOVERED)
    assert "penwidth=2.2" in drop
    assert "<B>not covered: drop</B>" in drop

    close = edge_line(dot, "open", "closed")
    assert styled(close, EdgeRole.GUARD_GAP)
    assert "[has_title T1] never refused" in close
    assert "Guard has_title: never refused" in close  # the tooltip says it too

    dropped = next(line for line in dot.splitlines() if line.startswith('  "dropped"'))
    assert "not visited" in dropped
    assert "transitions 1/2, guard outcomes 1/2, states 2/3" in diagram.title
    assert "red dashed: not covered" in diagram.title
    assert "orange: guard outcome never seen" in diagram.title


def test_never_held_and_never_checked(ticket: Path) -> None:
    refused = coverage_diagram(run_suite([ticket / "close_refused.yaml"]), "ticket")
    close = next(e for e in refused.edges if e.target == "closed")
    assert close.role is EdgeRole.UNCOVERED
    assert close.lines == ("[has_title T1] never held",)

    untouched = coverage_diagram(run_suite([ticket / "drop.yaml"]), "ticket")
    close = next(e for e in untouched.edges if e.target == "closed")
    assert close.lines == ("[has_title T1] never checked",)
    assert next(e for e in untouched.edges if e.target == "dropped").role is EdgeRole.COVERED


def test_full_coverage_has_no_warning_styles(ticket: Path) -> None:
    report = run_suite([ticket])
    diagram = coverage_diagram(report, "ticket")
    assert not any(e.role in WARNINGS for e in diagram.edges)
    assert {e.role for e in diagram.edges} == {EdgeRole.START, EdgeRole.COVERED}
    dot = to_dot(diagram)
    for role in WARNINGS:
        assert f'color="{EDGE_STYLES[role].color}"' not in dot
    assert "not covered" not in dot
    assert "never" not in dot
    assert "not visited" not in dot
    assert diagram.title == (
        "Ticket · coverage: transitions 2/2, guard outcomes 2/2, states 3/3 · grey: covered"
    )


def test_example_timeouts_and_any_step_edges() -> None:
    publish = coverage_diagram(
        run_suite([EXAMPLE_SCENARIOS / "document_review_publish.yaml"]), "document_review"
    )
    roles = {(e.source, e.target): e.role for e in publish.edges}
    assert roles["in_review", "expired"] is EdgeRole.UNCOVERED  # the timeout
    assert roles["in_review", "published"] is EdgeRole.COVERED
    withdraw = next(e for e in publish.edges if e.target == "withdrawn")
    assert withdraw.from_cluster  # the grouped "*" edge keeps its box
    assert withdraw.role is EdgeRole.UNCOVERED
    assert withdraw.title == "not covered: withdraw"

    both = coverage_diagram(run_suite([EXAMPLE_SCENARIOS]), "document_review")
    roles = {(e.source, e.target): e.role for e in both.edges}
    assert roles["in_review", "expired"] is EdgeRole.COVERED_TIMEOUT
    assert roles["in_review", "rejected"] is EdgeRole.UNCOVERED
    submit = next(e for e in both.edges if e.target == "in_review")
    assert submit.role is EdgeRole.GUARD_GAP
    assert "[document_exists D1] never refused" in submit.lines


def test_overlay_keeps_the_diagram_shape(ticket: Path) -> None:
    diagram = coverage_diagram(run_suite([ticket / "close.yaml"]), "ticket")
    cov = run_suite([ticket / "close.yaml"]).workflows["ticket"]
    plain = workflow_diagram(cov.workflow)
    assert [(e.source, e.target, e.index) for e in diagram.edges] == [
        (e.source, e.target, e.index) for e in plain.edges
    ]
    assert [n.id for n in diagram.nodes] == [n.id for n in plain.nodes]
    assert diagram.clusters == plain.clusters
    assert not diagram.traced


def test_cli_writes_deterministic_escaped_diagrams(
    ticket: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "drawn"
    assert main(["coverage", str(ticket / "close.yaml"), "--diagrams", str(out)]) == 0
    assert f"wrote 2 coverage diagram file(s) to {out}" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["ticket.dot", "ticket.svg"]
    dot = (out / "ticket.dot").read_text(encoding="utf-8")
    svg = (out / "ticket.svg").read_bytes()
    assert "not covered: drop" in dot
    # text from the workflow goes through the renderer's escaping (the guard message is in a
    # quoted tooltip: `&` escaped there, markup characters escaped in the SVG)
    assert "A ticket needs a <title> &amp; more." in dot
    assert b"A ticket needs a &lt;title&gt; &amp; more." in svg
    assert b"not covered: drop" in svg
    assert not re.search(rb"Generated by graphviz version", svg)

    again = tmp_path / "again"
    assert main(["coverage", str(ticket / "close.yaml"), "--diagrams", str(again)]) == 0
    for name in ("ticket.dot", "ticket.svg"):
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_cli_without_diagrams_writes_none(ticket: Path, tmp_path: Path) -> None:
    assert main(["coverage", str(ticket)]) == 0
    assert not any(p.suffix in {".svg", ".dot"} for p in tmp_path.rglob("*"))
