"""Trying mutants: re-check each with the language's own checks, then run the scenarios that
can reach its workflow, in process, on the changed model; in parallel worker processes.

A mutant is *rejected* when the checks `load` runs refuse it (the language caught the
mistake), *killed* when a scenario's expectation fails on it, *crashed* when the only failures
it causes are a step the engine could not complete (an `add` on a string: the engine noticed,
no scenario did), *survived* when every scenario still passes, and *equivalent* when it
survived and a `# mutate: equivalent` comment says why nothing could notice
(linkflow.analysis.mutate.justify). An invariant that names what the mutant changes and refuses
it is set aside for it (`Mutant.is_named_by`), and the result says so: otherwise the invariant,
not the scenarios, would be measured.
Scenarios that reach the changed element first (seen in a run on the unchanged workflows) are
tried first, so most mutants die on their first scenario.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from linkflow.analysis.coverage import transition_position
from linkflow.analysis.mutate.justify import Justification, read_justifications
from linkflow.analysis.mutate.operators import OPERATORS, Mutant, mutants
from linkflow.errors import Problem
from linkflow.language.invariant_graph import scope
from linkflow.language.loader import load
from linkflow.language.model import Transition, Workflow
from linkflow.language.model_checks import recheck
from linkflow.language.scenario_check import read_scenario
from linkflow.language.yaml_loader import Document
from linkflow.runtime.actions import ActionFailed
from linkflow.runtime.session import EngineCache, SessionStep
from linkflow.runtime.steps import RefusalKind, Step
from linkflow.testing.scenarios import ScenarioResult, engines, run_scenario, scenario_files


class Verdict(StrEnum):
    #: A scenario's expectation failed: the only verdict the score counts as a kill.
    KILLED = "killed"
    #: Every failing scenario failed only because a step crashed (reported, not scored).
    CRASHED = "crashed"
    SURVIVED = "survived"
    EQUIVALENT = "equivalent"
    REJECTED = "rejected"
    NOT_RUN = "not_run"


@dataclass(frozen=True)
class Spec:
    """What a run is about, in a form a worker process can rebuild the suite from."""

    workflow_paths: tuple[str, ...]
    #: The workflows to mutate, by name; None for every workflow loaded.
    selected: tuple[str, ...] | None
    scenario_paths: tuple[str, ...]
    operators: tuple[str, ...] = tuple(OPERATORS)


@dataclass
class Scenario:
    """A scenario file, read once, with what it did on the unchanged workflows."""

    doc: Document
    source: Path
    #: The workflow it starts and every workflow that one may hand off to.
    reaches: frozenset[str]
    #: (number of the step in the file, what happened), for the steps that did something.
    steps: list[tuple[int, SessionStep]]
    #: The compiled workflows of its source, and their files (resolved), by name.
    engines: EngineCache
    files: dict[str, Path]
    #: Every (workflow, state) its run on the unchanged workflows was in.
    visited: frozenset[tuple[str, str]] = frozenset()

    @property
    def file(self) -> str:
        return self.doc.file

    def may_notice(self, mutant: Mutant) -> bool:
        """False when this scenario cannot behave differently on `mutant`: the mutant
        changes what happens only in some states of its workflow (the sources of the changed
        transition, the widened or final state), and a run is the same as on the unchanged
        workflows until it is in one of them. Skipping such a scenario saves its run, most
        of all when a crash or a survivor makes every other scenario worth a try."""
        if mutant.operator == "unmark_secret":
            return True  # a field secret anywhere is secret with every event: no one state
        if mutant.operator in ("widen_from", "complete_final"):
            states: tuple[str, ...] = (mutant.state,)
        elif mutant.transition is not None:
            states = mutant.transition.sources
        else:  # pragma: no cover - every other operator changes a transition
            return True
        return any((mutant.workflow, state) in self.visited for state in states)


@dataclass(frozen=True)
class Reach:
    """Where a scenario first reaches a mutant's element: the step, in words."""

    scenario: Scenario
    step: int
    what: str

    def __str__(self) -> str:
        line = self.scenario.doc.locate(("steps", self.step - 1)).line if self.step else 0
        where = f"{self.scenario.file}:{line}" if line else self.scenario.file
        return f"{where} step {self.step}: {self.what}" if self.step else f"{where}: {self.what}"


