"""Diagrams: escaping of hostile text, determinism, the stale check, traces, Mermaid shape."""

from __future__ import annotations

import argparse
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from linkflow.cli.commands.render import run as render_run
from linkflow.language.graph import walking_order
from linkflow.language.loader import load, load_workflow
from linkflow.language.model import Workflow
from linkflow.output.diagram import TraceStep, overview_diagram, workflow_diagram
from linkflow.output.diagram_model import ANY_STEP, EdgeRole, Role
from linkflow.output.files import diagram_files
from linkflow.output.graphviz import render, to_dot
from linkflow.output.mermaid import to_mermaid

HOSTILE = """\
workflow: hostile
title: 'Evil "title" <script>alert(1)</script> & co'
description: '<a href="javascript:alert(1)">click</a> \\" \\\\ ]]> <!-- -->'
initial: start
states:
  start:
    description: 'He said "hi" <b>bold</b> & <img src=x onerror=alert(1)> \\N \\G'
    step: 'javascript:alert(document.cookie)'
  waiting:
    description: "<script>alert('x')</script>"
    waiting:
      for: 'the <i>reviewer</i> & "friends" \\l'
      timeout: {seconds: 3600, to: late, description: 'late <svg onload=alert(1)>'}
  done: {final: completed, description: '&lt;already escaped&gt; &amp;'}
  late: {final: timed_out}
  stopped: {final: cancelled}
events:
  go: {description: '"quoted" <event>'}
  stop: {}
guards:
  ok:
    rule: R1
    when: "true"
    message: 'Refused: <b>no</b> & "never" | pipe'
    description: '<script>guard</script>'
transitions:
  - event: go
    from: start
    to: waiting
    guards: [ok]
    description: 'Go on <a href="javascript:void(0)">now</a> & "later"'
  - event: go
    from: waiting
    to: done
    description: '{{ template }} <> \\\\ "'
  - event: stop
    from: "*"
    to: stopped
    description: "<style>*{display:none}</style>"
"""


@pytest.fixture
def example(root: Path) -> Workflow:
    return load_workflow(root / "examples" / "document_review.yaml")


@pytest.fixture
def hostile(tmp_path: Path) -> Workflow:
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    return load_workflow(path)


def _svg_texts(svg: bytes) -> tuple[ET.Element, list[str]]:
    tree = ET.fromstring(svg)
    texts = ["".join(e.itertext()) for e in tree.iter() if e.tag.endswith("text")]
    return tree, texts


def test_hostile_text_never_breaks_dot_nor_becomes_markup(hostile: Workflow) -> None:
    svg = render(workflow_diagram(hostile), "svg")
    tree, texts = _svg_texts(svg)  # parses: the SVG is well-formed XML
    tags = {e.tag.rsplit("}", 1)[-1] for e in tree.iter()}
    assert not tags & {"script", "img", "style", "b", "i", "iframe", "foreignObject"}
    for element in tree.iter():
        for name, value in element.attrib.items():
            assert not name.endswith("href"), (name, value)
            assert not name.lower().startswith("on"), (name, value)
    assert b"<script" not in svg
    for element in tree.iter():
        for name, value in element.attrib.items():
            if not name.endswith("title"):  # a tooltip may say it; nothing else may
                assert "javascript:" not in value, (name, value)
    # the hostile text is there, shown as text
    assert "waits for the <i>reviewer</i> &" in " ".join(texts)
    titles = [v for e in tree.iter() for k, v in e.attrib.items() if k.endswith("title")]
    assert any("javascript:alert(document.cookie)" in t for t in titles)
    assert any('Go on <a href="javascript:void(0)">now</a> & "later"' in t for t in titles)
    assert any("&lt;already escaped&gt; &amp;" in t for t in titles)
    assert any("\\N \\G" in t for t in titles)


def test_hostile_text_in_dot_is_quoted(hostile: Workflow) -> None:
    dot = to_dot(workflow_diagram(hostile))
    for line in dot.splitlines():
        # every double quote inside a string is escaped: quotes pair up on each line
        assert len(re.findall(r'(?<!\\)"', line)) % 2 == 0, line
    labels = re.findall(r"label=<(.*?)>[,\]]", dot)
    assert labels
    assert not any("<script" in lab or "<i>" in lab for lab in labels)
    assert "&lt;i&gt;reviewer&lt;/i&gt;" in dot  # escaped inside the HTML-like label
    # tooltips are quoted strings: a backslash is escaped, so `\N` cannot expand
    assert "\\\\\\\\N \\\\\\\\G" in dot


