"""Exhaustive exploration: every path from the initial state, with guards as free booleans.

How guard outcomes are modelled
-------------------------------
A guard's real value depends on the data, the world and the event's payload, which a static
analysis does not have; so each named guard is a free boolean, constrained only by what the
workflow says about it: `!g` is the negation of `g`, and at most one guard of an `exclusive`
group holds at a time. Guards re-evaluate at every step, so we must decide when two checks of
the same guard on one path must agree. The choice made here, a per-path assumption with
invalidation:

- A guard that reads only `data` and bindings keeps, along one path, the outcome it was first
  assumed to have (the world does not change behind the actor's back during one run), until a
  transition on the path writes something it reads: a write to `data.f` forgets every guard
  that reads `data.f`, itself or through the key of a binding it uses (a guard that uses `data`
  other than as `data.<field>` reads all of it), and a write to a world collection forgets the
  guards that use a binding on that collection. After that the guard is free again (e.g. "the
  selection is not empty" after the selection changed).
- A guard that reads `payload` is fresh at every step: a new event brings a new payload (a
  wrong password, then the right one after a retry). Within one step it has one value.

So "the same guard assumed both true and false on every path reaching a state" is a real
contradiction: no run can get there. A refused event changes nothing, so a path ends at a
refusal (the table row is the refusal); a path also ends at a final state, or where a bound
cuts it: `max_depth` events, each state visited at most `max_loops + 1` times (loop
unrolling), at most `max_paths` table rows and `max_nodes` search steps. Every bound that is
hit is reported, with the option that raises it.

Reachability under consistent assumptions (for the contradiction and never-accepted reports)
is a separate breadth-first search over (state, assumptions) with subsumption (a node with
fewer assumptions covers one with more), also bounded by `max_nodes`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import pairwise, product
from typing import Any

from linkflow.language.markdown import code, md
from linkflow.language.model import GuardUse, Transition, Workflow

#: A set of assumptions: (guard name, value) pairs.
Assumptions = frozenset[tuple[str, bool]]

DEFAULT_MAX_DEPTH = 40
DEFAULT_MAX_LOOPS = 1
DEFAULT_MAX_PATHS = 2000
DEFAULT_MAX_NODES = 50_000


@dataclass(frozen=True, slots=True)
class Check:
    """One guard outcome assumed on a path: at a step, on a transition."""

    step: int
    guard: str
    held: bool
    rule: str = ""


@dataclass(frozen=True, slots=True)
class Ending:
    """How a path ends: a final state's outcome, a refusal, or a bound."""

    kind: str  # an Outcome value, "refused_event" or "cut"
    state: str
    guard: str = ""
    rule: str = ""
    event: str = ""
    handoff: str = ""

    def describe(self) -> str:
        if self.kind == "refused_event":
            rule = f" [{self.rule}]" if self.rule else ""
            return f"'{self.event}' refused by {self.guard}{rule} in '{self.state}' (stays)"
        if self.kind == "cut":
            return f"cut by a bound in '{self.state}'"
        to = f", hands off to {self.handoff}" if self.handoff else ""
        return f"{self.kind} in '{self.state}'{to}"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the decision table: guard outcomes in order, the ending and the path."""

    checks: tuple[Check, ...]
    ending: Ending
    events: tuple[str, ...]
    transitions: tuple[Transition, ...]

    def outcome_of(self, guard: str) -> str:
        """'yes', 'no', '-' (not checked), or e.g. 'no, yes' when it changed along the path."""
        seen: list[str] = []
        for check in self.checks:
            if check.guard == guard:
                word = "yes" if check.held else "no"
                if not seen or seen[-1] != word:
                    seen.append(word)
        return ", ".join(seen) or "-"

    def as_dict(self) -> dict[str, Any]:
        return {
            "guards": [
                {"step": c.step, "guard": c.guard, "held": c.held, "rule": c.rule}
                for c in self.checks
            ],
            "outcome": self.ending.kind,
            "state": self.ending.state,
            "refused_by": self.ending.guard or None,
            "rule": self.ending.rule or None,
            "handoff": self.ending.handoff or None,
            "ending": self.ending.describe(),
            "path": list(self.events),
        }


@dataclass(frozen=True, slots=True)
class Loop:
    """A cycle reachable from the initial state: the way in and the loop itself."""

    entry: tuple[str, ...]
    states: tuple[str, ...]
    events: tuple[str, ...]

    def describe(self) -> str:
        parts = [self.states[0]]
        for event, state in zip(self.events, self.states[1:], strict=True):
            parts.append(f"-({event})-> {state}")
        into = ", ".join(self.entry) if self.entry else "(the initial state)"
        return f"{' '.join(parts)}; reached by: {into}; nothing bounds the number of rounds"


@dataclass(frozen=True, slots=True)
class Contradiction:
    """A state only reachable under contradictory guard assumptions."""

    state: str
    path: tuple[str, ...]
    guards: tuple[str, ...]

    def describe(self) -> str:
        why = ", ".join(f"'{g}'" for g in self.guards) or "an exclusive group"
        return (
            f"'{self.state}' needs contradictory guard outcomes on every path "
            f"(e.g. {', '.join(self.path)}: {why} both true and false)"
        )


@dataclass(frozen=True, slots=True)
class DeadEvent:
    """A declared event no transition can ever accept under consistent assumptions."""

    event: str
    reasons: tuple[str, ...]

    def describe(self) -> str:
        return f"'{self.event}' can never be accepted: " + "; ".join(self.reasons)


@dataclass
class Exploration:
    workflow: Workflow
    rows: list[Row] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)
    contradictions: list[Contradiction] = field(default_factory=list)
    dead_events: list[DeadEvent] = field(default_factory=list)
    #: transitions (positions in workflow.transitions) some consistent path takes.
    feasible: set[int] = field(default_factory=set)
    bounds: list[str] = field(default_factory=list)
    #: True when the consistent-reachability search was complete (so the reports are exact).
    complete: bool = True

    @property
    def guards(self) -> list[str]:
        """Guard names in the order the table's rows first check them."""
        seen: dict[str, None] = {}
        for row in self.rows:
            for check in row.checks:
                seen.setdefault(check.guard, None)
        return list(seen)