@dataclass
class Suite:
    spec: Spec
    workflows: dict[str, Workflow]
    mutants: list[Mutant]
    scenarios: list[Scenario]
    justifications: list[Justification] = field(default_factory=list)
    #: What stops the run: scenarios that do not load, or fail on the unchanged workflows.
    problems: list[Problem] = field(default_factory=list)
    #: `# mutate:` comments that are malformed, stale or wrong: reported, and fail the run.
    justification_problems: list[Problem] = field(default_factory=list)
    #: The workflows each workflow's invariants speak for (itself and its handoffs), by name.
    _scopes: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def set_aside(self, mutant: Mutant) -> list[tuple[str, str]]:
        """The invariants, as (workflow, invariant), that name what `mutant` changed and
        cover its workflow: what they say about it is set aside (see `Mutant.is_named_by`).
        No mutant changes a handoff, so the scopes are the original's."""
        if not self._scopes:
            self._scopes = {
                name: frozenset(scope(wf, self.workflows)) for name, wf in self.workflows.items()
            }
        out: list[tuple[str, str]] = []
        for name, wf in self.workflows.items():
            owner = mutant.model if name == mutant.workflow else wf
            if mutant.workflow not in self._scopes.get(name, frozenset({name})):
                continue
            out += [
                (name, i) for i, inv in owner.invariants.items() if mutant.is_named_by(inv, owner)
            ]
        return out

    def touching(self, workflow: Workflow) -> list[Scenario]:
        """The scenarios that can reach `workflow`: it is their start or a handoff from it, in
        the same file (not a workflow of the same name from another folder)."""
        wanted = Path(workflow.file).resolve()
        return [
            s
            for s in self.scenarios
            if workflow.name in s.reaches and s.files.get(workflow.name) == wanted
        ]

    def unreached(self) -> list[str]:
        """The mutated workflows no scenario can reach (all their mutants will survive)."""
        names = dict.fromkeys(m.workflow for m in self.mutants)
        return [name for name in names if not self.touching(self.workflows[name])]

    def scenarios_for(self, mutant: Mutant) -> list[tuple[Scenario, Reach | None]]:
        """The scenarios that can reach the mutant's workflow and may notice it
        (`Scenario.may_notice`), those that reach its element first (nearest step first), each
        with where it does."""
        found = [
            (s, first_reach(mutant, s)) for s in self.touching(mutant.model) if s.may_notice(mutant)
        ]
        found.sort(key=lambda p: (p[1] is None, p[1].step if p[1] else 0, len(p[0].steps)))
        return found


@dataclass(frozen=True)
class Crash:
    """A step the engine could not complete on a mutant: where in which scenario, the event,
    the exception's class and the first line of its message. What the engine says, so that a
    kill nobody expected is told apart from one a scenario asked for."""

    scenario: str
    step: int
    event: str
    exception: str
    message: str

    def __str__(self) -> str:
        where = f"{self.scenario} step {self.step}: {self.event}" if self.step else self.scenario
        return f"{where} crashed: {self.exception}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "step": self.step,
            "event": self.event,
            "exception": self.exception,
            "message": self.message,
        }


class Trial(NamedTuple):
    """What trying one mutant found (what a worker process sends back)."""

    number: int
    verdict: Verdict
    #: killed: the failure that killed it; crashed: the crash; rejected: what the checks said.
    detail: str = ""
    crash: Crash | None = None
    #: The invariants that refused it only for naming what it changed, as `workflow.invariant`.
    set_aside: tuple[str, ...] = ()


@dataclass(frozen=True)
class MutantResult:
    number: int
    mutant: Mutant
    verdict: Verdict
    #: killed: the failure that killed it; crashed: the crash; rejected: what the checks said.
    detail: str = ""
    justification: Justification | None = None
    #: survived: the nearest scenario step that reaches the changed element.
    nearest: str = ""
    #: crashed: what crashed.
    crash: Crash | None = None
    #: The invariants that would have refused it only for naming what it changed, set aside
    #: so that it met the scenarios, as `workflow.invariant`.
    set_aside: tuple[str, ...] = ()


def first_reach(mutant: Mutant, scenario: Scenario) -> Reach | None:
    """The first step of `scenario` that reaches what `mutant` changed, or None."""
    start = scenario.doc.value["workflow"]
    if (
        mutant.operator == "widen_from"
        and start == mutant.workflow
        and scenario.engines.workflows[start].initial == mutant.state
    ):
        return Reach(scenario, 0, f"starts in '{mutant.state}'")
    workflow = scenario.engines.workflows[mutant.workflow]
    initial = workflow.initial
    for number, entry in scenario.steps:
        if entry.workflow == mutant.workflow:
            what = _reached(mutant, workflow, entry.step)
            if what:
                return Reach(scenario, number, what)
        if (
            mutant.operator == "widen_from"
            and entry.handed_to == mutant.workflow
            and initial == mutant.state
        ):
            return Reach(scenario, number, f"hands off to {mutant.workflow} in '{initial}'")
    return None


