"""A diagram drawn over with what the scenarios covered, for `linkflow coverage` and the studio.

The overlay takes a finished diagram and returns it restyled, so the plain drawing is decided
once (linkflow.output.diagram) and the overlay only says what stands out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from linkflow.language.model import Workflow, active_leaves
from linkflow.output.diagram_model import Diagram, Edge, EdgeRole
from linkflow.output.diagram_text import guard_words

if TYPE_CHECKING:
    from linkflow.analysis.coverage import WorkflowCoverage

# -- coverage overlay -------------------------------------------------------------------------

#: How a covered edge is drawn in a coverage diagram: its usual role, faded.
_COVERED_ROLES = {
    EdgeRole.STEP: EdgeRole.COVERED,
    EdgeRole.TIMEOUT: EdgeRole.COVERED_TIMEOUT,
    EdgeRole.ANY: EdgeRole.COVERED_ANY,
}


def _guard_gap(seen: frozenset[bool]) -> str:
    """What is missing of a guard use's two outcomes (held True, refused False)."""
    if not seen:
        return "never checked"
    return "never refused" if False not in seen else "never held" if True not in seen else ""


def overlay_coverage(workflow: Workflow, diagram: Diagram, coverage: WorkflowCoverage) -> Diagram:
    """The diagram with what the scenarios did not exercise drawn so that it stands out.

    A transition no scenario took is red and dashed, its label starting "not covered"; a
    guard use whose refusal (or holding) was never seen has "never refused" (or "never held",
    or "never checked" for neither) after it on its edge, drawn orange when the transition was
    taken; everything covered is drawn faded. States no scenario visited say "not visited".
    The title carries the counts. Edges keep their order, so the output is deterministic.
    Edges are matched to `workflow.transitions` positions (the keys `coverage` uses): a
    declared transition by its index, a timeout by its source and target.
    """
    taken = set(range(len(workflow.transitions))) - set(coverage.uncovered_transitions)
    seen = {
        (number, use.label): frozenset(coverage.guards.get((number, use.label), ()))
        for number, t in enumerate(workflow.transitions)
        for use in t.guards
    }
    unvisited = set(coverage.uncovered_states)
    if workflow.unjoined is not None:
        # the diagram draws a parallel state's regions: a leaf is unvisited when every
        # configuration it is in is
        unvisited |= {
            leaf
            for leaf in workflow.region_leaves
            if all(s in unvisited for s in workflow.states if leaf in active_leaves(s))
        }
        workflow = workflow.unjoined  # the same transitions, at the same positions, as written
    edges = [_covered_edge(workflow, edge, taken, seen) for edge in diagram.edges]
    nodes = tuple(
        replace(n, lines=(*n.lines, "not visited")) if n.id in unvisited else n
        for n in diagram.nodes
    )
    counts = coverage.counts()
    numbers = ", ".join(
        f"{words} {counts[kind][0]}/{counts[kind][1]}"
        for kind, words in (
            ("transitions", "transitions"),
            ("guard_outcomes", "guard outcomes"),
            ("states", "states"),
        )
    )
    legend = [
        words
        for role, words in (
            (EdgeRole.UNCOVERED, "red dashed: not covered"),
            (EdgeRole.GUARD_GAP, "orange: guard outcome never seen"),
            (EdgeRole.COVERED, "grey: covered"),
        )
        if any(e.role is role for e in edges)
    ]
    title = " · ".join([f"{diagram.title} · coverage: {numbers}", *legend])
    tooltip = f"Coverage by the scenarios: {numbers}.\n{diagram.tooltip}"
    return replace(diagram, title=title, tooltip=tooltip, nodes=nodes, edges=tuple(edges))


def _edge_position(workflow: Workflow, edge: Edge) -> int:
    """The position in `workflow.transitions` of the transition `edge` draws, or -1."""
    if edge.role is EdgeRole.START:
        return -1
    for number, transition in enumerate(workflow.transitions):
        if transition.is_timeout:
            if edge.role is EdgeRole.TIMEOUT and (edge.source, edge.target) == (
                transition.sources[0],
                transition.target,
            ):
                return number
        elif edge.index == transition.index:
            return number
    return -1


def _covered_edge(
    workflow: Workflow,
    edge: Edge,
    taken: set[int],
    seen: Mapping[tuple[int, str], frozenset[bool]],
) -> Edge:
    number = _edge_position(workflow, edge)
    if number < 0:
        return edge
    transition = workflow.transitions[number]
    lines = list(edge.lines)
    notes: list[str] = []
    for use, word in zip(transition.guards, guard_words(transition), strict=True):
        gap = _guard_gap(seen.get((number, use.label), frozenset()))
        if not gap:
            continue
        notes.append(f"Guard {use.label}: {gap}")
        line = f"[{word}]"
        if line in lines:
            lines[lines.index(line)] = f"{line} {gap}"
    if number not in taken:
        tooltip = "\n".join(["Not covered: no scenario takes this transition", *notes])
        return replace(
            edge,
            title=f"not covered: {edge.title}",
            lines=tuple(lines),
            role=EdgeRole.UNCOVERED,
            tooltip=f"{tooltip}\n{edge.tooltip}",
        )
    if notes:
        return replace(
            edge,
            lines=tuple(lines),
            role=EdgeRole.GUARD_GAP,
            tooltip="\n".join([*notes, edge.tooltip]),
        )
    return replace(edge, role=_COVERED_ROLES.get(edge.role, edge.role))
