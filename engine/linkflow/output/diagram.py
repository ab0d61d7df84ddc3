"""A workflow as a small diagram description, which the Graphviz and Mermaid renderers draw.

Everything a reader sees is decided here, once, for both renderers: which nodes and edges
exist, their short labels (names, events, guards with rule ids, actions in short), the long
texts that go to tooltips, the style of each role, and the order things are declared in (the
order a person walks the flow). The renderers only translate and escape.

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

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from linkflow.language.durations import duration
from linkflow.language.model import Action, Outcome, State, Transition, Workflow

if TYPE_CHECKING:
    from linkflow.analysis.coverage import WorkflowCoverage

#: Node id of the start dot (state names are lowercase identifiers, so this cannot clash).
START = "__start__"
#: Cluster id of the box around every non-final state, used by transitions from `"*"`.
ANY_STEP = "any_step"
LABEL_WIDTH = 30


class Role(StrEnum):
    """What a node is; each role has one style."""

    START = "start"
    STATE = "state"
    WAITING = "waiting"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUSED = "refused"
    DECLINED = "declined"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    WORKFLOW = "workflow"
    ENTRY = "entry"


class EdgeRole(StrEnum):
    START = "start"
    STEP = "step"
    TIMEOUT = "timeout"
    ANY = "any"
    HANDOFF = "handoff"
    #: Coverage overlay (`overlay_coverage`): a transition no scenario took.
    UNCOVERED = "uncovered"
    #: Coverage overlay: taken, but one of its guards was never seen refusing (or holding).
    GUARD_GAP = "guard_gap"
    #: Coverage overlay: taken, every guard outcome seen; drawn faded so the gaps stand out.
    COVERED = "covered"
    COVERED_TIMEOUT = "covered_timeout"
    COVERED_ANY = "covered_any"
    #: Reader view: a move the source does not describe (an assumption).
    ASSUMED = "assumed"


@dataclass(frozen=True, slots=True)
class NodeStyle:
    shape: str  # "box" or "point"
    fill: str
    border: str
    font: str = "#1f2933"
    dashed: bool = False
    double: bool = False
    bold: bool = False


@dataclass(frozen=True, slots=True)
class EdgeStyle:
    color: str
    font: str = "#333333"
    dashed: bool = False
    width: float = 1.0


NODE_STYLES: Mapping[Role, NodeStyle] = {
    Role.START: NodeStyle("point", "#1f2933", "#1f2933"),
    Role.STATE: NodeStyle("box", "#eef3fb", "#4a6fa5"),
    Role.WAITING: NodeStyle("box", "#fff8e1", "#b7791f", dashed=True),
    Role.COMPLETED: NodeStyle("box", "#e3f4e1", "#2e7d32", double=True),
    Role.CANCELLED: NodeStyle("box", "#eeeeee", "#757575", double=True),
    Role.REFUSED: NodeStyle("box", "#fde8e8", "#c62828", double=True),
    Role.DECLINED: NodeStyle("box", "#fce4ec", "#ad1457", double=True),
    Role.FAILED: NodeStyle("box", "#f3e5f5", "#6a1b9a", double=True),
    Role.TIMED_OUT: NodeStyle("box", "#fff3e0", "#e65100", double=True),
    Role.WORKFLOW: NodeStyle("box", "#eef3fb", "#4a6fa5"),
    Role.ENTRY: NodeStyle("box", "#e8eaf6", "#283593", bold=True),
}

EDGE_STYLES: Mapping[EdgeRole, EdgeStyle] = {
    EdgeRole.START: EdgeStyle("#1f2933"),
    EdgeRole.STEP: EdgeStyle("#444444"),
    EdgeRole.TIMEOUT: EdgeStyle("#e65100", "#b34700", dashed=True),
    EdgeRole.ANY: EdgeStyle("#9e9e9e", "#757575", dashed=True, width=0.8),
    EdgeRole.HANDOFF: EdgeStyle("#2e7d32", "#1b5e20", width=1.6),
    EdgeRole.UNCOVERED: EdgeStyle("#c62828", "#b71c1c", dashed=True, width=2.2),
    EdgeRole.GUARD_GAP: EdgeStyle("#ef6c00", "#d84315", width=1.8),
    EdgeRole.COVERED: EdgeStyle("#a8a8a8", "#6e6e6e"),
    EdgeRole.COVERED_TIMEOUT: EdgeStyle("#f0b48a", "#a0704a", dashed=True),
    EdgeRole.COVERED_ANY: EdgeStyle("#c8c8c8", "#8e8e8e", dashed=True, width=0.8),
    EdgeRole.ASSUMED: EdgeStyle("#7b1fa2", "#6a1b9a", dashed=True, width=1.2),
}

#: How a traced (visited) node or edge is drawn over its usual style.
TRACE_COLOR = "#1565c0"
TRACE_WIDTH = 2.6

_OUTCOME_ROLES = {
    Outcome.COMPLETED: Role.COMPLETED,
    Outcome.CANCELLED: Role.CANCELLED,
    Outcome.REFUSED: Role.REFUSED,
    Outcome.DECLINED: Role.DECLINED,
    Outcome.FAILED: Role.FAILED,
    Outcome.TIMED_OUT: Role.TIMED_OUT,
}

#: An outcome in words, as diagrams and docs say it.
OUTCOME_WORDS = {
    Outcome.COMPLETED: "completed",
    Outcome.CANCELLED: "cancelled",
    Outcome.REFUSED: "refused",
    Outcome.DECLINED: "declined",
    Outcome.FAILED: "failed",
    Outcome.TIMED_OUT: "timed out",
}


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    title: str
    role: Role
    #: Short secondary lines under the title (already wrapped).
    lines: tuple[str, ...] = ()
    tooltip: str = ""
    cluster: str = ""
    traced: bool = False


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    title: str
    role: EdgeRole
    lines: tuple[str, ...] = ()
    tooltip: str = ""
    #: When set, the edge leaves the border of this cluster (source is a node inside it).
    from_cluster: str = ""
    #: The position(s) of this edge in a traced path, 1-based; empty when not traced.
    order: tuple[int, ...] = ()
    #: The transition's position in the YAML list (-1 for timeouts, -2 for drawing-only edges).
    index: int = -2

    @property
    def traced(self) -> bool:
        return bool(self.order)


@dataclass(frozen=True, slots=True)
class Cluster:
    id: str
    title: str
    tooltip: str = ""
    #: The cluster this one sits in; "" at the top.
    parent: str = ""


@dataclass(frozen=True, slots=True)
class LegendItem:
    """One entry of a diagram's legend: a node role or an edge kind, and what it means."""

    words: str
    role: Role | None = None
    edge: EdgeRole | None = None