def _reached(mutant: Mutant, workflow: Workflow, step: Step) -> str:
    """How `step` (of `workflow`, the mutant's original) reaches what `mutant` changed, in
    words, or ''. Transitions are matched by position, as coverage counts them."""
    by_step = _STEP_REACHES.get(mutant.operator)
    if by_step is not None:
        return by_step(mutant, step)
    t = mutant.transition
    if t is None:
        return ""
    position = transition_position(workflow, t)
    if mutant.operator in ("drop_guard", "negate_guard"):  # the element is the guard check
        return _guard_checked(mutant, t, step, position)
    return _taken(workflow, t, step, position)


def _taken(workflow: Workflow, t: Transition, step: Step, position: int) -> str:
    """How `step` takes transition `t` (at `position`), in words, or ''."""
    taken = step.transition
    chained = [
        left for then, left in step.chained if transition_position(workflow, then) == position
    ]
    if chained:  # a compound state's done event, taken in the same step
        return f"takes {t.event} in '{chained[0]}'"
    if taken is None or all(  # a joint step takes each of its parts
        transition_position(workflow, part, step.source) != position
        for part in taken.parts or (taken,)
    ):
        return ""
    if t.is_timeout:
        return f"times out in '{step.source}'"
    return f"takes {t.event}: {step.source} -> {step.target}"


def _guard_checked(mutant: Mutant, t: Transition, step: Step, position: int) -> str:
    """How `step` checks the guard the mutant drops or negates, in words, or ''."""
    for index, label, held in step.checks:
        if index == position and label == mutant.subject:
            outcome = "holds" if held else "refuses"
            return f"{t.event} in '{step.source}' checks {label}, which {outcome}"
    return ""


#: How a step reaches what a mutant of a state or an event changes (no transition to match).
_STEP_REACHES: dict[str, Callable[[Mutant, Step], str]] = {
    "widen_from": lambda m, step: (
        f"{step.event} leaves it in '{m.state}'" if step.target == m.state else ""
    ),
    "complete_final": lambda m, step: (
        f"{step.event} ends in '{m.state}'" if step.accepted and step.target == m.state else ""
    ),
    "unmark_secret": lambda m, step: f"sends {step.event}" if step.event == m.event else "",
}


# -- building the suite -------------------------------------------------------------------


def _numbered_steps(doc: Document, taken: Sequence[SessionStep]) -> list[tuple[int, SessionStep]]:
    """Pair each step the runner recorded with its number in the file (a `wait` records a
    step only when something timed out)."""
    out: list[tuple[int, SessionStep]] = []
    pending = list(taken)
    for number, spec in enumerate(doc.value["steps"], 1):
        if not pending:
            break
        if "send" in spec or ("wait" in spec and pending[0].step.event == "timeout"):
            out.append((number, pending.pop(0)))
    return out


def build_suite(spec: Spec, workflows: Mapping[str, Workflow]) -> Suite:
    """Read the scenarios, run them once on the unchanged workflows (each must pass: a
    scenario that already fails would kill every mutant), list the mutants: only then, as
    there may be thousands of them (a parallel state's configurations are sources and
    targets), so that a scenario problem is reported at once."""
    names = spec.selected if spec.selected is not None else tuple(workflows)
    suite = Suite(spec, dict(workflows), [], [])
    files, suite.problems = scenario_files(spec.scenario_paths)
    for path in files:
        doc, problems = read_scenario(path)
        if doc is None:
            suite.problems += problems
            continue
        result = run_scenario(doc)
        if not result.passed or result.source is None:
            suite.problems += result.problems
            suite.problems += [
                Problem(f.location, f"step {f.step}: {f.message}") for f in result.failures
            ]
            continue
        compiled = engines(result.source)
        start = compiled.workflows[result.workflow]
        visited = {(start.name, start.initial)}
        for entry in result.steps:
            visited |= {(entry.workflow, entry.step.source), (entry.workflow, entry.step.target)}
            # the done states a step passed through (left at once by their done event)
            visited |= {(entry.workflow, left) for _, left in entry.step.chained}
            if entry.handed_to:
                visited.add((entry.handed_to, compiled.workflows[entry.handed_to].initial))
        suite.scenarios.append(
            Scenario(
                doc,
                result.source,
                frozenset(scope(compiled.workflows[result.workflow], compiled.workflows)),
                _numbered_steps(doc, result.steps),
                compiled,
                {n: Path(w.file).resolve() for n, w in compiled.workflows.items()},
                frozenset(visited),
            )
        )
    if not suite.problems:
        suite.mutants = [m for name in names for m in mutants(workflows[name], spec.operators)]
    wanted = {workflows[n].file for n in names}
    found, suite.justification_problems = read_justifications(sorted(wanted), OPERATORS)
    # A run restricted to some operators leaves the others' justifications alone: they justify
    # mutants it does not make, which is no sign that they are stale.
    suite.justifications = [j for j in found if j.operator in spec.operators]
    return suite