# -- the guard logic ----------------------------------------------------------------------------


class _Logic:
    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.positions = {id(t): n for n, t in enumerate(workflow.transitions)}
        bindings = set(workflow.bindings)
        self.fresh = {n for n, g in workflow.guards.items() if "payload" in g.when.names}
        #: the data fields each guard reads, itself or through a binding's key; "*" for all
        self.data_fields: dict[str, set[str]] = {}
        for n, g in workflow.guards.items():
            sources = [g.when.source] if "data" in g.when.names else []
            sources += [workflow.bindings[b].key.source for b in g.when.names & bindings]
            fields = self.data_fields.setdefault(n, set())
            for source in sources:
                fields |= _data_fields(source)
        self.reads_collection: dict[str, set[str]] = {}
        for n, g in workflow.guards.items():
            for b in g.when.names & bindings:
                self.reads_collection.setdefault(workflow.bindings[b].collection, set()).add(n)
        #: events accepted per state, in definition order (Workflow.events_from scans all)
        self.events: dict[str, list[str]] = {}
        for t in workflow.transitions:
            for source in t.sources:
                accepted = self.events.setdefault(source, [])
                if t.event not in accepted:
                    accepted.append(t.event)
        self.forgets: dict[int, frozenset[str]] = {}
        for t in workflow.transitions:
            self.forgets[id(t)] = frozenset(self._forgets(t))

    def _forgets(self, transition: Transition) -> set[str]:
        out: set[str] = set()
        for action in transition.actions:
            root = action.target.root
            if root == "data":
                written = action.target.steps[0].name or "*"
                out |= {
                    g
                    for g, fields in self.data_fields.items()
                    if written in fields or "*" in fields or (written == "*" and fields)
                }
            elif root == "world":
                first = action.target.steps[0].name or ""
                out |= self.reads_collection.get(first, set())
            else:
                collection = self.workflow.bindings[root].collection
                out |= self.reads_collection.get(collection, set())
        return out

    def consistent(self, values: Mapping[str, bool]) -> bool:
        for group in self.workflow.exclusive:
            if sum(1 for g in group if values.get(g) is True) > 1:
                return False
        return True

    def assume(
        self, known: Mapping[str, bool], uses: list[tuple[GuardUse, bool]]
    ) -> dict[str, bool] | None:
        """`known` plus each use's guard having the outcome that makes the use pass (True) or
        fail (False); None when that contradicts."""
        values = dict(known)
        for use, passes in uses:
            value = passes != use.negated
            name = use.guard.name
            if values.get(name, value) != value:
                return None
            values[name] = value
        return values if self.consistent(values) else None

    def branches(
        self, state: str, event: str, known: Assumptions
    ) -> Iterator[tuple[Transition | None, list[tuple[GuardUse, bool]], dict[str, bool]]]:
        """Each way `event` can go in `state`: (transition taken or None for a refusal, the
        guard checks made in order, the values assumed)."""
        base = dict(known)
        candidates = self.workflow.by_source.get((state, event), ())
        for transition in candidates:
            # candidates on one (state, event) are pairwise exclusive (the loader checks it), so
            # when this one passes, the earlier ones fail whatever their other guards do
            uses = [(u, True) for u in transition.guards]
            values = self.assume(base, uses)
            if values is not None:
                yield transition, uses, values
        for fails in product(*(_failures(c) for c in candidates)):
            uses = [u for f in fails for u in f]
            values = self.assume(base, uses)
            if values is not None:
                yield None, uses, values

    def after(self, transition: Transition, values: Mapping[str, bool]) -> Assumptions:
        forget = self.forgets[id(transition)] | self.fresh
        return frozenset((g, v) for g, v in values.items() if g not in forget)