class View(StrEnum):
    """Who a diagram is drawn for: people learning the flow, or engineers changing it."""

    READER = "reader"
    ENGINEER = "engineer"


@dataclass(frozen=True, slots=True)
class Diagram:
    name: str
    title: str
    tooltip: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    clusters: tuple[Cluster, ...] = ()
    #: "LR" (left to right) or "TB" (top to bottom).
    direction: str = "LR"
    traced: bool = field(default=False)
    view: View = View.ENGINEER
    legend: tuple[LegendItem, ...] = ()
    #: Short sentences under the title (what holds at any step, what is assumed).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One taken transition: (workflow name, transition index, from, to); -1 for timeouts."""

    workflow: str
    index: int
    source: str
    target: str


# -- small text helpers ---------------------------------------------------------------------


def wrap(text: str, width: int = LABEL_WIDTH) -> tuple[str, ...]:
    """Text as short lines for a label; whitespace (newlines included) is normalised."""
    flat = " ".join(text.split())
    return tuple(textwrap.wrap(flat, width, break_on_hyphens=False, break_long_words=False))


def short_path(text: str) -> str:
    """`data.approvals` -> `approvals`; `world.documents[data.document].status` ->
    `documents[…].status`: enough to say what changes."""
    out: list[str] = []
    depth = 0
    for char in text:
        if char == "[":
            if depth == 0:
                out.append("[…]")
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(char)
    short = "".join(out)
    for prefix in ("data.", "world."):
        if short.startswith(prefix):
            return short[len(prefix) :]
    return short


def action_short(action: Action) -> str:
    return f"{action.kind.value} {short_path(action.target.text)}"


def action_long(action: Action) -> str:
    value = f" = {action.value.source}" if action.value is not None else ""
    each = " (each)" if action.each else ""
    loop = ""
    if action.for_item and action.for_in is not None:
        loop = f" for each {action.for_item} in {action.for_in.source}"
    return f"{action.kind.value} {action.target.text}{value}{each}{loop}"