def test_hostile_text_in_png_renders(hostile: Workflow) -> None:
    assert render(workflow_diagram(hostile), "png").startswith(b"\x89PNG")


def test_hostile_text_in_mermaid_is_inert(hostile: Workflow) -> None:
    text = to_mermaid(workflow_diagram(hostile))
    assert "<script" not in text
    assert "<i>" not in text
    assert "<a " not in text
    assert "click " not in text
    assert "javascript:" not in text.replace("javascript:alert", "")
    for line in text.splitlines():
        if line.strip().startswith("%%"):
            continue
        assert line.count('"') % 2 == 0, line
    assert "the #lt;i#gt;reviewer#lt;/i#gt;" in text
    assert "#amp; #quot;friends#quot; #92;l" in text


@pytest.mark.parametrize("fmt", ["dot", "svg", "mermaid"])
def test_render_is_deterministic(example: Workflow, fmt: str) -> None:
    files = [diagram_files({example.name: example}, [fmt], overview=False) for _ in range(2)]
    assert files[0] == files[1]
    if fmt == "svg":
        (svg,) = files[0].values()
        assert b"Generated by graphviz version" not in svg


def test_diagram_shape_of_the_example(example: Workflow) -> None:
    diagram = workflow_diagram(example)
    roles = {n.id: n.role for n in diagram.nodes}
    assert roles["published"] is Role.COMPLETED
    assert roles["withdrawn"] is Role.CANCELLED
    assert roles["rejected"] is Role.REFUSED
    assert roles["expired"] is Role.TIMED_OUT
    assert roles["in_review"] is Role.WAITING
    assert walking_order(example)[:3] == ("draft", "in_review", "published")
    # `withdraw` from "*" is one edge leaving the "any step" box, not one per state
    withdraw = [e for e in diagram.edges if e.title == "withdraw"]
    assert len(withdraw) == 1
    assert withdraw[0].from_cluster == ANY_STEP
    assert withdraw[0].role is EdgeRole.ANY
    approve = next(e for e in diagram.edges if e.title == "approve")
    assert "[reviewer_is_not_author D2]" in approve.lines
    assert "/ add approvals" in approve.lines
    assert "published" in approve.tooltip
    timeout = next(e for e in diagram.edges if e.role is EdgeRole.TIMEOUT)
    assert timeout.title == "timeout after 24 h"


def test_dot_of_the_example(example: Workflow) -> None:
    dot = to_dot(workflow_diagram(example))
    assert "rankdir=LR" in dot
    assert 'subgraph "cluster_any_step"' in dot
    assert 'ltail="cluster_any_step"' in dot
    assert "peripheries=2" in dot
    assert "<B>submit</B>" in dot
    assert "[document_exists D1]" in dot


def test_mermaid_shape(example: Workflow) -> None:
    text = to_mermaid(workflow_diagram(example))
    lines = text.splitlines()
    assert lines[0].startswith("%% document_review: generated by")
    assert lines[1] == "flowchart LR"
    assert "  start__ --> s_draft" in lines
    assert any(line.startswith("  subgraph any_step[") for line in lines)
    assert '  s_draft -->|"<b>submit</b><br/>[document_exists D1]"| s_in_review' in lines
    assert any(line.startswith("  any_step -.->") and "s_withdrawn" in line for line in lines)
    assert any(line.startswith("  s_published([") and ":::completed" in line for line in lines)
    links = [line for line in lines if "-->" in line or "-.->" in line or "==>" in line]
    styles = [line for line in lines if line.startswith("  linkStyle ")]
    assert len(styles) == len(links)


def test_mermaid_ids_cannot_clash_with_keywords(tmp_path: Path) -> None:
    path = tmp_path / "k.yaml"
    path.write_text(
        "workflow: k\ninitial: graph\nstates:\n  graph: {}\n  end: {final: completed}\n"
        "events:\n  subgraph: {}\n"
        "transitions:\n  - {event: subgraph, from: graph, to: end}\n",
        encoding="utf-8",
    )
    text = to_mermaid(workflow_diagram(load_workflow(path)))
    assert "s_graph -->|" in text
    assert "| s_end" in text


