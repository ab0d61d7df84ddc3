"""A workflow as a small diagram description, which the Graphviz and Mermaid renderers draw.

Everything a reader sees is decided once, for both renderers: which nodes and edges exist
(here), their short labels and the long texts that go to tooltips (linkflow.output.diagram_text),
the style of each role (linkflow.output.diagram_model), and the order things are declared in,
the order a person walks the flow (linkflow.language.graph). The renderers only translate and
escape. A traced path is drawn here too, since a diagram is built with its trace.

Legibility choices:
- A start dot points at the initial state; final states are double-bordered and coloured by
  outcome (completed green, cancelled grey, refused red, failed purple, timed out amber);
  waiting states are dashed and amber with "waits for ..." under the name.
- A transition from `"*"` (every non-final state, typically cancel) is not drawn from every
  state: the non-final states sit in one dotted box labelled "any step", and one thin grey
  dashed edge leaves that box.
- Timeouts are dashed amber edges labelled with the wait ("timeout after 24 h").
- Long texts (step wording, descriptions, guard messages, action values) are tooltips only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from linkflow.language.durations import duration
from linkflow.language.graph import entry_workflows, handoff_order, is_from_any, walking_order
from linkflow.language.model import (
    DONE_EVENT_PREFIX,
    Action,
    State,
    Transition,
    Workflow,
    active_leaves,
)
from linkflow.output.diagram_model import (
    ANY_STEP,
    OUTCOME_ROLES,
    START,
    Cluster,
    Diagram,
    Edge,
    EdgeRole,
    Node,
    Role,
)
from linkflow.output.diagram_text import (
    OUTCOME_WORDS,
    action_short,
    guard_words,
    state_tooltip,
    transition_tooltip,
    wrap,
)


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One taken transition: (workflow name, transition index, from, to); -1 for timeouts."""

    workflow: str
    index: int
    source: str
    target: str


# -- one workflow -----------------------------------------------------------------------------


def state_node(workflow: Workflow, state: State, cluster: str = "") -> Node:
    lines: list[str] = []
    if state.final is not None:
        role = OUTCOME_ROLES[state.final]
        lines.append(OUTCOME_WORDS[state.final])
        if state.handoff:
            lines.append(f"→ {state.handoff}")
    elif state.waiting is not None:
        role = Role.WAITING
        lines.extend(wrap(f"waits for {state.waiting.awaits}"))
    else:
        role = Role.STATE
    if state.rule:
        lines.append(state.rule)
    lines.extend(entry_exit_lines(state.entry, state.exit))
    return Node(state.name, state.name, role, tuple(lines), state_tooltip(state), cluster)


#: A transition with at least this many sources is drawn once, from a box around them.
GROUP_MIN_SOURCES = 3


@dataclass(frozen=True, slots=True)
class SourceGroup:
    """States that several transitions all leave from: drawn as one box, edges leave it."""

    id: str
    members: frozenset[str]
    parent: str
    transitions: tuple[Transition, ...]
    #: The compound state the box stands for ("" for a box of a transition's sources).
    compound: str = ""
    #: Its entry and exit actions, in words.
    notes: tuple[str, ...] = ()


def source_groups(workflow: Workflow) -> tuple[SourceGroup, ...]:
    """Boxes for transitions with many sources (`from: "*"` first), biggest first.

    A set of sources becomes a box only if it nests with the boxes already chosen (inside
    one, or apart from it), since Graphviz clusters must nest; other transitions with many
    sources are drawn from each source.
    """
    groups: list[SourceGroup] = list(_compound_groups(workflow))
    declared_on_compound = {t.index for g in groups for t in g.transitions}
    sets: dict[frozenset[str], list[Transition]] = {}
    for transition in workflow.transitions:
        if transition.is_timeout or transition.index in declared_on_compound:
            continue
        if len(transition.sources) < GROUP_MIN_SOURCES and not is_from_any(workflow, transition):
            continue
        sets.setdefault(frozenset(transition.sources), []).append(transition)
    chosen: list[frozenset[str]] = []
    boxes = [g.members for g in groups]
    for members in sorted(sets, key=lambda m: (-len(m), min(t.index for t in sets[m]))):
        if members in boxes:
            continue  # a compound state's box already: drawn from each state in it
        if all(
            members <= other or other <= members or members.isdisjoint(other) for other in boxes
        ) and all(members <= other or members.isdisjoint(other) for other in chosen):
            chosen.append(members)
    number = 0
    for members in chosen:
        if any(is_from_any(workflow, t) for t in sets[members]):
            ident = ANY_STEP
        else:
            number += 1
            ident = f"group_{number}"
        parents = [g for g in groups if members < g.members]
        parent = min(parents, key=lambda g: len(g.members)).id if parents else ""
        groups.append(SourceGroup(ident, members, parent, tuple(sets[members])))
    # a box inside a later, bigger one (a compound state inside the `*` box) sits in it
    out = []
    for group in groups:
        around = [g for g in groups if group.members < g.members]
        parent = min(around, key=lambda g: len(g.members)).id if around else ""
        out.append(replace(group, parent=parent))
    return tuple(out)