def load_suite(spec: Spec) -> Suite:
    """The suite of `spec`, loading its workflows (what a spawned worker does)."""
    result = load(list(spec.workflow_paths) or ["workflows"], kinds=["workflow"])
    return build_suite(spec, result.workflows)


# -- trying one mutant ----------------------------------------------------------------------


#: How the engine words a step it could not complete (linkflow.runtime.instance): the refusal
#: message starts so, then says why: an ActionFailed's text, or an internal error's class.
_FAILED_STEP = "the step could not be completed, nothing was changed: "
_INTERNAL = re.compile(r"an internal error \((\w+)\) stopped it")


def crash_of(scenario: Scenario, result: ScenarioResult) -> Crash | None:
    """The crash that failed `result`, or None when an expectation failed first. A step that
    crashed leaves everything as it was, so every failure at or after it may be its echo: the
    kill is the crash's unless a failure comes from an earlier step."""
    if result.problems or not result.failures:
        return None
    failed = {f.step for f in result.failures}
    numbers = result.step_numbers or list(range(1, len(result.steps) + 1))
    for number, entry in zip(numbers, result.steps, strict=True):
        refusal = entry.step.refusal
        if refusal is None or refusal.kind is not RefusalKind.ACTION_FAILED:
            continue
        if number not in failed:
            continue  # a crash the scenario expected (or did not mind)
        if min(failed) < number:
            return None
        why = refusal.message.removeprefix(_FAILED_STEP)
        internal = _INTERNAL.fullmatch(why)
        exception = internal.group(1) if internal else ActionFailed.__name__
        line = scenario.doc.locate(("steps", number - 1)).line
        return Crash(
            f"{scenario.file}:{line}",
            number,
            entry.step.event,
            exception,
            (why.splitlines() or [""])[0],
        )
    return None


def try_mutant(suite: Suite, number: int) -> Trial:
    """Re-check the mutant, then run the scenarios that can reach it until one's expectation
    fails. A scenario that fails only by a crash does not stop the search: another scenario
    may still notice the mistake by what it expects."""
    mutant = suite.mutants[number]
    try:
        problems = recheck({**suite.workflows, mutant.workflow: mutant.model}, [mutant.workflow])
    except Exception as err:  # a check that breaks on a mutant: say so, do not guess a verdict
        return Trial(number, Verdict.NOT_RUN, f"the checks raised {type(err).__name__}: {err}")
    # An invariant reports itself at its own location: the problems of the invariants that
    # name the changed element are set aside; any other problem rejects the mutant.
    named = {
        suite.workflows[w].invariants[i].location: f"{w}.{i}" for w, i in suite.set_aside(mutant)
    }
    others = [p for p in problems if p.location not in named]
    if others:
        return Trial(number, Verdict.REJECTED, others[0].message.splitlines()[0])
    aside = tuple(dict.fromkeys(named[p.location] for p in problems))
    replaced: dict[Path, EngineCache] = {}
    crash: Crash | None = None
    for scenario, _ in suite.scenarios_for(mutant):
        cache = replaced.get(scenario.source)
        if cache is None:
            cache = replaced[scenario.source] = scenario.engines.replacing(mutant.model)
        try:
            result = run_scenario(scenario.doc, cache)
        except Exception as err:  # a mutant may break what the engine assumes: a crash
            text = str(err).splitlines()
            crash = crash or Crash(
                scenario.file, 0, "", type(err).__name__, text[0] if text else ""
            )
            continue
        if result.passed:
            continue
        crashed = crash_of(scenario, result)
        if crashed is None:
            first = result.failures[0] if result.failures else result.problems[0]
            return Trial(number, Verdict.KILLED, str(first), None, aside)
        crash = crash or crashed
    if crash is not None:
        return Trial(number, Verdict.CRASHED, str(crash), crash, aside)
    return Trial(number, Verdict.SURVIVED, "", None, aside)


