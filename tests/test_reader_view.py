"""The reader view: button and step words, a legend, readable text, a narrow entry picture."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import pytest

from linkflow.language.loader import load
from linkflow.language.model import Workflow
from linkflow.output.diagram_model import EdgeRole, Role, View
from linkflow.output.graphviz import to_dot
from linkflow.output.mermaid import to_mermaid
from linkflow.output.reader import reader_diagram

ROOT = Path(__file__).resolve().parent.parent
#: 1280 px at 96 dpi, in the points an SVG's width is written in (a 16:9 slide).
MAX_WIDTH_PT = 1280 * 72 / 96


@pytest.fixture(scope="module")
def domain() -> Mapping[str, Workflow]:
    result = load([ROOT / "workflows"], kinds=["workflow"])
    assert result.ok, result.problems
    return result.workflows


def test_reader_nodes_and_edges_use_words_not_ids(domain: Mapping[str, Workflow]) -> None:
    for workflow in domain.values():
        diagram = reader_diagram(workflow)
        assert diagram.view is View.READER
        titles = [n.title for n in diagram.nodes if n.role is not Role.START]
        titles += [e.title for e in diagram.edges if e.title]
        for title in titles:
            assert "_" not in title, (workflow.name, title)
            assert "[" not in title, (workflow.name, title)
            assert "/ " not in title, (workflow.name, title)
        assert all(not e.lines or e.lines == ("assumed",) for e in diagram.edges)


def test_the_entry_flow_keeps_the_articles_order_of_options(
    domain: Mapping[str, Workflow],
) -> None:
    diagram = reader_diagram(domain["link_tiktok_account"])
    assert diagram.direction == "TB"
    order = [n.title for n in diagram.nodes]
    wanted = [
        "Linking existing TikTok account",
        "Method L1: select accounts, then Confirm",
        "Log in to an existing TikTok account",
        "Link with QR code",
        "Create new TikTok account",
        "Create Organization-owned TikTok account (verified Business Centers only)",
        "Sign up for a new TikTok account",
    ]
    assert [t for t in order if t in wanted] == wanted
    # closing works at any step: one sentence, not an edge from every step
    assert diagram.notes[0] == "Close at any step: dialog closed, nothing changed."
    assert not any(e.title == "Close" for e in diagram.edges)
    assert "Dialog closed, nothing changed" not in order


def test_l1_has_one_confirm(domain: Mapping[str, Workflow]) -> None:
    entry = reader_diagram(domain["link_tiktok_account"])
    method = reader_diagram(domain["link_from_bc"])
    into_l1 = [e for e in entry.edges if e.target == "from_bc_chosen"]
    # drawn from each of the three steps it can be picked at, labelled once
    assert {e.source for e in into_l1} == {
        "link_existing.options",
        "link_existing.login_chosen",
        "link_existing.qr_chosen",
    }
    assert [e.title for e in into_l1 if e.title] == ["Select from your Business Center"]
    assert [e.title for e in method.edges].count("Confirm") == 1


def test_assumptions_are_said_in_words(domain: Mapping[str, Workflow]) -> None:
    login = reader_diagram(domain["link_login"])
    timeouts = [e for e in login.edges if e.title.startswith("no answer for 15 min")]
    assert len(timeouts) == 2
    assert all(e.role is EdgeRole.ASSUMED and e.lines == ("assumed",) for e in timeouts)
    assert any(n.startswith("Assumed (not in the source): A wrong username") for n in login.notes)
    assert "assumed: not in the source" in [item.words for item in login.legend]
    entry = reader_diagram(domain["link_tiktok_account"])
    (back,) = [e for e in entry.edges if e.title == "Back"]
    assert back.role is EdgeRole.ASSUMED


def test_the_legend_names_every_colour_used(domain: Mapping[str, Workflow]) -> None:
    for workflow in domain.values():
        diagram = reader_diagram(workflow)
        shown = {item.role for item in diagram.legend if item.role is not None}
        used = {n.role for n in diagram.nodes} - {Role.START}
        assert used == shown, workflow.name


def test_reader_text_is_at_least_11_points(domain: Mapping[str, Workflow]) -> None:
    for workflow in domain.values():
        dot = to_dot(reader_diagram(workflow))
        sizes = [int(s) for s in re.findall(r'POINT-SIZE="(\d+)"', dot)]
        sizes += [int(s) for s in re.findall(r"fontsize=(\d+)", dot)]
        assert sizes, workflow.name
        assert min(sizes) >= 11, workflow.name


def test_the_mermaid_reader_view_has_the_legend_and_wrapped_titles(
    domain: Mapping[str, Workflow],
) -> None:
    text = to_mermaid(reader_diagram(domain["link_qr"]))
    assert 'subgraph legend["Legend"]' in text
    assert "classDef assumed" in text
    assert "QR code shown" in text
    assert "Linked; the page<br/>still shows the old<br/>list" in text


def _width_pt(svg: Path) -> float:
    width = ET.fromstring(svg.read_bytes()).get("width", "")
    assert width.endswith("pt"), width
    return float(width[:-2])


def test_the_committed_entry_picture_fits_a_slide() -> None:
    assert _width_pt(ROOT / "diagrams" / "link_tiktok_account.reader.svg") <= MAX_WIDTH_PT


def test_every_committed_reader_picture_is_at_most_1280_px_wide() -> None:
    pictures = sorted((ROOT / "diagrams").glob("*.reader.svg"))
    assert len(pictures) >= 6
    for svg in pictures:
        assert _width_pt(svg) * 96 / 72 <= 1280, svg.name


def test_a_move_from_several_steps_is_drawn_from_each(domain: Mapping[str, Workflow]) -> None:
    for name in ("link_login", "create_signup"):
        diagram = reader_diagram(domain[name])
        workflow = domain[name]
        (close,) = [t for t in workflow.transitions if t.event == "cancel"]
        drawn = {e.source for e in diagram.edges if e.target == close.target}
        assert drawn == set(close.sources), name
        assert all(e.title == "Close" for e in diagram.edges if e.target == close.target)
    # a move from many steps leaves a box drawn around all of them
    entry = reader_diagram(domain["link_tiktok_account"])
    (back,) = [e for e in entry.edges if e.title == "Back"]
    (box,) = [c for c in entry.clusters if c.id == back.from_cluster]
    inside = {n.id for n in entry.nodes if n.cluster == box.id}
    (move,) = [t for t in domain["link_tiktok_account"].transitions if t.event == "back"]
    assert inside == set(move.sources)
    assert box.title == "Back: from any step in this box"


def test_hand_offs_waits_and_endings_are_styled_by_what_they_are(
    domain: Mapping[str, Workflow],
) -> None:
    entry = reader_diagram(domain["link_tiktok_account"])
    handoffs = {n.id for n in entry.nodes if n.role is Role.HANDOFF}
    assert handoffs == {s.name for s in domain["link_tiktok_account"].states.values() if s.handoff}
    assert Role.COMPLETED not in {n.role for n in entry.nodes}
    # windows the person fills in are not waits for someone else
    login = reader_diagram(domain["link_login"])
    roles = {n.id: n.role for n in login.nodes}
    assert roles["login_window"] is Role.WINDOW
    assert roles["authorizing"] is Role.WINDOW
    words = {item.role: item.words for item in login.legend if item.role is not None}
    assert Role.WAITING not in words
    assert "someone else" not in words[Role.WINDOW]
    assert "outside" not in words[Role.WINDOW]
    assert words[Role.COMPLETED] == "done"
    # a QR code someone else scans is
    qr = reader_diagram(domain["link_qr"])
    assert {n.id: n.role for n in qr.nodes}["qr_shown"] is Role.WAITING
    words = {item.role: item.words for item in qr.legend if item.role is not None}
    assert "someone else" in words[Role.WAITING]
    assert Role.WINDOW not in words
    # a wait is `by: actor` only where the workflow says so
    for workflow in domain.values():
        for state in workflow.states.values():
            node = next((n for n in reader_diagram(workflow).nodes if n.id == state.name), None)
            if node is not None and state.waiting is not None:
                expected = Role.WINDOW if state.waiting.by_actor else Role.WAITING
                assert node.role is expected, (workflow.name, state.name)


def test_the_legend_shows_only_what_is_drawn(domain: Mapping[str, Workflow]) -> None:
    for workflow in domain.values():
        diagram = reader_diagram(workflow)
        drawn = {e.role for e in diagram.edges}
        for item in diagram.legend:
            if item.edge is not None:
                assert item.edge in drawn, (workflow.name, item.words)
        doubled = any(
            n.role
            in {
                Role.COMPLETED,
                Role.CANCELLED,
                Role.DECLINED,
                Role.TIMED_OUT,
                Role.REFUSED,
                Role.FAILED,
            }
            for n in diagram.nodes
        )
        has_double_item = any(i.words.startswith("double border") for i in diagram.legend)
        assert has_double_item == doubled, workflow.name


def test_no_static_picture_points_to_a_tooltip() -> None:
    for path in sorted((ROOT / "diagrams").glob("*")):
        if path.suffix in {".svg", ".dot", ".mmd"}:
            assert "see tooltip" not in path.read_text(encoding="utf-8"), path


def _render(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linkflow", "render", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_render_view_chooses_the_files_and_check_covers_both(tmp_path: Path) -> None:
    workflows = str(ROOT / "workflows")
    reader = tmp_path / "reader"
    result = _render(
        workflows, "--view", "reader", "--format", "dot", "--out", str(reader), cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in reader.iterdir())[:2] == [
        "create_org_account.reader.dot",
        "create_signup.reader.dot",
    ]
    assert all(p.name.endswith(".reader.dot") for p in reader.iterdir())
    engineer = tmp_path / "engineer"
    result = _render(
        workflows, "--view", "engineer", "--format", "dot", "--out", str(engineer), cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert not any(".reader." in p.name for p in engineer.iterdir())
    assert (engineer / "overview.dot").is_file()
    both = tmp_path / "both"
    assert _render(workflows, "--format", "dot", "--out", str(both), cwd=ROOT).returncode == 0
    (both / "link_qr.reader.dot").write_text("digraph x {}\n", encoding="utf-8")
    result = _render(workflows, "--format", "dot", "--out", str(both), "--check", cwd=ROOT)
    assert result.returncode == 1
    assert f"stale: {both / 'link_qr.reader.dot'}" in result.stderr


def test_a_state_that_calls_a_service_waits_and_its_answers_are_words() -> None:
    """An invoking state is drawn as a wait (the service answers, not the person); the
    invoke's answer events read as what happened, not as event ids."""
    example = ROOT / "examples" / "supplier_order"
    result = load([example / "supplier_order.yaml"], kinds=["workflow"])
    assert result.ok, result.problems
    diagram = reader_diagram(result.workflows["supplier_order"])
    roles = {n.id: n.role for n in diagram.nodes}
    assert roles["reserving"] is Role.WAITING
    assert roles["draft"] is Role.STATE
    titles = {(e.source, e.target): e.title for e in diagram.edges}
    assert titles[("reserving", "reserved")] == "Reserve answered"
    assert titles[("reserving", "unavailable")] == "Reserve failed"
    legend = [item.words for item in diagram.legend]
    assert "waiting for someone else to answer (dashed border)" in legend