def guard_words(transition: Transition) -> tuple[str, ...]:
    """Each guard as `name R19` (or `!name R19`)."""
    return tuple(
        f"{use.label} {use.guard.rule}".strip() if use.guard.rule else use.label
        for use in transition.guards
    )


def is_from_any(workflow: Workflow, transition: Transition) -> bool:
    """Whether a transition leaves every non-final state (written `from: "*"`)."""
    nonfinal = {n for n, s in workflow.states.items() if not s.is_final}
    return len(nonfinal) > 1 and set(transition.sources) == nonfinal


def state_tooltip(state: State) -> str:
    parts: list[str] = []
    if state.step:
        parts.append(f"Step: {state.step.strip()}")
    if state.description:
        parts.append(state.description.strip())
    if state.waiting is not None:
        wait = f"Waits for {state.waiting.awaits}"
        if state.waiting.timeout is not None:
            timeout = state.waiting.timeout
            wait += f"; after {duration(timeout.seconds)} goes to '{timeout.to}'"
        parts.append(wait)
    if state.handoff:
        parts.append(f"Hands off to the workflow '{state.handoff}'")
    if state.assumption:
        parts.append(f"Assumed: {state.assumption.strip()}")
    if state.rule:
        parts.append(f"Rule {state.rule}")
    return "\n".join(parts) or state.name


def transition_tooltip(transition: Transition) -> str:
    parts: list[str] = []
    if transition.description:
        parts.append(transition.description.strip())
    for use in transition.guards:
        guard = use.guard
        rule = f" ({guard.rule})" if guard.rule else ""
        words = guard.description.strip() or guard.when.source
        message = guard.message_when_true if use.negated else guard.message
        refuses = f" (else: {message.source})" if message is not None else ""
        parts.append(f"Guard {use.label}{rule}: {words}{refuses}")
    for action in transition.actions:
        parts.append(f"Action: {action_long(action)}")
    if transition.assumption:
        parts.append(f"Assumed: {transition.assumption.strip()}")
    if transition.rule:
        parts.append(f"Rule {transition.rule}")
    return "\n".join(parts) or transition.label


# -- walking order ------------------------------------------------------------------------


def _successors(workflow: Workflow) -> dict[str, list[str]]:
    """Targets per state: named transitions in YAML order first, then timeouts; `*` skipped."""
    out: dict[str, list[str]] = {name: [] for name in workflow.states}
    ordered = sorted(workflow.transitions, key=lambda t: t.is_timeout)
    for transition in ordered:
        if is_from_any(workflow, transition):
            continue
        for source in transition.sources:
            if transition.target not in out[source]:
                out[source].append(transition.target)
    return out


def completing_states(workflow: Workflow) -> frozenset[str]:
    """States on some path from the initial state to a `completed` final state."""
    succ = _successors(workflow)
    reached = _reach(workflow.initial, succ)
    pred: dict[str, list[str]] = {name: [] for name in workflow.states}
    for source, targets in succ.items():
        for target in targets:
            pred[target].append(source)
    done: set[str] = set()
    for name, state in workflow.states.items():
        if state.final is Outcome.COMPLETED:
            done |= _reach(name, pred)
    return frozenset(reached & done)


