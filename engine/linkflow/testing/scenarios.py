"""Scenario files: load them (located errors, like workflows), run them, report as values.

A scenario starts a workflow on a world, sends events, lets time pass, and checks what holds
after each step. The same runner serves `linkflow test` and the pytest plugin.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from linkflow.errors import Problem, UsageError
from linkflow.language.durations import DurationError, parse_duration
from linkflow.language.loader import LoadResult, workflow_catalog
from linkflow.language.scenario_check import (
    find_workflows_dir,
    is_scenario_file,
    read_scenario,
    scenario_path,
    world_changes,
)
from linkflow.language.world_schema import WorldSchema
from linkflow.language.yaml_loader import Document
from linkflow.runtime.paths import PathError, parent
from linkflow.runtime.session import EngineCache, Session, SessionStep
from linkflow.runtime.world import World, copy_json
from linkflow.runtime.world_loader import collections_problems, load_world_and_schema
from linkflow.source import DocPath, SourceLocation
from linkflow.testing.effect_stubs import PendingCalls, effect_names
from linkflow.testing.expectations import StepChecks, quiet_wait

#: Scenario clocks start here (2026-01-01 UTC), so histories are reproducible.
EPOCH = 1_767_225_600.0


class ManualClock:
    """A clock that moves only when a scenario says `wait`."""

    __slots__ = ("now",)

    def __init__(self, start: float = EPOCH) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True, slots=True)
class Failure:
    """One expectation that did not hold, located at its line in the scenario file."""

    location: SourceLocation
    step: int
    message: str

    def __str__(self) -> str:
        return f"{self.location}: step {self.step}: {self.message}"


@dataclass
class ScenarioResult:
    name: str
    file: str
    location: SourceLocation
    rules: tuple[str, ...] = ()
    #: The workflow the scenario starts, and the resolved file or folder its workflows come from.
    workflow: str = ""
    source: Path | None = None
    failures: list[Failure] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    steps: list[SessionStep] = field(default_factory=list)
    #: For each entry of `steps`, the number of the scenario step (as the file counts) it
    #: came from: a `wait` may fire several timeouts, or none.
    step_numbers: list[int] = field(default_factory=list)
    #: Scenario steps that did something without an event, in words: a `wait` that fired nothing.
    notes: list[tuple[int, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.problems

    def path_lines(self) -> list[str]:
        """The path taken, in words: one line per event, refusals included, numbered by the
        scenario step it came from (so "step 4" in a failure and here mean the same step)."""
        numbers = self.step_numbers or list(range(1, len(self.steps) + 1))
        lines: list[tuple[int, str]] = list(self.notes)
        for number, entry in zip(numbers, self.steps, strict=True):
            step = entry.step
            if step.refusal is None:
                moved = f"{step.source} -> {step.target}"
                handed = f" (hands off to {entry.handed_to})" if entry.handed_to else ""
                lines.append((number, f"{entry.workflow}: {step.event}: {moved}{handed}"))
            else:
                why = step.refusal.message
                lines.append((number, f"{entry.workflow}: {step.event}: refused ({why})"))
        lines.sort(key=lambda line: line[0])  # stable: a step's own lines stay in order
        return [f"{number:>2}. {text}" for number, text in lines]

    def trace(self) -> list[tuple[str, int, str, str]]:
        """Taken transitions as (workflow, transition index, from, to), for diagrams (one
        event taken in several regions at once: each region's transition)."""
        return [
            (e.workflow, taken.index, e.step.source, e.step.target)
            for e in self.steps
            if e.step.transition is not None
            for taken in e.step.transition.parts or (e.step.transition,)
        ]

    def trace_command(self) -> str:
        """The command that draws the path this scenario took on its workflow's diagram."""
        where = ""
        if self.source is not None and self.source.resolve() != find_workflows_dir(Path.cwd()):
            where = f" {os.path.relpath(self.source)}"  # render finds workflows/ unless told
        return f"linkflow render {self.workflow}{where} --trace {self.file}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "file": self.file,
            "line": self.location.line,
            "passed": self.passed,
            "rules": list(self.rules),
            "failures": [
                {
                    "line": f.location.line,
                    "column": f.location.column,
                    "step": f.step,
                    "message": f.message,
                }
                for f in self.failures
            ],
            "problems": [p.as_dict() for p in self.problems],
            "path": self.path_lines(),
        }


# -- loading ------------------------------------------------------------------------------


def catalog(source: Path) -> LoadResult:
    """The workflows a scenario source holds, loaded once per process."""
    return workflow_catalog(source)


@cache
def _catalog(source: Path) -> tuple[LoadResult, EngineCache]:
    """Workflows per source folder, compiled once per process."""
    result = workflow_catalog(source)
    return result, EngineCache(result.workflows)


