"""What an exploration finds: the decision table's rows, loops, contradictions, dead events.

Plain records, kept apart from the searches that fill them (linkflow.analysis.explore_*) and
the reports that print them (linkflow.analysis.explore_report), which both read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from linkflow.language.model import Transition, Workflow


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
