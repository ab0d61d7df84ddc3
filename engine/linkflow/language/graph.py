"""Questions about a workflow's graph: the structural checks, and the order to read it in.

Each check is a pure function over the graph built once per workflow, with its own message.
The orders (walking order, handoff order, which states lead to completion) decide what the
diagrams, docs, service and studio all show in the same sequence; they live here, below every
one of them, so asking about the graph never means importing a drawing module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from linkflow.errors import Problem
from linkflow.language.model import Outcome, Transition, Workflow

if TYPE_CHECKING:
    import networkx as nx


@cache
def workflow_graph(workflow: Workflow) -> nx.MultiDiGraph:
    """States as nodes, one edge per (transition, source), keyed by the transition's index."""
    import networkx as nx  # noqa: PLC0415 - networkx: only the graph checks need it; `linkflow send` must not load it

    graph = nx.MultiDiGraph(name=workflow.name)
    for name, state in workflow.states.items():
        graph.add_node(name, state=state)
    for number, transition in enumerate(workflow.transitions):
        for source in transition.sources:
            graph.add_edge(
                source, transition.target_from(source), key=number, transition=transition
            )
    return graph


def unreachable_states(workflow: Workflow) -> list[Problem]:
    import networkx as nx  # noqa: PLC0415 - networkx: only the graph checks need it; `linkflow send` must not load it

    graph = workflow_graph(workflow)
    reached = nx.descendants(graph, workflow.initial) | {workflow.initial}
    return [
        Problem(state.location, f"state '{name}' cannot be reached from '{workflow.initial}'")
        for name, state in workflow.states.items()
        if name not in reached
    ]


def dead_ends(workflow: Workflow) -> list[Problem]:
    """Non-final states from which no final state can be reached: an instance would be stuck."""
    import networkx as nx  # noqa: PLC0415 - networkx: only the graph checks need it; `linkflow send` must not load it

    graph = workflow_graph(workflow)
    finals = [n for n, s in workflow.states.items() if s.is_final]
    can_finish: set[Any] = set(finals)
    for final in finals:
        can_finish |= nx.ancestors(graph, final)
    problems = []
    for name, state in workflow.states.items():
        if state.is_final or name in can_finish:
            continue
        what = "has no way out" if graph.out_degree(name) == 0 else "cannot reach a final state"
        problems.append(
            Problem(state.location, f"state '{name}' {what}: an instance would be stuck there")
        )
    return problems


def no_final_state(workflow: Workflow) -> list[Problem]:
    if any(s.is_final for s in workflow.states.values()):
        return []
    return [Problem(workflow.location, "the workflow has no final state")]


GRAPH_CHECKS = (no_final_state, unreachable_states, dead_ends)


def graph_problems(workflow: Workflow) -> list[Problem]:
    problems: list[Problem] = []
    for check in GRAPH_CHECKS:
        problems.extend(check(workflow))
    return problems


# -- reading order ----------------------------------------------------------------------------


def is_from_any(workflow: Workflow, transition: Transition) -> bool:
    """Whether a transition leaves every non-final state (written `from: "*"`)."""
    nonfinal = {n for n, s in workflow.states.items() if not s.is_final}
    return len(nonfinal) > 1 and set(transition.sources) == nonfinal


def _successors(workflow: Workflow) -> dict[str, list[str]]:
    """Targets per state: named transitions in YAML order first, then timeouts; `*` skipped."""
    out: dict[str, list[str]] = {name: [] for name in workflow.states}
    ordered = sorted(workflow.transitions, key=lambda t: t.is_timeout)
    for transition in ordered:
        if is_from_any(workflow, transition):
            continue
        for source in transition.sources:
            if transition.target_from(source) not in out[source]:
                out[source].append(transition.target_from(source))
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