# -- running them all -------------------------------------------------------------------------

_SUITE: Suite | None = None


def _worker_init(spec: Spec) -> None:
    """A forked worker inherits the parent's suite; a spawned one builds its own."""
    global _SUITE  # noqa: PLW0603 - one suite per worker process, built once
    if _SUITE is None or _SUITE.spec != spec:
        _SUITE = load_suite(spec)


def _worker_batch(numbers: Sequence[int], deadline: float) -> list[Trial]:
    assert _SUITE is not None
    return _batch(_SUITE, numbers, deadline)


def _batch(suite: Suite, numbers: Iterable[int], deadline: float) -> list[Trial]:
    out: list[Trial] = []
    for number in numbers:
        if time.time() > deadline:
            out.append(Trial(number, Verdict.NOT_RUN, "the --budget ran out"))
        else:
            out.append(try_mutant(suite, number))
    return out


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_suite(
    suite: Suite,
    jobs: int = 1,
    budget: float = 300.0,
    progress: Callable[[int, int], None] | None = None,
) -> list[MutantResult]:
    """Try every mutant of `suite`, in `jobs` processes, stopping after `budget` seconds
    (the rest are NOT_RUN); then apply the justifications."""
    global _SUITE  # noqa: PLW0603 - forked workers inherit it
    deadline = time.time() + budget
    numbers = list(range(len(suite.mutants)))
    raw: list[Trial] = []
    if jobs <= 1 or len(numbers) < 2:
        for start in range(0, len(numbers), 16):
            raw += _batch(suite, numbers[start : start + 16], deadline)
            if progress:
                progress(len(raw), len(numbers))
    else:
        import multiprocessing  # noqa: PLC0415 - multiprocessing: only a parallel run (jobs > 1) needs the process pool
        from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: PLC0415 - multiprocessing: only a parallel run (jobs > 1) needs the process pool

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        _SUITE = suite
        size = max(1, min(16, len(numbers) // (jobs * 4) or 1))
        batches = [numbers[i : i + size] for i in range(0, len(numbers), size)]
        with ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_worker_init, initargs=(suite.spec,)
        ) as pool:
            futures = {pool.submit(_worker_batch, batch, deadline): batch for batch in batches}
            for future in as_completed(futures):
                try:
                    raw += future.result()
                except Exception as err:  # a worker that died (killed, out of memory)
                    why = f"its worker process failed: {type(err).__name__}: {err}"
                    raw += [Trial(n, Verdict.NOT_RUN, why) for n in futures[future]]
                if progress:
                    progress(len(raw), len(numbers))
    return judge(suite, sorted(raw))


def judge(suite: Suite, raw: Iterable[Trial | tuple[int, Verdict, str]]) -> list[MutantResult]:
    """Results with justifications applied; a justification that matches no surviving
    mutant becomes a problem of the suite (it is stale, or it names the wrong mutant)."""
    used: set[Justification] = set()
    results: list[MutantResult] = []
    for trial in raw:
        number, tried, detail, crash, aside = Trial(*trial)
        mutant = suite.mutants[number]
        verdict = tried
        justification = next(
            (
                j
                for j in suite.justifications
                if j.covers(mutant.operator, mutant.subject, mutant.location)
            ),
            None,
        )
        nearest = ""
        if justification is not None:
            used.add(justification)
            if verdict is Verdict.SURVIVED:
                verdict = Verdict.EQUIVALENT
            elif verdict in (Verdict.KILLED, Verdict.CRASHED, Verdict.REJECTED):
                suite.justification_problems.append(
                    Problem(
                        justification.location,
                        f"justified as equivalent, but {mutant.operator} [{mutant.subject}] "
                        f"is {verdict.value}: remove the comment"
                        + (f" ({detail})" if detail else ""),
                    )
                )
        if verdict is Verdict.SURVIVED:
            reach = next((r for _, r in suite.scenarios_for(mutant) if r is not None), None)
            nearest = str(reach) if reach else ""
        results.append(
            MutantResult(number, mutant, verdict, detail, justification, nearest, crash, aside)
        )
    for j in suite.justifications:
        if j not in used:
            suite.justification_problems.append(
                Problem(
                    j.location,
                    f"justifies no mutant: no {j.operator}"
                    + (f" [{j.subject}]" if j.subject else "")
                    + " of the element on this line (or the line below the comment)",
                )
            )
    return results