def _compound_groups(workflow: Workflow) -> Iterator[SourceGroup]:
    """A box per compound state around the states in it, outermost first, with the
    transitions declared on it alone (drawn once, from the box)."""
    for name, compound in workflow.compounds.items():
        members = frozenset(n for n in workflow.states if n.startswith(name + "."))
        declared = tuple(
            t
            for t in workflow.transitions
            if t.declared == (name,) and not t.event.startswith(DONE_EVENT_PREFIX)
        )
        parent = compound.name.rpartition(".")[0]
        parallel = ("parallel: every region active at once",) if compound.parallel else ()
        yield SourceGroup(
            "state_" + name.replace(".", "__"),
            members,
            "state_" + parent.replace(".", "__") if parent else "",
            declared,
            compound=name,
            notes=(*parallel, *entry_exit_lines(compound.entry, compound.exit)),
        )


def entry_exit_lines(entry: Sequence[Action], exit_: Sequence[Action]) -> tuple[str, ...]:
    """A state's entry and exit actions, one line each."""
    return (
        *(f"entry / {action_short(a)}" for a in entry),
        *(f"exit / {action_short(a)}" for a in exit_),
    )


def _edge_parts(workflow: Workflow, transition: Transition) -> tuple[str, tuple[str, ...]]:
    lines: list[str] = [f"[{g}]" for g in guard_words(transition)]
    shown = transition.actions if len(transition.actions) <= 3 else transition.actions[:2]
    lines.extend(f"/ {action_short(a)}" for a in shown)
    if len(shown) < len(transition.actions):
        lines.append(f"/ … and {len(transition.actions) - len(shown)} more")
    if transition.assumption:
        lines.append("assumed (not in the source)")
    title = transition.event
    if transition.rule:
        title += f" ({transition.rule})"
    if transition.is_timeout:
        state = workflow.states[transition.sources[0]]
        timeout = state.waiting.timeout if state.waiting else None
        if timeout is not None:
            title = f"timeout after {duration(timeout.seconds)}"
    return title, tuple(lines)


def transition_edges(
    workflow: Workflow,
    transition: Transition,
    group: SourceGroup | None = None,
    order: Sequence[str] = (),
) -> list[Edge]:
    """The edges of one transition: one per source, or one for a whole source group."""
    tooltip = transition_tooltip(transition)
    title, lines = _edge_parts(workflow, transition)
    if transition.is_timeout:
        source = transition.sources[0]
        return [
            Edge(
                source,
                transition.target,
                title,
                EdgeRole.TIMEOUT,
                lines,
                tooltip,
                index=transition.index,
            )
        ]
    if group is not None:
        walked = [name for name in order if name in group.members] or sorted(group.members)
        role = EdgeRole.ANY if group.id == ANY_STEP else EdgeRole.STEP
        note = "from any step" if group.id == ANY_STEP else "from any step in the box"
        if transition.target in group.members:
            # The head is inside the box, so the edge cannot leave its border: draw it once,
            # from the first state of the box that is not the target.
            anchor = next(n for n in walked if n != transition.target)
            cluster = ""
        else:
            position = {name: i for i, name in enumerate(order)}
            backwards = position.get(transition.target, len(order)) < position.get(walked[0], 0)
            anchor = walked[0] if backwards else walked[-1]
            cluster = group.id
        return [
            Edge(
                anchor,
                transition.target,
                title,
                role,
                (note, *lines),
                tooltip,
                from_cluster=cluster,
                index=transition.index,
            )
        ]
    return [
        Edge(
            source, transition.target, title, EdgeRole.STEP, lines, tooltip, index=transition.index
        )
        for source in transition.sources
    ]