def engines(source: Path) -> EngineCache:
    """The compiled workflows of a scenario source (`ScenarioResult.source`), shared."""
    return _catalog(source.resolve())[1]


@cache
def _world_doc(path: Path) -> tuple[World | None, WorldSchema | None, tuple[Problem, ...]]:
    world, schema, problems = load_world_and_schema(path)
    return world, schema, tuple(problems)


def _fresh_world(path: Path) -> tuple[World | None, WorldSchema | None, list[Problem]]:
    world, schema, problems = _world_doc(path)
    if world is None:
        return None, None, list(problems)
    return World(world.collections, world.name), schema, []


def problems_reaching(loaded: LoadResult, start: str) -> list[Problem]:
    """The problems of the workflows a run from `start` may reach (it and those it hands off
    to): a broken workflow fails the scenarios that reach it, not every scenario beside it.

    A problem in a file that built no workflow at all might be in one of them (a file that does
    not parse names none), so it counts whenever one of them did not build."""
    if loaded.ok:
        return []
    known = {**loaded.partial, **loaded.workflows}
    reached = [start]
    for name in reached:
        workflow = known.get(name)
        for state in workflow.states.values() if workflow is not None else ():
            if state.handoff and state.handoff not in reached:
                reached.append(state.handoff)
    files = {known[name].file for name in reached if name in known}
    if all(name in loaded.workflows for name in reached):
        return [p for p in loaded.problems if p.location.file in files]
    built = {w.file for w in known.values()}
    return [p for p in loaded.problems if p.location.file in files or p.location.file not in built]


# -- running ------------------------------------------------------------------------------


#: Shorter secrets are not searched for afterwards: one or two letters occur anywhere.
_SEARCHABLE = 4