def _data_fields(source: str) -> set[str]:
    """The `data.<field>` names an expression reads; "*" when it uses `data` otherwise."""
    fields: set[str] = set()
    for match in re.finditer(r"\bdata\b(\s*\.\s*([A-Za-z_]\w*))?", source):
        fields.add(match.group(2) or "*")
    return fields


def _failures(transition: Transition) -> list[list[tuple[GuardUse, bool]]]:
    """Each way a transition's guards can fail: the ones before hold, then one fails."""
    uses = transition.guards
    return [[(u, True) for u in uses[:j]] + [(uses[j], False)] for j in range(len(uses))]


# -- the decision table --------------------------------------------------------------------------


_Partial = tuple[
    str, Assumptions, tuple[Check, ...], tuple[str, ...], tuple[Transition, ...], tuple[str, ...]
]


class _Paths:
    def __init__(
        self, logic: _Logic, result: Exploration, depth: int, loops: int, paths: int, nodes: int
    ) -> None:
        self.logic = logic
        self.workflow = logic.workflow
        self.result = result
        self.max_depth, self.max_loops, self.max_paths, self.max_nodes = depth, loops, paths, nodes
        self.rows: dict[tuple[Any, ...], Row] = {}
        self.cut_depth = self.cut_loops = self.expanded = 0
        self.stopped = ""

    def run(self) -> None:
        wf = self.workflow
        # an explicit stack: (state, assumptions, checks, events, transitions, states entered)
        stack: list[_Partial] = [(wf.initial, frozenset(), (), (), (), (wf.initial,))]
        while stack:
            state, known, checks, events, taken, entered = stack.pop()
            self.expanded += 1
            if self.expanded > self.max_nodes:
                self.stopped = f"after {self.max_nodes:,} search steps (--max-nodes)"
                return
            if len(self.rows) >= self.max_paths:
                self.stopped = f"at {self.max_paths:,} table rows (--max-paths)"
                return
            final = wf.states[state]
            if final.final is not None:
                self.add(
                    checks, Ending(final.final.value, state, handoff=final.handoff), events, taken
                )
                continue
            if len(events) >= self.max_depth:
                self.cut_depth += 1
                continue
            later = []
            for event in self.logic.events.get(state, ()):
                for transition, uses, values in self.logic.branches(state, event, known):
                    step = len(events) + 1
                    new_checks = checks + tuple(
                        Check(step, u.guard.name, passes != u.negated, u.guard.rule)
                        for u, passes in uses
                    )
                    if transition is None:
                        failing = next(u for u, passes in uses if not passes)
                        ending = Ending(
                            "refused_event",
                            state,
                            failing.label,
                            failing.guard.rule,
                            event,
                        )
                        self.add(new_checks, ending, (*events, event), taken)
                        continue
                    target = transition.target
                    visits = entered.count(target)
                    if visits > self.max_loops:
                        self.cut_loops += 1
                        continue
                    later.append(
                        (
                            target,
                            self.logic.after(transition, values),
                            new_checks,
                            (*events, event),
                            (*taken, transition),
                            (*entered, target),
                        )
                    )
            stack.extend(reversed(later))

    def add(
        self,
        checks: tuple[Check, ...],
        ending: Ending,
        events: tuple[str, ...],
        taken: tuple[Transition, ...],
    ) -> None:
        dedup = (frozenset((c.guard, c.held) for c in checks), ending)
        row = Row(checks, ending, events, taken)
        old = self.rows.get(dedup)
        if old is None or len(events) < len(old.events):
            self.rows[dedup] = row

    def finish(self) -> None:
        order = {"completed": 0, "refused_event": 1}
        # a row is dropped when another with the same ending needs strictly fewer assumptions
        by_ending: dict[Ending, list[tuple[frozenset[tuple[str, bool]], Row]]] = {}
        for (assumed, ending), row in self.rows.items():
            by_ending.setdefault(ending, []).append((assumed, row))
        kept = [
            row
            for group in by_ending.values()
            for assumed, row in group
            if not any(other < assumed for other, _ in group)
        ]
        rows = sorted(
            kept,
            key=lambda r: (order.get(r.ending.kind, 2), r.ending.kind, len(r.events), r.events),
        )
        self.result.rows = rows
        if self.stopped:
            self.result.bounds.append(
                f"the search stopped {self.stopped}: the decision table is incomplete"
            )
        if self.cut_depth:
            self.result.bounds.append(
                f"{self.cut_depth:,} path(s) were cut at {self.max_depth} events (--max-depth)"
            )
        if self.cut_loops:
            self.result.bounds.append(
                f"{self.cut_loops:,} path(s) were cut where they would enter a state more than "
                f"{self.max_loops + 1} time(s) (loop unrolling, --max-loops)"
            )


