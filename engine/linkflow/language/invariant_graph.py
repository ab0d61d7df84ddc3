"""The handoff graph an invariant is checked over: which workflows a workflow reaches through
handoffs, one graph of their states, and its paths as steps that each name a file:line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from linkflow.language.model import (
    Transition,
    Workflow,
)
from linkflow.language.nesting import with_entry_exit

if TYPE_CHECKING:
    import networkx as nx


#: A node of a handoff chain: (workflow name, state name).
Node = tuple[str, str]


# -- the chain graph ---------------------------------------------------------------------------


def scope(workflow: Workflow, workflows: Mapping[str, Workflow] | None) -> dict[str, Workflow]:
    """`workflow` and every loaded workflow it hands off to, transitively, in discovery order."""
    known = dict(workflows or {})
    known.setdefault(workflow.name, workflow)
    out: dict[str, Workflow] = {}
    todo = [workflow]
    while todo:
        current = todo.pop(0)
        if current.name in out:
            continue
        out[current.name] = current
        for state in current.states.values():
            if state.handoff and state.handoff in known and state.handoff not in out:
                todo.append(known[state.handoff])
    return out


def chain_graph(workflows: Mapping[str, Workflow]) -> nx.MultiDiGraph:
    """Nodes (workflow, state); an edge per (transition, source), keyed (workflow, position),
    whose transition carries the entry and exit actions it runs from that source (so every
    check sees them), except where a transition declared on a state nested deeper, without
    guards, always takes the event first;
    a handoff edge from a handing-off final state to the next workflow's initial state."""
    import networkx as nx  # noqa: PLC0415 - networkx: only the invariant checks need it; `linkflow send` must not load it

    graph = nx.MultiDiGraph()
    for wf in workflows.values():
        for name in wf.states:
            graph.add_node((wf.name, name))
        for number, transition in enumerate(wf.transitions):
            for source in transition.sources:
                if _shadowed(wf, transition, source):
                    continue
                graph.add_edge(
                    (wf.name, source),
                    (wf.name, transition.target_from(source)),
                    key=(wf.name, number),
                    workflow=wf.name,
                    # with the entry and exit actions of the nested states it leaves and enters
                    transition=with_entry_exit(wf, transition, source),
                )
        for state in wf.states.values():
            nxt = workflows.get(state.handoff) if state.handoff else None
            if nxt is not None:
                graph.add_edge(
                    (wf.name, state.name),
                    (nxt.name, nxt.initial),
                    key=("handoff", wf.name),
                    workflow=wf.name,
                    transition=None,
                )
    return graph


def _shadowed(workflow: Workflow, transition: Transition, source: str) -> bool:
    """Whether, in `source`, a transition declared deeper than `transition` and without
    guards always takes its event first (so `transition` is never taken there)."""
    level = len(transition.declared_at(source))
    return any(
        not other.guards and len(other.declared_at(source)) > level
        for other in workflow.by_source.get((source, transition.event), ())
    )


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One step of a path through a handoff chain: a transition, or a handoff."""

    workflow: str
    source: str
    target: str
    transition: Transition | None = None
    handoff_to: str = ""

    def describe(self) -> str:
        if self.transition is None:
            return f"{self.workflow}: '{self.source}' hands off to {self.handoff_to}"
        t = self.transition
        guards = f" [passes {', '.join(u.label for u in t.guards)}]" if t.guards else ""
        return f"{self.workflow}: {t.event}: {self.source} -> {self.target}{guards} ({t.location})"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"workflow": self.workflow, "from": self.source, "to": self.target}
        if self.transition is None:
            out["handoff"] = self.handoff_to
        else:
            out["event"] = self.transition.event
            out["guards"] = [u.label for u in self.transition.guards]
            out["location"] = str(self.transition.location)
        return out


def edge_step(graph: nx.MultiDiGraph, u: Node, v: Node, key: Any) -> ChainStep:
    data = graph.edges[u, v, key]
    transition = data["transition"]
    if transition is None:
        return ChainStep(u[0], u[1], v[1], None, v[0])
    return ChainStep(u[0], u[1], v[1], transition)


def node_path_steps(graph: nx.MultiDiGraph, nodes: list[Node]) -> list[ChainStep]:
    """A node path as steps, taking the first edge (in definition order) between each pair."""
    steps = []
    for u, v in pairwise(nodes):
        key = min(graph[u][v], key=key_order)
        steps.append(edge_step(graph, u, v, key))
    return steps


def key_order(key: Any) -> tuple[int, str, int]:
    if key[0] == "handoff":
        return (1, str(key[1]), 0)
    return (0, str(key[0]), int(key[1]))
