"""The workflow as a networkx graph, and the structural checks that run on it.

Each check is a pure function over the graph built once per workflow, with its own message.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from linkflow.errors import Problem
from linkflow.language.model import Workflow

if TYPE_CHECKING:
    import networkx as nx


@cache
def workflow_graph(workflow: Workflow) -> nx.MultiDiGraph:
    """States as nodes, one edge per (transition, source), keyed by the transition's index."""
    import networkx as nx

    graph = nx.MultiDiGraph(name=workflow.name)
    for name, state in workflow.states.items():
        graph.add_node(name, state=state)
    for number, transition in enumerate(workflow.transitions):
        for source in transition.sources:
            graph.add_edge(source, transition.target, key=number, transition=transition)
    return graph


def unreachable_states(workflow: Workflow) -> list[Problem]:
    import networkx as nx

    graph = workflow_graph(workflow)
    reached = nx.descendants(graph, workflow.initial) | {workflow.initial}
    return [
        Problem(state.location, f"state '{name}' cannot be reached from '{workflow.initial}'")
        for name, state in workflow.states.items()
        if name not in reached
    ]


def dead_ends(workflow: Workflow) -> list[Problem]:
    """Non-final states from which no final state can be reached: an instance would be stuck."""
    import networkx as nx

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