def _group_cluster(group: SourceGroup) -> Cluster:
    head = "from any step:" if group.id == ANY_STEP else "from any step in this box:"
    moves = [f"{t.event} → {t.to or t.target}" for t in group.transitions]
    title = f"{head} {', '.join(moves)}"
    if group.compound:
        title = f"{group.compound}: {title}" if moves else group.compound
        title = "; ".join((title, *group.notes))
    tooltip = f"{head}\n" + "\n".join(
        f"{t.event} → {t.target}" + (f": {t.description.strip()}" if t.description else "")
        for t in group.transitions
    )
    return Cluster(group.id, title, tooltip, group.parent)


def workflow_diagram(workflow: Workflow, trace: Iterable[TraceStep] = ()) -> Diagram:
    """The diagram of one workflow; `trace` highlights and numbers a path through it. A
    parallel state is drawn as written: a box with a box per region, not the configurations
    the runtime joins (`Workflow.unjoined`)."""
    joined, workflow = workflow, workflow.unjoined or workflow
    groups = source_groups(workflow)
    order = walking_order(workflow)
    nodes = [Node(START, "", Role.START, tooltip=f"{workflow.name} starts here")]
    for name in order:
        inside = [g for g in groups if name in g.members]
        innermost = min(inside, key=lambda g: len(g.members)).id if inside else ""
        nodes.append(state_node(workflow, workflow.states[name], innermost))
    # a parallel state starts in every region: an arrow to each region's first state
    edges = [
        Edge(START, leaf, "", EdgeRole.START, tooltip=f"starts in {joined.initial}")
        for leaf in active_leaves(joined.initial)
    ]
    group_of = {t.index: g for g in groups for t in g.transitions}
    position = {name: i for i, name in enumerate(order)}
    ordered = sorted(
        workflow.transitions,
        key=lambda t: (
            t.index in group_of and not t.is_timeout,
            min(position[s] for s in t.sources),
            t.is_timeout,
            t.index,
        ),
    )
    for transition in ordered:
        group = None if transition.is_timeout else group_of.get(transition.index)
        edges.extend(transition_edges(workflow, transition, group, order))
    diagram = Diagram(
        workflow.name,
        workflow.title or workflow.name,
        workflow.description.strip() or workflow.title or workflow.name,
        tuple(nodes),
        tuple(edges),
        tuple(_group_cluster(g) for g in groups),
    )
    steps = [s for s in trace if s.workflow == workflow.name]
    return overlay_trace(joined, diagram, steps) if steps else diagram


# -- trace overlay ----------------------------------------------------------------------------


def overlay_trace(workflow: Workflow, diagram: Diagram, steps: Sequence[TraceStep]) -> Diagram:
    """The diagram with the visited states and taken edges highlighted and numbered.

    A step is matched to its edge by transition index and source; a timeout (index -1) by its
    source and target. A step through a `*` transition gets its own edge from the state it
    left, since the grouped edge leaves the "any step" box, not that state.
    """
    ends = (workflow.initial, *(s.source for s in steps), *(s.target for s in steps))
    # in a parallel state, every active leaf (the diagram draws the regions as written)
    visited = {leaf for state in ends for leaf in active_leaves(state)}
    if workflow.unjoined is not None:
        steps = [_unjoined_step(workflow.unjoined, s) for s in steps]
        workflow = workflow.unjoined
    edges = list(diagram.edges)
    orders: dict[int, list[int]] = {}
    for start_edge in (i for i, e in enumerate(edges) if e.role is EdgeRole.START):
        orders[start_edge] = [0]
    for number, step in enumerate(steps, 1):
        found = _find_edge(edges, step)
        if found is None:
            transition = _transition_at(workflow, step)
            if transition is None:
                continue
            edges.append(
                Edge(
                    step.source,
                    step.target,
                    transition.event,
                    EdgeRole.STEP,
                    tuple(f"[{g}]" for g in guard_words(transition)),
                    transition_tooltip(transition),
                    index=transition.index,
                )
            )
            found = len(edges) - 1
        orders.setdefault(found, []).append(number)
    for i, numbers in orders.items():
        edges[i] = replace(edges[i], order=tuple(numbers))
    nodes = tuple(replace(n, traced=n.id in visited or n.id == START) for n in diagram.nodes)
    return replace(diagram, nodes=nodes, edges=tuple(edges), traced=True)


