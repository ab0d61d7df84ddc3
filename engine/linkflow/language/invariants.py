"""Invariants: safety properties a workflow declares, checked on every path, across handoffs.

An invariant declared in workflow W holds over every path that starts in W's initial state and
follows handoffs into the workflows W hands off to (and theirs, transitively). Four kinds:

- `requires: {writes|event|to: selector, guards: [g, !h]}`: every path that takes a selected
  transition passes each listed guard first (on an earlier transition, possibly in a workflow
  that handed off, or on the selected transition itself).
- `never_stores: [field]`: no action reads the payload field into data or the world (nor the
  whole payload), no refusal message shows it, and every event carrying it marks it secret.
- `no_writes_on: [outcome]`: no path that ends in a final state with one of these outcomes
  writes to the world (a refused event writes nothing by construction; this is about endings).
  With `writes: pattern` beside it, only writes at or below that path count (a flow that
  creates something before asking for approval may keep it, but links nothing).
- `idempotent: event`: sent again right after a transition on it that writes, the event is
  refused, or accepted by a transition that writes only with `add`, `set` or `remove`.

The checks are structural and conservative: they look at every path of the state graph and do
not ask whether a path's guards can all hold together (see linkflow.analysis.explore for that), so a
broken invariant always comes with a real path of transitions, the shortest one (networkx),
step by step, each with its file:line. Everything is polynomial in the size of the graphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from linkflow.errors import Problem
from linkflow.language.model import (
    ActionKind,
    Invariant,
    InvariantKind,
    Transition,
    Workflow,
)
from linkflow.language.nesting import with_entry_exit

if TYPE_CHECKING:
    import networkx as nx
from linkflow.language.invariant_graph import (
    ChainStep,
    Node,
    chain_graph,
    edge_step,
    key_order,
    node_path_steps,
    scope,
)
from linkflow.language.invariant_patterns import (
    PathPart,
    parse_pattern,
    pattern_matches,
    write_parts,
    writes_world,
)

# -- checking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """An invariant broken by a path; `offending` is the transition to look at."""

    workflow: Workflow
    invariant: Invariant
    message: str
    path: tuple[ChainStep, ...] = ()
    offending: Transition | None = None
    remedy: str = ""

    def text(self) -> str:
        rule = f" [{self.invariant.rule}]" if self.invariant.rule else ""
        lines = [f"invariant '{self.invariant.name}'{rule} is broken: {self.message}"]
        if self.offending is not None:
            lines.append(
                f"  offending transition: {self.offending.label} ({self.offending.location})"
            )
        if self.path:
            start = f"'{self.workflow.initial}' of {self.workflow.name}"
            lines.append(f"  shortest counterexample, from {start}:")
            lines += [f"    {n}. {s.describe()}" for n, s in enumerate(self.path, 1)]
        if self.remedy:
            lines.append(f"  {self.remedy}")
        return "\n".join(lines)

    def problem(self) -> Problem:
        return Problem(self.invariant.location, self.text())

    def as_dict(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant.name,
            "workflow": self.workflow.name,
            "rule": self.invariant.rule,
            "message": self.message,
            "location": str(self.invariant.location),
            "offending": str(self.offending.location) if self.offending else None,
            "path": [s.as_dict() for s in self.path],
        }


@dataclass
class _Checker:
    workflow: Workflow
    invariant: Invariant
    workflows: dict[str, Workflow]
    graph: nx.MultiDiGraph
    out: list[Violation] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """True when a handoff in scope names a workflow not loaded (the loader says so): names
        and selections may then live in the missing workflow, so they are not reported."""
        return any(
            state.handoff and state.handoff not in self.workflows
            for wf in self.workflows.values()
            for state in wf.states.values()
        )

    @property
    def start(self) -> Node:
        return (self.workflow.name, self.workflow.initial)

    def violation(
        self,
        message: str,
        path: Iterable[ChainStep] = (),
        offending: Transition | None = None,
        remedy: str = "",
    ) -> None:
        self.out.append(
            Violation(self.workflow, self.invariant, message, tuple(path), offending, remedy)
        )

    def edges(self) -> tuple[tuple[Node, Node, Any, Transition], ...]:
        """Every transition edge; listed once per graph (its invariants all walk them)."""
        found: tuple[tuple[Node, Node, Any, Transition], ...] | None
        found = self.graph.graph.get("transition_edges")
        if found is None:
            found = self.graph.graph["transition_edges"] = tuple(
                (u, v, k, d["transition"])
                for u, v, k, d in self.graph.edges(keys=True, data=True)
                if d["transition"] is not None
            )
        return found

    def transitions(self) -> list[tuple[Node, Node, Any, Transition]]:
        """One edge per transition: from its source nearest the start (reachable ones first)."""
        import networkx as nx  # noqa: PLC0415 - networkx: only the invariant checks need it; `linkflow send` must not load it

        reach = nx.single_source_shortest_path_length(self.graph, self.start)
        best: dict[Any, tuple[tuple[int, int], tuple[Node, Node, Any, Transition]]] = {}
        for edge in self.edges():
            u, k = edge[0], edge[2]
            rank = (0, reach[u]) if u in reach else (1, 0)
            if k not in best or rank < best[k][0]:
                best[k] = (rank, edge)
        return [edge for _, edge in sorted(best.values(), key=lambda b: (b[0], key_order(b[1][2])))]

    def shortest_to(self, graph: nx.MultiDiGraph, target: Node) -> list[ChainStep] | None:
        import networkx as nx  # noqa: PLC0415 - networkx: only the invariant checks need it; `linkflow send` must not load it

        try:
            nodes = nx.shortest_path(graph, self.start, target)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None
        return node_path_steps(graph, nodes)

    def guard_names(self) -> set[str]:
        return {g for wf in self.workflows.values() for g in wf.guards}

    def event_names(self) -> set[str]:
        return {e for wf in self.workflows.values() for e in wf.events} | {"timeout"}

    # -- requires ------------------------------------------------------------------------------

    def selected(self, wf: Workflow, transition: Transition, pattern: list[PathPart]) -> bool:
        inv = self.invariant
        if inv.event and transition.event != inv.event:
            return False
        if inv.to and inv.to not in (transition.target, *transition.targets.values()):
            return False
        if pattern:
            return any(pattern_matches(pattern, write_parts(wf, a)) for a in transition.actions)
        return True

    def requires(self) -> None:
        import networkx as nx  # noqa: PLC0415 - networkx: only the invariant checks need it; `linkflow send` must not load it

        inv = self.invariant
        if not self.partial:
            self.requires_known_names()
            if self.out:
                return
        pattern = parse_pattern(inv.writes) if inv.writes else []
        chosen: dict[int, bool] = {}  # by transition: an edge per source shares the answer
        for u, _, _, t in self.edges():
            if id(t) not in chosen:
                chosen[id(t)] = self.selected(self.workflows[u[0]], t, pattern)
        selected = [(u, v, k, t) for u, v, k, t in self.edges() if chosen[id(t)]]
        if not selected:
            if self.partial:
                return
            self.violation(
                "selects no transition in "
                + ", ".join(self.workflows)
                + ": it proves nothing (check the selector)"
            )
            return
        for label in inv.guards:
            # A view without the edges that pass the guard: no copy of the graph per label.
            hidden = {
                (u, v, k) for u, v, k, t in self.edges() if any(g.label == label for g in t.guards)
            }
            bypass = nx.subgraph_view(
                self.graph, filter_edge=lambda u, v, k, hidden=hidden: (u, v, k) not in hidden
            )
            reach = nx.single_source_shortest_path_length(bypass, self.start)
            candidates = [
                (reach[u], k, u, v, t)
                for u, v, k, t in selected
                if u in reach and not any(g.label == label for g in t.guards)
            ]
            if not candidates:
                continue
            _, key, u, v, t = min(candidates, key=lambda c: (c[0], key_order(c[1])))
            prefix = self.shortest_to(bypass, u) or []
            what = f"writes {inv.writes}" if inv.writes else f"takes '{t.event}'"
            if inv.to:
                what += f" into '{inv.to}'"
            self.violation(
                f"a path {what} without passing guard '{label}'",
                [*prefix, edge_step(self.graph, u, v, key)],
                t,
                f"add '{label}' to the offending transition or to every path before it",
            )

    def requires_known_names(self) -> None:
        """A `requires` invariant names guards, an event and a state the workflows have."""
        inv = self.invariant
        known = self.guard_names()
        for label in inv.guards:
            if label.lstrip("!") not in known:
                self.violation(f"names unknown guard '{label.lstrip('!')}'")
        if inv.event and inv.event not in self.event_names():
            self.violation(f"selects unknown event '{inv.event}'")
        if inv.to and not any(inv.to in wf.states for wf in self.workflows.values()):
            self.violation(f"selects unknown state '{inv.to}'")

    # -- never_stores ----------------------------------------------------------------------------

    def never_stores(self) -> None:
        fields = set(self.invariant.fields)
        carried: set[str] = set()
        for wf in self.workflows.values():
            for event in wf.events.values():
                props = (event.payload_schema or {}).get("properties") or {}
                for name in sorted(fields & set(props)):
                    carried.add(name)
                    if name not in event.secret_fields:
                        self.violation(
                            f"event '{event.name}' of {wf.name} carries '{name}' without "
                            "`secret: true`, so it would be kept in the instance's history "
                            f"({event.location})"
                        )
        for name in sorted(fields - carried if not self.partial else ()):
            self.violation(f"no event in {', '.join(self.workflows)} carries a field '{name}'")
        for u, v, k, t in self.transitions():
            leak = self.leak(t, fields)
            if leak:
                path = self.shortest_to(self.graph, u) or []
                self.violation(leak, [*path, edge_step(self.graph, u, v, k)], t)
        self.message_leaks(fields)

    def message_leaks(self, fields: set[str]) -> None:
        """A guard's refusal message must not show a secret payload field (or the payload)."""
        for wf in self.workflows.values():
            for guard in wf.guards.values():
                for template in (guard.message, guard.message_when_true):
                    if template is None:
                        continue
                    for part in template.parts:
                        source = getattr(part, "source", None)
                        if source is None:
                            continue
                        for found in _payload_reads(source):
                            if found in fields or found == "":
                                self.violation(
                                    f"the refusal message of guard '{guard.name}' shows "
                                    f"{_what(found)} ({guard.location})"
                                )

    @staticmethod
    def leak(transition: Transition, fields: set[str]) -> str:
        for action in transition.actions:
            sources = [action.value.source if action.value else ""]
            sources.append(action.for_in.source if action.for_in else "")
            sources += [s.key.source for s in action.target.steps if s.key is not None]
            for source in sources:
                for found in _payload_reads(source):
                    if found in fields or found == "":
                        return (
                            f"'{transition.event}' stores {_what(found)} "
                            f"in {action.target.text} ({action.location})"
                        )
        return ""

    # -- no_writes_on ----------------------------------------------------------------------------

    def no_writes_on(self) -> None:
        import networkx as nx  # noqa: PLC0415 - networkx: only the invariant checks need it; `linkflow send` must not load it

        wanted = set(self.invariant.outcomes)
        ends = [
            (wf.name, s.name)
            for wf in self.workflows.values()
            for s in wf.states.values()
            if s.final in wanted and not (s.handoff and s.handoff in self.workflows)
        ]
        if not ends:
            return
        reach = nx.single_source_shortest_path(self.graph, self.start)
        back = nx.multi_source_dijkstra_path(self.graph.reverse(copy=False), set(ends))
        pattern = parse_pattern(self.invariant.writes) if self.invariant.writes else None
        reported: set[tuple[str, int]] = set()
        for u, v, k, t in sorted(
            self.edges(), key=lambda e: (len(reach.get(e[0], ())), key_order(e[2]))
        ):
            wf = self.workflows[u[0]]
            if k in reported or u not in reach or v not in back:
                continue
            if not any(
                writes_world(wf, a)
                and (pattern is None or pattern_matches(pattern, write_parts(wf, a)))
                for a in t.actions
            ):
                continue
            reported.add(k)
            tail_nodes = list(reversed(back[v]))
            end = tail_nodes[-1]
            outcome = self.workflows[end[0]].states[end[1]].final
            path = [
                *node_path_steps(self.graph, reach[u]),
                edge_step(self.graph, u, v, k),
                *node_path_steps(self.graph, tail_nodes),
            ]
            label = outcome.value if outcome else "?"
            self.violation(
                f"'{t.event}' writes to the world, and the path then ends {label} in '{end[1]}'",
                path,
                t,
                "move the write to the transition that completes the flow",
            )

    # -- idempotent ------------------------------------------------------------------------------

    def idempotent(self) -> None:
        event = self.invariant.event
        if event not in self.event_names():
            if not self.partial:
                self.violation(f"names unknown event '{event}'")
            return
        for u, v, k, t in self.transitions():
            if t.event != event or not t.actions:
                continue
            wf = self.workflows[u[0]]
            here: Node = v
            hand: list[ChainStep] = []
            state = wf.states[v[1]]
            nxt = self.workflows.get(state.handoff) if state.handoff else None
            if nxt is not None:
                here = (nxt.name, nxt.initial)
                hand = [ChainStep(wf.name, v[1], nxt.initial, None, nxt.name)]
            again_wf = self.workflows[here[0]]
            for declared in again_wf.by_source.get((here[1], event), ()):
                again = with_entry_exit(again_wf, declared, here[1])
                unsafe = [a for a in again.actions if a.kind is ActionKind.APPEND]
                if not unsafe:
                    continue
                prefix = self.shortest_to(self.graph, u) or []
                self.violation(
                    f"'{event}' sent twice writes twice: the repeat appends to "
                    f"{unsafe[0].target.text} ({unsafe[0].location})",
                    [
                        *prefix,
                        edge_step(self.graph, u, v, k),
                        *hand,
                        ChainStep(here[0], here[1], again.target_from(here[1]), again),
                    ],
                    again,
                    f"refuse '{event}' in '{here[1]}', or write with `add` instead of `append`",
                )
                break