# -- consistent reachability ------------------------------------------------------------------


def _reachability(
    logic: _Logic, result: Exploration, max_nodes: int
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
                result.feasible.add(logic.positions[id(transition)])
                nxt = logic.after(transition, values)
                kept = minimal.setdefault(transition.target, [])
                if any(k <= nxt for k in kept):
                    continue
                kept[:] = [k for k in kept if not nxt <= k]
                kept.append(nxt)
                queue.append((transition.target, nxt))
    return minimal


def _contradictions(wf: Workflow, reached: set[str]) -> list[Contradiction]:
    """Graph-reachable states that no consistent path reaches, each with its shortest path."""
    import networkx as nx

    from linkflow.language.graph import workflow_graph

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


def _dead_events(
    logic: _Logic, result: Exploration, minimal: Mapping[str, list[Assumptions]]
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


# -- loops ----------------------------------------------------------------------------------------


def find_loops(workflow: Workflow, limit: int = 50) -> list[Loop]:
    """One cycle per strongly connected component reachable from the initial state."""
    import networkx as nx

    from linkflow.language.graph import workflow_graph

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


# -- entry point ----------------------------------------------------------------------------------


def explore(
    workflow: Workflow,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_loops: int = DEFAULT_MAX_LOOPS,
    max_paths: int = DEFAULT_MAX_PATHS,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Exploration:
    """Explore every path of `workflow` within the bounds; see the module docstring."""
    result = Exploration(workflow)
    logic = _Logic(workflow)
    paths = _Paths(logic, result, max_depth, max_loops, max_paths, max_nodes)
    paths.run()
    paths.finish()
    minimal = _reachability(logic, result, max_nodes)
    if result.complete:
        result.contradictions = _contradictions(workflow, set(minimal))
        result.dead_events = _dead_events(logic, result, minimal)
    loops = find_loops(workflow)
    result.loops = loops
    return result


# -- reports ----------------------------------------------------------------------------------

MODEL_NOTE = (
    "Guards are free booleans: fixed along a path until a transition writes what they read; "
    "guards that read the payload are fresh at every step."
)


def _table(exploration: Exploration) -> tuple[list[str], list[list[str]]]:
    guards = exploration.guards
    header = ["#", *guards, "outcome", "path"]
    body = [
        [
            str(n),
            *(row.outcome_of(g) for g in guards),
            row.ending.describe(),
            ", ".join(row.events) or "(none)",
        ]
        for n, row in enumerate(exploration.rows, 1)
    ]
    return header, body


def _sections(exploration: Exploration) -> list[tuple[str, list[str]]]:
    return [
        (
            "Loops (cycles reachable from the initial state)",
            [x.describe() for x in exploration.loops],
        ),
        (
            "States reachable only under contradictory guard outcomes",
            [x.describe() for x in exploration.contradictions],
        ),
        ("Events that can never be accepted", [x.describe() for x in exploration.dead_events]),
    ]


def report_text(exploration: Exploration, invariants: list[tuple[str, str, list[str]]]) -> str:
    """The exploration as plain text; `invariants` holds (name, rule, violation texts)."""
    wf = exploration.workflow
    lines = [f"{wf.title} ({wf.file}): explored from '{wf.initial}'", MODEL_NOTE, ""]
    header, body = _table(exploration)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines.append(f"Decision table ({len(body)} row{'s' if len(body) != 1 else ''})")
    for row in [header, *body]:
        cells = [c.rjust(widths[0]) if i == 0 else c.ljust(widths[i]) for i, c in enumerate(row)]
        lines.append("  " + "  ".join(cells).rstrip())
    for title, items in _sections(exploration):
        lines += ["", f"{title}: {len(items) or 'none'}"]
        lines += [f"  - {item}" for item in items]
    lines += ["", _invariant_summary(invariants)]
    for name, rule, texts in invariants:
        tag = f" [{rule}]" if rule else ""
        if not texts:
            lines.append(f"  - {name}{tag}: holds")
        for text in texts:
            lines += ["  - " + text.replace("\n", "\n    ")]
    lines += ["", "Bounds: none hit" if not exploration.bounds else "Bounds hit:"]
    lines += [f"  - {b}" for b in exploration.bounds]
    return "\n".join(lines)


def _invariant_summary(invariants: list[tuple[str, str, list[str]]]) -> str:
    broken = sum(1 for _, _, texts in invariants if texts)
    if not invariants:
        return "Invariants: none declared"
    return f"Invariants: {len(invariants) - broken} hold, {broken} broken"


def report_markdown(exploration: Exploration, invariants: list[tuple[str, str, list[str]]]) -> str:
    wf = exploration.workflow

    cell = md  # every text from the workflow, escaped like the docs pages escape it
    lines = [f"# {md(wf.title)}: exploration", "", f"{code(wf.file)}, from {code(wf.initial)}.", ""]
    lines += [MODEL_NOTE, "", "## Decision table", ""]
    header, body = _table(exploration)
    lines.append("| " + " | ".join(h if h == "#" else cell(h) for h in header) + " |")
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in body]
    for title, items in _sections(exploration):
        lines += ["", f"## {title}", ""]
        lines += [f"- {cell(item)}" for item in items] or ["None."]
    lines += ["", "## Invariants", "", _invariant_summary(invariants) + ".", ""]
    for name, rule, texts in invariants:
        tag = f" ({md(rule)})" if rule else ""
        if not texts:
            lines.append(f"- {code(name)}{tag}: holds")
        for text in texts:
            fence = "`" * max([3, *(len(run) + 1 for run in re.findall("`+", text))])
            lines += [f"- {code(name)}{tag}: broken", "", fence, text, fence, ""]
    lines += ["", "## Bounds", ""]
    lines += [f"- {md(b)}" for b in exploration.bounds] or ["None hit."]
    return "\n".join(lines)


def report_json(exploration: Exploration, invariants: list[dict[str, Any]]) -> dict[str, Any]:
    wf = exploration.workflow
    return {
        "workflow": wf.name,
        "file": wf.file,
        "model": MODEL_NOTE,
        "guards": exploration.guards,
        "rows": [r.as_dict() for r in exploration.rows],
        "loops": [
            {"entry": list(x.entry), "states": list(x.states), "events": list(x.events)}
            for x in exploration.loops
        ],
        "contradictions": [
            {"state": x.state, "path": list(x.path), "guards": list(x.guards)}
            for x in exploration.contradictions
        ],
        "never_accepted": [
            {"event": x.event, "reasons": list(x.reasons)} for x in exploration.dead_events
        ],
        "invariants": invariants,
        "bounds": exploration.bounds,
        "complete": exploration.complete and not exploration.bounds,
    }