def _reach(start: str, edges: Mapping[str, Sequence[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def distance_to_completion(workflow: Workflow) -> dict[str, int]:
    """For each state that can complete, the fewest transitions to a `completed` state."""
    succ = _successors(workflow)
    pred: dict[str, list[str]] = {name: [] for name in workflow.states}
    for source, targets in succ.items():
        for target in targets:
            pred[target].append(source)
    frontier = [n for n, s in workflow.states.items() if s.final is Outcome.COMPLETED]
    distance = dict.fromkeys(frontier, 0)
    while frontier:
        following: list[str] = []
        for name in frontier:
            for before in pred[name]:
                if before not in distance:
                    distance[before] = distance[name] + 1
                    following.append(before)
        frontier = following
    return distance


def walking_order(workflow: Workflow) -> tuple[str, ...]:
    """Every state in the order a person walks the flow.

    Depth first from the initial state. From each state, the step that brings completion
    nearest comes first (ties in YAML order), then detours, then branches that cannot
    complete (refusals, timeouts); states reached only from `*` (cancel) come last.
    """
    succ = _successors(workflow)
    distance = distance_to_completion(workflow)
    far = len(workflow.states) + 1
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        seen.add(name)
        order.append(name)
        for target in sorted(succ[name], key=lambda t: distance.get(t, far)):
            if target not in seen:
                visit(target)

    visit(workflow.initial)
    order.extend(name for name in workflow.states if name not in seen)
    return tuple(order)


def rule_key(rule: str) -> tuple[str, int]:
    """Sorts R2 before R19."""
    head = rule.rstrip("0123456789")
    tail = rule[len(head) :]
    return head, int(tail) if tail else 0


# -- one workflow -----------------------------------------------------------------------------


def state_node(workflow: Workflow, state: State, cluster: str = "") -> Node:
    lines: list[str] = []
    if state.final is not None:
        role = _OUTCOME_ROLES[state.final]
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


def source_groups(workflow: Workflow) -> tuple[SourceGroup, ...]:
    """Boxes for transitions with many sources (`from: "*"` first), biggest first.

    A set of sources becomes a box only if it nests with the boxes already chosen (inside
    one, or apart from it), since Graphviz clusters must nest; other transitions with many
    sources are drawn from each source.
    """
    sets: dict[frozenset[str], list[Transition]] = {}
    for transition in workflow.transitions:
        if transition.is_timeout:
            continue
        if len(transition.sources) < GROUP_MIN_SOURCES and not is_from_any(workflow, transition):
            continue
        sets.setdefault(frozenset(transition.sources), []).append(transition)
    chosen: list[frozenset[str]] = []
    for members in sorted(sets, key=lambda m: (-len(m), min(t.index for t in sets[m]))):
        if all(members <= other or members.isdisjoint(other) for other in chosen):
            chosen.append(members)
    groups: list[SourceGroup] = []
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
    return tuple(groups)


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
    moves = [f"{t.event} → {t.target}" for t in group.transitions]
    title = f"{head} {', '.join(moves)}"
    tooltip = f"{head}\n" + "\n".join(
        f"{t.event} → {t.target}" + (f": {t.description.strip()}" if t.description else "")
        for t in group.transitions
    )
    return Cluster(group.id, title, tooltip, group.parent)


def workflow_diagram(workflow: Workflow, trace: Iterable[TraceStep] = ()) -> Diagram:
    """The diagram of one workflow; `trace` highlights and numbers a path through it."""
    groups = source_groups(workflow)
    order = walking_order(workflow)
    nodes = [Node(START, "", Role.START, tooltip=f"{workflow.name} starts here")]
    for name in order:
        inside = [g for g in groups if name in g.members]
        innermost = min(inside, key=lambda g: len(g.members)).id if inside else ""
        nodes.append(state_node(workflow, workflow.states[name], innermost))
    edges = [
        Edge(START, workflow.initial, "", EdgeRole.START, tooltip=f"starts in {workflow.initial}")
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
    return overlay_trace(workflow, diagram, steps) if steps else diagram


# -- trace overlay ----------------------------------------------------------------------------


def overlay_trace(workflow: Workflow, diagram: Diagram, steps: Sequence[TraceStep]) -> Diagram:
    """The diagram with the visited states and taken edges highlighted and numbered.

    A step is matched to its edge by transition index and source; a timeout (index -1) by its
    source and target. A step through a `*` transition gets its own edge from the state it
    left, since the grouped edge leaves the "any step" box, not that state.
    """
    visited = {workflow.initial} | {s.source for s in steps} | {s.target for s in steps}
    edges = list(diagram.edges)
    orders: dict[int, list[int]] = {}
    start_edge = next(i for i, e in enumerate(edges) if e.role is EdgeRole.START)
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
    edges = [_covered_edge(workflow, edge, taken, seen) for edge in diagram.edges]
    unvisited = set(coverage.uncovered_states)
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


def entry_workflows(workflows: Mapping[str, Workflow]) -> list[str]:
    """The workflows no other workflow hands off to, by name."""
    targets = {s.handoff for w in workflows.values() for s in w.states.values() if s.handoff}
    return [name for name in sorted(workflows) if name not in targets]


def handoff_order(workflows: Mapping[str, Workflow]) -> list[str]:
    """Every workflow once: from each entry, depth first along its handoffs; then the rest."""
    entries = entry_workflows(workflows)
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in workflows:
            return
        order.append(name)
        for state in workflows[name].states.values():
            if state.handoff:
                visit(state.handoff)

    for name in entries:
        visit(name)
    for name in sorted(workflows):
        visit(name)
    return order
