"""Reachability under consistent guard assumptions, and what it proves impossible.

A breadth-first search over (state, assumptions) with subsumption, separate from the decision
table because it must be complete to claim anything: a state graph-reachable but not reached
here needs contradictory guard outcomes, and an event no reached transition accepts can never
be accepted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from itertools import pairwise

import networkx as nx

from linkflow.analysis.explore_logic import Assumptions, GuardLogic
from linkflow.analysis.explore_results import Contradiction, DeadEvent, Exploration
from linkflow.language.graph import workflow_graph
from linkflow.language.model import Workflow


def consistent_reachability(
    logic: GuardLogic, result: Exploration, max_nodes: int
) -> dict[str, list[Assumptions]]:
    """States reachable under consistent assumptions; records feasible transitions."""
    wf = logic.workflow
    minimal: dict[str, list[Assumptions]] = {}
    queue: deque[tuple[str, Assumptions]] = deque([(wf.initial, frozenset())])
    minimal[wf.initial] = [frozenset()]
    steps = 0
    while queue:
        state, known = queue.popleft()
        if known not in minimal.get(state, ()):
            continue  # superseded by a node with fewer assumptions
        steps += 1
        if steps > max_nodes:
            result.complete = False
            result.bounds.append(
                f"consistent reachability stopped after {max_nodes:,} search steps "
                "(--max-nodes): contradiction and never-accepted reports are left out"
            )
            break
        if wf.states[state].is_final:
            continue
        for event in logic.events.get(state, ()):
            for transition, _uses, values in logic.branches(state, event, known):
                if transition is None:
                    continue
                for part in transition.parts or (transition,):  # joint: each region's
                    result.feasible.add(logic.positions[id(part)])
                nxt = logic.after(transition, values)
                kept = minimal.setdefault(transition.target_from(state), [])
                if any(k <= nxt for k in kept):
                    continue
                kept[:] = [k for k in kept if not nxt <= k]
                kept.append(nxt)
                queue.append((transition.target_from(state), nxt))
    return minimal


def find_contradictions(wf: Workflow, reached: set[str]) -> list[Contradiction]:
    """Graph-reachable states that no consistent path reaches, each with its shortest path."""
    graph = workflow_graph(wf)
    paths = nx.single_source_shortest_path(graph, wf.initial)
    out = []
    for state in wf.states:
        if state in reached or state not in paths:
            continue
        nodes = paths[state]
        events: list[str] = []
        values: dict[str, set[bool]] = {}
        for u, v in pairwise(nodes):
            key = min(graph[u][v])
            transition = graph.edges[u, v, key]["transition"]
            events.append(transition.event)
            for use in transition.guards:
                values.setdefault(use.guard.name, set()).add(not use.negated)
        clash = tuple(sorted(g for g, vs in values.items() if len(vs) == 2))
        out.append(Contradiction(state, tuple(events), clash))
    return out


def find_dead_events(
    logic: GuardLogic, result: Exploration, minimal: Mapping[str, list[Assumptions]]
) -> list[DeadEvent]:
    wf = logic.workflow
    out = []
    for event in wf.events:
        mine = [(n, t) for n, t in enumerate(wf.transitions) if t.event == event]
        if not mine or any(n in result.feasible for n, _ in mine):
            continue
        reasons = []
        for _, t in mine:
            labels = ", ".join(u.label for u in t.guards)
            where = f"line {t.location.line}"
            if logic.assume({}, [(u, True) for u in t.guards]) is None:
                reasons.append(f"{where} needs {labels} at once")
                continue
            for source in t.sources:
                if source not in minimal:
                    reasons.append(f"{where}: '{source}' is never reached")
                    continue
                found = sorted(
                    {
                        f"{'' if value else '!'}{name}"
                        for known in minimal[source]
                        for name, value in known
                        for u in t.guards
                        if u.guard.name == name
                    }
                )
                reasons.append(
                    f"{where} needs {labels} in '{source}', but every path there has found "
                    + (", ".join(found) or "otherwise (an exclusive group)")
                )
        out.append(DeadEvent(event, tuple(reasons)))
    return out