def _payload_reads(source: str) -> list[str]:
    """Payload fields an expression reads; '' for the whole payload or a computed field."""
    found = []
    for match in re.finditer(r"\bpayload\b", source):
        rest = source[match.end() :]
        field_match = re.match(r"\s*\.\s*([A-Za-z_]\w*)|\s*\[\s*['\"]([^'\"]+)['\"]\s*\]", rest)
        if field_match:
            found.append(field_match.group(1) or field_match.group(2))
        else:
            found.append("")
    return found


def _what(found: str) -> str:
    return f"the payload field '{found}'" if found else "the whole payload (or a computed field)"


_CHECKS = {
    InvariantKind.REQUIRES: _Checker.requires,
    InvariantKind.NEVER_STORES: _Checker.never_stores,
    InvariantKind.NO_WRITES_ON: _Checker.no_writes_on,
    InvariantKind.IDEMPOTENT: _Checker.idempotent,
}


def _chain_graph_of(workflows: dict[str, Workflow]) -> nx.MultiDiGraph:
    """The chain graph of these workflow objects, built once for all their invariants (the
    last one is kept: `violations` checks every invariant of a workflow over the same scope)."""
    key = tuple((name, id(wf)) for name, wf in workflows.items())
    cached = _LAST_GRAPH.get(key)
    if cached is None:
        _LAST_GRAPH.clear()
        cached = _LAST_GRAPH[key] = (tuple(workflows.values()), chain_graph(workflows))
    return cached[1]


