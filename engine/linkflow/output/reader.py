"""The reader view of a workflow: what a person sees and does, for people learning the flow.

Drawn from the same workflow as the engineer view (linkflow.output.diagram), with less on it:
- nodes carry the state's `label` (else its step, else its name in words); no ids, no rule ids;
- edges carry the event's `label` (the button a person clicks), no guards and no actions; an
  edge whose words would repeat the node it leads to is left bare;
- a transition from two states is drawn from each of them; one from three or more is drawn
  from a box around them (the box says so), so every step it can be taken from shows it; one
  from every state (`*`, typically closing) is a sentence under the
  title instead of an edge;
- a state that hands over to another workflow is drawn as a hand-off (white, bold border), not
  as an ending; a wait has a dashed border: in a step's colours when the person answers it in
  a window the flow opened (`waiting.by: actor`), in amber when someone else answers;
- waits that run out say after how long; what the source does not say (`assumption:`) is drawn
  dashed purple and the legend says so;
- a legend names the colours, shapes and arrow styles the picture uses, and nothing else;
- the picture is drawn top to bottom, so branches sit side by side and it stays narrow enough
  to read on a page (at most `READER_MAX_PX` wide; tests check every committed one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from linkflow.language.durations import duration
from linkflow.language.graph import is_from_any, walking_order
from linkflow.language.model import (
    DONE_EVENT_PREFIX,
    State,
    Transition,
    Workflow,
    active_leaves,
    parent_of,
)
from linkflow.output.diagram import GROUP_MIN_SOURCES, SourceGroup, source_groups, state_node
from linkflow.output.diagram_model import (
    ANY_STEP,
    NODE_STYLES,
    START,
    Cluster,
    Diagram,
    Edge,
    EdgeRole,
    LegendItem,
    Node,
    Role,
    View,
)
from linkflow.output.diagram_text import state_tooltip, transition_tooltip

#: Label width for the reader view (characters per line).
READER_WIDTH = 20
#: The widest a rendered reader picture may be, in pixels (checked by the tests).
READER_MAX_PX = 1280

_ROLE_WORDS = {
    Role.STATE: "a step the person takes",
    Role.WINDOW: "a window the person fills in; the flow waits for it (dashed border)",
    Role.WAITING: "waiting for someone else to answer (dashed border)",
    Role.HANDOFF: "goes on in another flow (see its page)",
    Role.COMPLETED: "done",
    Role.CANCELLED: "closed before the end: nothing changes",
    Role.REFUSED: "refused: a step was blocked",
    Role.DECLINED: "declined: someone said no",
    Role.FAILED: "failed",
    Role.TIMED_OUT: "timed out: nobody answered in time",
}
_HANDOFF_WORDS = "goes on: see its page"


def words(name: str) -> str:
    """An identifier as words: `choose_log_in` -> `Choose log in`."""
    return name.replace("_", " ").capitalize()


def state_words(state: State) -> str:
    # a nested state by its own name: the box around it names its compound state
    return state.label or state.step or words(state.name.rpartition(".")[2])


def _answer_words(workflow: Workflow, event: str) -> str:
    """An invoke's answer in words ("Reserve answered", "Reserve failed"), or "" when `event`
    answers no invoke of the workflow: nobody sends it, the called service does."""
    name, _, outcome = event.rpartition(".")
    if outcome not in ("done", "failed") or not any(
        spec.name == name for spec in workflow.invokes.values()
    ):
        return ""
    return f"{words(name)} {'answered' if outcome == 'done' else 'failed'}"


def event_words(workflow: Workflow, transition: Transition) -> str:
    if transition.event.startswith(DONE_EVENT_PREFIX):  # nobody sends it: it happens
        return f"when {words(transition.event.rpartition('.')[2])} is done"
    answer = _answer_words(workflow, transition.event)
    if answer:
        return answer
    event = workflow.events.get(transition.event)
    return event.label if event is not None and event.label else words(transition.event)


def _edge_title(workflow: Workflow, transition: Transition) -> str:
    if transition.is_timeout:
        state = workflow.states[transition.sources[0]]
        timeout = state.waiting.timeout if state.waiting else None
        return f"no answer for {duration(timeout.seconds)}" if timeout else "no answer"
    return event_words(workflow, transition)


def _nodes(workflow: Workflow, order: Sequence[str], groups: list[SourceGroup]) -> list[Node]:
    nodes = [Node(START, "", Role.START, tooltip="starts here")]
    for name in order:
        state = workflow.states[name]
        extra = (_HANDOFF_WORDS,) if state.handoff else ()
        role = Role.HANDOFF if state.handoff else state_node(workflow, state).role
        if state.waiting is not None and state.waiting.by_actor:
            role = Role.WINDOW
        elif role is Role.STATE and name in workflow.invokes:
            role = Role.WAITING  # a service answers, not the person
        inside = [g for g in groups if name in g.members]
        cluster = min(inside, key=lambda g: len(g.members)).id if inside else ""
        nodes.append(Node(name, state_words(state), role, extra, state_tooltip(state), cluster))
    return nodes


def _sources(
    transition: Transition, position: dict[str, int], group: SourceGroup | None
) -> tuple[list[str], str]:
    """The states a move is drawn from, and the box it leaves ("" for none).

    Every source, in walking order; for a move grouped in a box, one edge leaving the box (or,
    when it leads into the box, from the box's first other state)."""
    walked = sorted(transition.sources, key=lambda s: position[s])
    if group is None:
        return walked, ""
    if transition.target in group.members:
        return [next(s for s in walked if s != transition.target)], ""
    before = position[transition.target] < position[walked[0]]
    return [walked[0] if before else walked[-1]], group.id


def _edges(
    workflow: Workflow,
    transition: Transition,
    sources: tuple[list[str], str],
    target_title: str,
) -> list[Edge]:
    title = _edge_title(workflow, transition)
    role = EdgeRole.TIMEOUT if transition.is_timeout else EdgeRole.STEP
    lines: tuple[str, ...] = ()
    if transition.assumption:
        lines = ("assumed",)
        role = EdgeRole.ASSUMED
    shown = "" if title == target_title else title
    walked, box = sources
    edges: list[Edge] = []
    for number, source in enumerate(walked):
        if source == transition.target:
            continue  # picking again what is already picked is no move
        # the same move drawn again from a further source: it does not shape the layout, and
        # from three or more sources only its first edge is labelled (they meet at one box)
        again = number > 0
        edges.append(
            Edge(
                source,
                transition.target,
                "" if again and len(walked) >= GROUP_MIN_SOURCES else shown,
                role,
                lines,
                transition_tooltip(transition),
                from_cluster=box,
                index=transition.index,
                shapes_layout=not again,
            )
        )
    return edges


def _legend(nodes: list[Node], edges: list[Edge]) -> list[LegendItem]:
    """What the picture draws, and nothing else."""
    used = {n.role for n in nodes}
    legend = [LegendItem(_ROLE_WORDS[r], role=r) for r in _ROLE_WORDS if r in used]
    if any(NODE_STYLES[r].double for r in used):
        legend.append(LegendItem("double border: the flow ends there"))
    drawn = {e.role for e in edges}
    if EdgeRole.TIMEOUT in drawn:
        legend.append(LegendItem("a wait that runs out", edge=EdgeRole.TIMEOUT))
    if EdgeRole.ASSUMED in drawn:
        legend.append(LegendItem("assumed: not in the source", edge=EdgeRole.ASSUMED))
    return legend


def _assumed_notes(workflow: Workflow, order: Sequence[str]) -> list[str]:
    """What the source does not say, besides the moves drawn as assumed: in words."""
    texts = [workflow.states[n].assumption for n in order if workflow.states[n].assumption]
    texts += [g.assumption for g in workflow.guards.values() if g.assumption]
    return [f"Assumed (not in the source): {text.strip()}" for text in dict.fromkeys(texts)]


def _clusters(workflow: Workflow, groups: list[SourceGroup]) -> list[Cluster]:
    clusters = []
    for group in groups:
        moves = sorted({_edge_title(workflow, t) for t in group.transitions})
        title = f"{', '.join(moves)}: from any step in this box"
        compound = workflow.compounds.get(group.compound)
        if compound is not None and parent_of(compound.name) in workflow.compounds:
            around = workflow.compounds[parent_of(compound.name)]
            if around.parallel:  # a region: what it is, and that it runs beside the others
                name = compound.label or words(compound.name.rpartition(".")[2])
                title = f"{name}: at the same time as the other parts"
                if moves:
                    title += "; " + ", ".join(moves)
        parent = group.parent if group.parent != ANY_STEP else ""
        clusters.append(Cluster(group.id, title, title, parent))
    return clusters


def reader_diagram(workflow: Workflow) -> Diagram:
    """The reader view of one workflow (a parallel state's regions as written)."""
    starts = active_leaves(workflow.initial)  # a parallel state: each region's first state
    workflow = workflow.unjoined or workflow
    order = walking_order(workflow)
    position = {name: i for i, name in enumerate(order)}
    # boxes only for the outermost sets of sources (nested boxes push the picture wide), and
    # one per region of a parallel state (its parts go on at the same time)
    regions = {f"{c.name}.{r}" for c in workflow.parallel for r in c.children}
    groups = [
        g
        for g in source_groups(workflow)
        if g.id != ANY_STEP and (g.parent in ("", ANY_STEP) or g.compound in regions)
    ]
    group_of = {t.index: g for g in groups for t in g.transitions}
    nodes = _nodes(workflow, order, groups)
    titles = {n.id: n.title for n in nodes}
    edges = [Edge(START, leaf, "", EdgeRole.START) for leaf in starts]
    notes: list[str] = []
    ordered = sorted(
        workflow.transitions,
        key=lambda t: (min(position[s] for s in t.sources), t.is_timeout, t.index),
    )
    for transition in ordered:
        if is_from_any(workflow, transition):
            target = titles[transition.target]
            title = _edge_title(workflow, transition)
            notes.append(f"{title} at any step: {target[0].lower()}{target[1:]}.")
            continue
        sources = _sources(transition, position, group_of.get(transition.index))
        edges += _edges(workflow, transition, sources, titles[transition.target])
    # one event leading to several places (a pick from a list): the places say which
    titled: dict[tuple[str, str], int] = {}
    for edge in edges:
        titled[(edge.source, edge.title)] = titled.get((edge.source, edge.title), 0) + 1
    edges = [
        replace(e, title="") if e.title and titled[(e.source, e.title)] > 1 else e for e in edges
    ]
    notes += _assumed_notes(workflow, order)
    linked = {e.source for e in edges} | {e.target for e in edges}
    nodes = [n for n in nodes if n.id in linked]
    return Diagram(
        f"{workflow.name}.reader",
        workflow.title or words(workflow.name),
        workflow.description.strip() or workflow.title or workflow.name,
        tuple(nodes),
        tuple(edges),
        tuple(_clusters(workflow, groups)),
        direction="TB",
        view=View.READER,
        max_width_pt=READER_MAX_PX * 0.75,
        legend=tuple(_legend(nodes, edges)),
        notes=tuple(notes),
    )


__all__ = ["READER_MAX_PX", "READER_WIDTH", "event_words", "reader_diagram", "state_words", "words"]
