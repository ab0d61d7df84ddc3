"""Coverage: which states, transitions and guard outcomes a scenario suite exercises.

`measure` is a pure function over the steps scenarios took, as (workflow name, Step) pairs:
it needs no runner. A state is covered when an instance was in it; a transition when a step
took it; a guard use (a guard as one transition lists it, `!g` included) has two outcomes to
cover, holding and refusing, seen in `Step.checks`. Transitions are numbered by their position
in `Workflow.transitions` (equal to `Transition.index` for declared transitions; the timeout
transitions the engine adds come after them), the same keys `linkflow.language.graph.workflow_graph`
uses, so a diagram can highlight `CoverageReport.uncovered_transitions(name)` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkflow.language.model import Transition, Workflow
from linkflow.testing.scenarios import catalog, run_scenario_file, scenario_files

if TYPE_CHECKING:
    from linkflow.errors import Problem
    from linkflow.runtime.steps import Step
    from linkflow.testing.scenarios import ScenarioResult


def transition_position(workflow: Workflow, transition: Transition, source: str = "") -> int:
    """The position of `transition` in `workflow.transitions`, or -1 if it is not there."""
    if transition.index >= 0 and not transition.is_timeout:
        return transition.index if transition.index < len(workflow.transitions) else -1
    for number, candidate in enumerate(workflow.transitions):
        if candidate.is_timeout and (source or transition.sources[0]) in candidate.sources:
            return number
    return -1


def _ratio(covered: int, total: int) -> float:
    return 100.0 if total == 0 else 100.0 * covered / total


@dataclass
class WorkflowCoverage:
    """What the scenarios exercised in one workflow."""

    workflow: Workflow
    states: set[str] = field(default_factory=set)
    transitions: set[int] = field(default_factory=set)
    #: (transition position, guard label) -> the outcomes seen: True held, False refused.
    guards: dict[tuple[int, str], set[bool]] = field(default_factory=dict)

    def guard_uses(self) -> list[tuple[int, str]]:
        return [
            (number, use.label)
            for number, t in enumerate(self.workflow.transitions)
            for use in t.guards
        ]

    @property
    def uncovered_states(self) -> list[str]:
        return [s for s in self.workflow.states if s not in self.states]

    @property
    def uncovered_transitions(self) -> list[int]:
        return [n for n in range(len(self.workflow.transitions)) if n not in self.transitions]

    @property
    def never_held(self) -> list[tuple[int, str]]:
        return [u for u in self.guard_uses() if True not in self.guards.get(u, ())]

    @property
    def never_refused(self) -> list[tuple[int, str]]:
        return [u for u in self.guard_uses() if False not in self.guards.get(u, ())]

    def counts(self) -> dict[str, tuple[int, int]]:
        """(covered, total) for states, transitions and guard outcomes."""
        uses = self.guard_uses()
        seen = sum(len(self.guards.get(u, ())) for u in uses)
        return {
            "states": (
                len(self.workflow.states) - len(self.uncovered_states),
                len(self.workflow.states),
            ),
            "transitions": (len(self.transitions), len(self.workflow.transitions)),
            "guard_outcomes": (seen, 2 * len(uses)),
        }

    def as_dict(self) -> dict[str, Any]:
        wf = self.workflow
        counts = self.counts()

        def describe(number: int) -> dict[str, Any]:
            t = wf.transitions[number]
            return {
                "index": number,
                "event": t.event,
                "from": list(t.sources),
                "to": t.target,
                "location": str(t.location),
            }

        def use(key: tuple[int, str]) -> dict[str, Any]:
            return {
                "transition": key[0],
                "guard": key[1],
                "location": str(wf.transitions[key[0]].location),
            }

        return {
            "file": wf.file,
            **{
                kind: {"covered": c, "total": t, "percent": round(_ratio(c, t), 1)}
                for kind, (c, t) in counts.items()
            },
            "uncovered_states": self.uncovered_states,
            "uncovered_transitions": [describe(n) for n in self.uncovered_transitions],
            "guards_never_held": [use(k) for k in self.never_held],
            "guards_never_refused": [use(k) for k in self.never_refused],
        }


@dataclass
class CoverageReport:
    """Coverage per workflow; what a diagram needs is `uncovered_transitions(name)` and
    `never_refused(name)`, both keyed by transition position."""

    workflows: dict[str, WorkflowCoverage]
    scenarios: int = 0
    problems: list[Problem] = field(default_factory=list)

    def uncovered_transitions(self, workflow: str) -> list[int]:
        return self.workflows[workflow].uncovered_transitions

    def never_refused(self, workflow: str) -> list[tuple[int, str]]:
        return self.workflows[workflow].never_refused

    def totals(self) -> dict[str, tuple[int, int]]:
        out = {"states": (0, 0), "transitions": (0, 0), "guard_outcomes": (0, 0)}
        for cov in self.workflows.values():
            for kind, (c, t) in cov.counts().items():
                out[kind] = (out[kind][0] + c, out[kind][1] + t)
        return out

    def percent(self, kind: str = "transitions") -> float:
        covered, total = self.totals()[kind]
        return _ratio(covered, total)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenarios": self.scenarios,
            "total": {
                kind: {"covered": c, "total": t, "percent": round(_ratio(c, t), 1)}
                for kind, (c, t) in self.totals().items()
            },
            "workflows": {name: cov.as_dict() for name, cov in self.workflows.items()},
            "problems": [p.as_dict() for p in self.problems],
        }

    def table(self) -> str:
        """A plain-text table, then what is missing per workflow."""
        header = ["workflow", "states", "transitions", "guard outcomes"]
        rows = []

        def cell(pair: tuple[int, int]) -> str:
            return f"{pair[0]}/{pair[1]} {_ratio(*pair):5.1f}%"

        for name, cov in self.workflows.items():
            counts = cov.counts()
            rows.append(
                [name, *(cell(counts[k]) for k in ("states", "transitions", "guard_outcomes"))]
            )
        totals = self.totals()
        rows.append(
            ["total", *(cell(totals[k]) for k in ("states", "transitions", "guard_outcomes"))]
        )
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
            for r in [header, *rows]
        ]
        for name, cov in self.workflows.items():
            wf = cov.workflow
            missing = [f"    state '{s}' ({wf.states[s].location})" for s in cov.uncovered_states]
            missing += [
                f"    transition {wf.transitions[n].label} ({wf.transitions[n].location})"
                for n in cov.uncovered_transitions
            ]
            missing += [
                f"    guard {label} never refused on {wf.transitions[n].label} "
                f"({wf.transitions[n].location})"
                for n, label in cov.never_refused
            ]
            missing += [
                f"    guard {label} never held on {wf.transitions[n].label} "
                f"({wf.transitions[n].location})"
                for n, label in cov.never_held
            ]
            if missing:
                lines += ["", f"{name}: not covered", *missing]
        return "\n".join(lines)


def measure(
    workflows: Mapping[str, Workflow],
    steps: Iterable[tuple[str, Step]],
    started: Iterable[str] = (),
    scenarios: int = 0,
) -> CoverageReport:
    """Coverage of `workflows` by `steps` (workflow name, Step); `started` names workflows an
    instance was created in (their initial state counts as visited), e.g. handoff targets."""
    report = CoverageReport(
        {name: WorkflowCoverage(wf) for name, wf in workflows.items()}, scenarios
    )
    for name in started:
        cov = report.workflows.get(name)
        if cov is not None:
            cov.states.add(cov.workflow.initial)
    for name, step in steps:
        cov = report.workflows.get(name)
        if cov is None:
            continue
        wf = cov.workflow
        # an instance with a step in this workflow started in its initial state
        cov.states.update((wf.initial, step.source))
        if step.transition is not None:
            cov.states.add(step.target)
            # one event taken in several regions at once: each region's transition
            for taken in step.transition.parts or (step.transition,):
                number = transition_position(wf, taken, step.source)
                if number >= 0:
                    cov.transitions.add(number)
            # a compound state's done event, taken in the same step from its done state
            for chained, left in step.chained:
                cov.states.add(left)
                number = transition_position(wf, chained, left)
                if number >= 0:
                    cov.transitions.add(number)
        for index, label, held in step.checks:
            if 0 <= index < len(wf.transitions):
                cov.guards.setdefault((index, label), set()).add(held)
    return report


# -- running a suite ----------------------------------------------------------------------------


def run_suite(
    paths: Iterable[str | Path],
    run: Callable[[Path], ScenarioResult] = run_scenario_file,
) -> CoverageReport:
    """Run every scenario under `paths` (linkflow.testing.scenarios) and measure what they
    covered, over every workflow of the folders the scenarios load their workflows from.

    `run` runs one scenario file: the studio passes one that reuses the result of a file that
    has not changed since it last ran.
    """
    files, problems = scenario_files(paths)
    workflows: dict[str, Workflow] = {}
    steps: list[tuple[str, Step]] = []
    started: list[str] = []
    for path in files:
        result = run(Path(path))
        problems.extend(result.problems)
        if result.source is not None:
            for name, wf in catalog(result.source).workflows.items():
                workflows.setdefault(name, wf)
        if result.workflow:
            started.append(result.workflow)
        for entry in result.steps:
            steps.append((entry.workflow, entry.step))
            if entry.handed_to:
                started.append(entry.handed_to)
    report = measure(dict(sorted(workflows.items())), steps, started, len(files))
    report.problems = problems
    return report
