"""The decision table: every path from the initial state, depth first, within the bounds.

One row per way a path ends (a final state, a refusal), with the guard outcomes it assumed;
rows that need strictly more assumptions than another with the same ending are dropped. Every
bound hit is recorded on the exploration so the report can say the table is incomplete.
"""

from __future__ import annotations

from typing import Any

from linkflow.analysis.explore_logic import Assumptions, GuardLogic
from linkflow.analysis.explore_results import Check, Ending, Exploration, Row
from linkflow.language.model import Transition

_Partial = tuple[
    str, Assumptions, tuple[Check, ...], tuple[str, ...], tuple[Transition, ...], tuple[str, ...]
]


class DecisionTable:
    """The path search and its rows; `run` walks, `finish` sorts the rows and notes the bounds."""

    def __init__(
        self, logic: GuardLogic, result: Exploration, depth: int, loops: int, paths: int, nodes: int
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
                    target = transition.target_from(state)
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