#: The last chain graph built, keyed by its workflows' identities (which it keeps alive).
_LAST_GRAPH: dict[tuple[tuple[str, int], ...], tuple[tuple[Workflow, ...], Any]] = {}


def check_invariant(
    workflow: Workflow, invariant: Invariant, workflows: Mapping[str, Workflow] | None = None
) -> list[Violation]:
    """Every way `invariant` of `workflow` is broken (empty when it holds)."""
    within = scope(workflow, workflows)
    checker = _Checker(workflow, invariant, within, _chain_graph_of(within))
    _CHECKS[invariant.kind](checker)
    return checker.out


def violations(
    workflow: Workflow, workflows: Mapping[str, Workflow] | None = None
) -> list[Violation]:
    out: list[Violation] = []
    for invariant in workflow.invariants.values():
        out.extend(check_invariant(workflow, invariant, workflows))
    return out


def invariant_problems(
    workflow: Workflow, workflows: Mapping[str, Workflow] | None = None
) -> list[Problem]:
    """The invariants of `workflow` that do not hold, as located problems. Pass every loaded
    workflow as `workflows` so that handoffs are followed."""
    return [v.problem() for v in violations(workflow, workflows)]


def all_invariant_problems(workflows: Mapping[str, Workflow]) -> list[Problem]:
    """The broken invariants of every workflow, following handoffs among them (for the loader)."""
    out: list[Problem] = []
    for workflow in workflows.values():
        out.extend(invariant_problems(workflow, workflows))
    return out
