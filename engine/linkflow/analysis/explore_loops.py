"""Loops an exploration reports: one cycle per strongly connected part of the graph.

Apart from the path search because loops are a property of the graph alone (no guards): the
decision table unrolls them only a bounded number of times, so they are named separately.
"""

from __future__ import annotations

from itertools import pairwise

import networkx as nx

from linkflow.analysis.explore_results import Loop
from linkflow.language.graph import workflow_graph
from linkflow.language.model import Workflow


def find_loops(workflow: Workflow, limit: int = 50) -> list[Loop]:
    """One cycle per strongly connected component reachable from the initial state."""
    graph = nx.DiGraph(workflow_graph(workflow))
    reach = nx.single_source_shortest_path(graph, workflow.initial)
    multi = workflow_graph(workflow)
    loops: list[Loop] = []
    components = [
        c
        for c in nx.strongly_connected_components(graph)
        if (len(c) > 1 or any(graph.has_edge(n, n) for n in c)) and c & set(reach)
    ]
    components.sort(key=lambda c: min(len(reach[n]) for n in c if n in reach))
    for component in components[:limit]:
        entry = min((n for n in component if n in reach), key=lambda n: (len(reach[n]), n))
        # the shortest cycle through the entry: entry ... p -> entry, p its nearest predecessor
        around = nx.single_source_shortest_path(graph.subgraph(component), entry)
        last = min(
            (p for p in graph.predecessors(entry) if p in around),
            key=lambda p: (len(around[p]), p),
        )
        states = [*around[last], entry]
        cycle = list(pairwise(states))
        events = [multi.edges[u, v, min(multi[u][v])]["transition"].event for u, v in cycle]
        into = reach.get(states[0], [workflow.initial])
        entry_events = [
            multi.edges[u, v, min(multi[u][v])]["transition"].event for u, v in pairwise(into)
        ]
        loops.append(Loop(tuple(entry_events), tuple(states), tuple(events)))
    return loops