class _Run:
    def __init__(
        self, doc: Document, result: ScenarioResult, engines: EngineCache | None = None
    ) -> None:
        self.doc = doc
        self.result = result
        self.engines = engines
        #: Secret values this run read from the environment; each must appear nowhere after.
        self.env_secrets: list[str] = []
        self.checks = StepChecks(self.fail, self.env_secrets)

    def fail(self, path: DocPath, step: int, message: str) -> None:
        self.result.failures.append(Failure(self.doc.locate(path), step, message))

    def setup(self) -> tuple[Session, ManualClock] | None:
        spec: dict[str, Any] = self.doc.value
        source = self.workflows_source(spec)
        if source is None:
            return None
        self.result.source = source.resolve()
        engines = self.engines
        if engines is None:
            loaded, engines = _catalog(source.resolve())
            reached = problems_reaching(loaded, spec["workflow"])
            if reached:
                self.result.problems.extend(reached)
                return None
        name = spec["workflow"]
        if name not in engines.workflows:
            known = ", ".join(sorted(engines.workflows)) or "none"
            self.problem(("workflow",), f"no workflow named '{name}' in {source} (there: {known})")
            return None
        world = self.starting_world(spec)
        if world is None:
            return None
        clock = ManualClock()
        try:
            session = Session(engines, name, spec.get("data") or {}, world, clock)
        except UsageError as err:
            self.problem(("data",), str(err))
            return None
        return session, clock

    def workflows_source(self, spec: Mapping[str, Any]) -> Path | None:
        """The folder of the scenario's workflows: `workflows:`, else found above the file."""
        source: Path | None
        if "workflows" in spec:
            source, problem = scenario_path(self.doc, "workflows")
            if problem is not None:
                self.result.problems.append(problem)
                return None
        else:
            source = find_workflows_dir(Path(self.doc.file).parent)
        if source is None:
            self.problem(
                ("workflow",), "no `workflows/` folder found above this file; set `workflows:`"
            )
        return source

    def starting_world(self, spec: Mapping[str, Any]) -> World | None:
        """The scenario's world (`world:`, else an empty one) with its `world_changes` made."""
        world: World | None = World()
        schema: WorldSchema | None = None
        if "world" in spec:
            path, problem = scenario_path(self.doc, "world")
            if path is None:
                self.result.problems.extend([problem] if problem else [])
                return None
            world, schema, problems = _fresh_world(path)
            if world is None:
                self.result.problems.extend(problems)
                return None
        assert world is not None
        for where, change in world_changes(spec.get("world_changes") or ()):
            if not self.change_world(world, schema, change, where):
                return None
        return world

    def problem(self, path: DocPath, message: str) -> None:
        self.result.problems.append(Problem(self.doc.locate(path), message))

    def change_world(
        self, world: World, schema: WorldSchema | None, change: Mapping[str, Any], where: DocPath
    ) -> bool:
        """Apply one change; a path that leads nowhere or a world left invalid is a problem."""
        try:
            found = parent(world.collections, change["path"])
        except PathError as err:
            self.problem(where, str(err))
            return False
        if found is None or found[0] is world.collections:
            self.problem(where, f"world has nothing at '{change['path']}' to change")
            return False
        container, key = found
        before = copy_json(container.get(key))
        had = key in container
        if change.get("remove"):
            container.pop(key, None)
        else:
            container[key] = copy_json(change["value"])
        wrong = collections_problems(world.collections, schema)
        if wrong:
            if had:
                container[key] = before
            else:
                container.pop(key, None)
            shown = "; ".join(wrong[:3]) + (
                f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else ""
            )
            self.problem(where, f"this change leaves the world invalid: {shown}")
            return False
        return True

    def run(self) -> None:
        ready = self.setup()
        if ready is None:
            return
        session, clock = ready
        pending = PendingCalls(session)
        for number, spec in enumerate(self.doc.value["steps"], 1):
            path: DocPath = ("steps", number - 1)
            entries: list[SessionStep] = []
            did_something = any(k in spec for k in ("send", "wait", "respond", "fail"))
            before = (
                self.checks.picture(session)
                if (spec.get("expect") or {}).get("unchanged")
                else None
            )
            if "send" in spec:
                sendable, payload = self.payload_with_secrets(spec, path)
                if not sendable:
                    return
                entries = [session.send(spec["send"], payload)]
            elif "respond" in spec or "fail" in spec:
                call, why = pending.pick(spec.get("effect"))
                if call is None:
                    self.problem((*path, "respond" if "respond" in spec else "fail"), why)
                    return
                entries = [session.send(*pending.answer(call, spec))]
            elif "wait" in spec:
                try:
                    waited = parse_duration(spec["wait"])
                except DurationError as err:
                    self.problem((*path, "wait"), str(err))
                    return
                clock.advance(waited)
                entries = session.expire_all()
                if not entries:
                    self.result.notes.append((number, quiet_wait(session, waited)))
            pending.after(session, entries)
            self.result.steps.extend(entries)
            self.result.step_numbers.extend([number] * len(entries))
            entry = entries[-1] if entries else None
            expect = spec.get("expect") or {}
            self.checks.check_step(session, entry, did_something, expect, path, number, spec)
            if "effects" in expect and effect_names(entries) != list(expect["effects"]):
                self.fail(
                    (*path, "expect", "effects"),
                    number,
                    f"expected the calls {list(expect['effects'])}, got {effect_names(entries)}",
                )
            if before is not None:
                self.checks.check_unchanged(before, self.checks.picture(session), path, number)

    def payload_with_secrets(
        self, spec: Mapping[str, Any], path: DocPath
    ) -> tuple[bool, Mapping[str, Any] | None]:
        """The step's payload with its `secrets:` read from the environment (not ready, and a
        located problem naming the variable, when one is not set). The values are checked to
        appear nowhere after the step, like `nowhere:`, and are never shown."""
        payload = spec.get("payload")
        secrets: Mapping[str, str] = spec.get("secrets") or {}
        if not secrets:
            return True, payload
        merged = dict(payload or {})
        for name, variable in secrets.items():
            value = os.environ.get(variable)
            if value is None:
                self.problem(
                    (*path, "secrets", name),
                    f"the secret field '{name}' is read from the environment variable "
                    f"{variable}, which is not set; set it before running this scenario",
                )
                return False, None
            merged[name] = value
            if len(value) >= _SEARCHABLE:
                self.env_secrets.append(value)
        return True, merged


def run_scenario_file(path: str | Path) -> ScenarioResult:
    """Load and run one scenario file; every problem becomes part of the result."""
    path = Path(path)
    doc, problems = read_scenario(path)
    if doc is None:
        return ScenarioResult(
            path.stem, str(path), SourceLocation(str(path), 1, 1), problems=problems
        )
    return run_scenario(doc)


def run_scenario(doc: Document, engines: EngineCache | None = None) -> ScenarioResult:
    """Run a scenario read with `read_scenario`. Its workflows come from its folder, or from
    `engines` when given: that is how a changed workflow model is tried without writing it
    (linkflow.analysis.mutate), and why a document can be read once and run many times."""
    spec = doc.value
    result = ScenarioResult(
        spec["scenario"],
        doc.file,
        doc.locate(("scenario",), key=True),
        tuple(spec.get("rules") or ()),
        spec["workflow"],
    )
    _Run(doc, result, engines).run()
    return result


def scenario_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file() and is_scenario_file(p))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(SourceLocation(str(raw)), "no such file or folder"))
    return files, problems