def _unjoined_step(drawn: Workflow, step: TraceStep) -> TraceStep:
    """A step between configurations of a parallel state as the diagram draws it: from the
    region's leaf the transition is written on, to its target as written."""
    if not 0 <= step.index < len(drawn.transitions) or drawn.transitions[step.index].is_timeout:
        target = active_leaves(step.target)[0]
        return replace(step, source=active_leaves(step.source)[0], target=target)
    written = drawn.transitions[step.index]
    leaves = active_leaves(step.source)
    source = next((leaf for leaf in leaves if leaf in written.sources), leaves[0])
    return replace(step, source=source, target=written.target)


def _find_edge(edges: Sequence[Edge], step: TraceStep) -> int | None:
    for i, edge in enumerate(edges):
        if edge.from_cluster or edge.role is EdgeRole.START:
            continue
        if step.index >= 0 and edge.index == step.index and edge.source == step.source:
            return i
        if (
            step.index < 0
            and edge.role is EdgeRole.TIMEOUT
            and (edge.source, edge.target) == (step.source, step.target)
        ):
            return i
    return None


def _transition_at(workflow: Workflow, step: TraceStep) -> Transition | None:
    for transition in workflow.transitions:
        if transition.index == step.index and step.source in transition.sources:
            return transition
    return None


# -- the overview -----------------------------------------------------------------------------


def _outcomes(workflow: Workflow) -> str:
    seen: dict[str, None] = {}
    for state in workflow.states.values():
        if state.final is not None and not state.handoff:
            seen.setdefault(OUTCOME_WORDS[state.final], None)
    return " · ".join(seen)


def overview_diagram(workflows: Mapping[str, Workflow], trace: Iterable[TraceStep] = ()) -> Diagram:
    """One node per workflow; each handoff state becomes an edge to the workflow it starts."""
    entries = entry_workflows(workflows)
    order = handoff_order(workflows)
    steps = list(trace)
    visited = {s.workflow for s in steps}
    handed: dict[tuple[str, str], int] = {}
    for step in steps:
        flow = workflows.get(step.workflow)
        if flow is not None and step.target in flow.states and flow.states[step.target].handoff:
            handed.setdefault((step.workflow, step.target), len(handed) + 1)
    nodes = [Node(START, "", Role.START, tooltip="where a session starts", traced=bool(steps))]
    edges: list[Edge] = []
    for name in order:
        workflow = workflows[name]
        has_handoff = any(s.handoff for s in workflow.states.values())
        role = Role.ENTRY if name in entries and has_handoff else Role.WORKFLOW
        lines = [name] if workflow.title and workflow.title != name else []
        waits = sum(1 for s in workflow.states.values() if s.waiting is not None)
        count = f"{len(workflow.states)} states"
        if waits:
            count += f", {waits} waiting"
        lines.append(count)
        ends = _outcomes(workflow)
        if ends:
            lines.extend(wrap(f"ends: {ends}"))
        tooltip = workflow.description.strip() or workflow.title or name
        nodes.append(
            Node(name, workflow.title or name, role, tuple(lines), tooltip, traced=name in visited)
        )
        if name in entries:
            edges.append(
                Edge(START, name, "", EdgeRole.START, order=(0,) if name in visited else ())
            )
    for name in order:
        workflow = workflows[name]
        for state in workflow.states.values():
            if not state.handoff or state.handoff not in workflows:
                continue
            taken = handed.get((name, state.name), 0)
            edges.append(
                Edge(
                    name,
                    state.handoff,
                    state.name,
                    EdgeRole.HANDOFF,
                    (),
                    state_tooltip(state),
                    order=(taken,) if taken else (),
                )
            )
    return Diagram(
        "overview",
        "Workflows and their handoffs",
        "Each workflow is a box; an arrow is a final state that hands off to another workflow.",
        tuple(nodes),
        tuple(edges),
        traced=bool(steps),
    )