def test_trace_highlights_and_numbers_taken_edges(example: Workflow) -> None:
    steps = [
        TraceStep("document_review", 0, "draft", "in_review"),
        TraceStep("document_review", 3, "in_review", "withdrawn"),
    ]
    diagram = workflow_diagram(example, steps)
    traced = {(e.source, e.target): e.order for e in diagram.edges if e.traced}
    assert traced[("draft", "in_review")] == (1,)
    # the step through `*` gets its own edge from the state it left
    assert traced[("in_review", "withdrawn")] == (2,)
    assert {n.id for n in diagram.nodes if n.traced} >= {"draft", "in_review", "withdrawn"}
    assert "published" not in {n.id for n in diagram.nodes if n.traced}
    dot = to_dot(diagram)
    highlighted = [line for line in dot.splitlines() if "penwidth=2.6" in line]
    assert any('"draft" -> "in_review"' in line and ">1.</FONT>" in line for line in highlighted)
    assert any(
        '"in_review" -> "withdrawn"' in line and ">2.</FONT>" in line for line in highlighted
    )
    assert not any('"in_review" -> "published"' in line for line in highlighted)
    assert "==>" in to_mermaid(diagram)


def test_trace_of_a_timeout_is_matched_by_source_and_target(example: Workflow) -> None:
    steps = [
        TraceStep("document_review", 0, "draft", "in_review"),
        TraceStep("document_review", -1, "in_review", "expired"),
    ]
    diagram = workflow_diagram(example, steps)
    timeout = next(e for e in diagram.edges if e.role is EdgeRole.TIMEOUT)
    assert timeout.order == (2,)


def _args(paths: list[str], out: Path, **extra: object) -> argparse.Namespace:
    values = {"paths": paths, "file_types": "svg,dot,mermaid", "out": str(out), "check": False}
    values["format"] = "text"
    values["view"] = "both"
    values.update({"trace": None, **extra})
    return argparse.Namespace(**values)


def test_check_names_stale_and_missing_files(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = str(root / "examples")
    out = tmp_path / "diagrams"
    assert render_run(_args([examples], out), io.StringIO()) == 0
    assert render_run(_args([examples], out, check=True), io.StringIO()) == 0
    (out / "document_review.dot").write_text("digraph changed {}\n", encoding="utf-8")
    (out / "document_review.mmd").unlink()
    (out / "old_workflow.svg").write_text("<svg/>", encoding="utf-8")
    capsys.readouterr()
    assert render_run(_args([examples], out, check=True), io.StringIO()) == 1
    err = capsys.readouterr().err
    assert f"stale: {out / 'document_review.dot'}" in err
    assert f"missing: {out / 'document_review.mmd'}" in err
    assert f"stale: {out / 'old_workflow.svg'}" in err
    assert "document_review.svg" not in err


def test_trace_command_runs_the_scenario(root: Path, tmp_path: Path) -> None:
    scenario = root / "examples" / "scenarios" / "document_review_publish.yaml"
    out = tmp_path / "diagrams"
    args = _args([str(root / "examples")], out, trace=str(scenario), file_types="dot")
    assert render_run(args, io.StringIO()) == 0
    (drawn,) = (out / "traces").rglob("document_review.dot")
    dot = drawn.read_text(encoding="utf-8")
    assert '"draft" -> "in_review"' in dot
    taken = [line for line in dot.splitlines() if "penwidth=2.6" in line]
    assert any('"in_review" -> "published"' in line for line in taken)


def test_overview_links_workflows_by_handoff(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "workflow: a\ntitle: First\ninitial: s\nstates:\n  s: {}\n"
        "  handing: {final: completed, handoff: b}\n  stop: {final: cancelled}\n"
        "events:\n  go: {}\n  quit: {}\n"
        "transitions:\n  - {event: go, from: s, to: handing}\n"
        "  - {event: quit, from: s, to: stop}\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yaml").write_text(
        "workflow: b\ninitial: s\nstates:\n  s: {}\n  ok: {final: completed}\nevents:\n  go: {}\n"
        "transitions:\n  - {event: go, from: s, to: ok}\n",
        encoding="utf-8",
    )
    result = load([tmp_path], kinds=["workflow"])
    assert result.ok, result.problems
    diagram = overview_diagram(result.workflows)
    assert [n.id for n in diagram.nodes] == ["__start__", "a", "b"]
    handoff = next(e for e in diagram.edges if e.role is EdgeRole.HANDOFF)
    assert (handoff.source, handoff.target, handoff.title) == ("a", "b", "handing")
    assert next(n for n in diagram.nodes if n.id == "a").role is Role.ENTRY
