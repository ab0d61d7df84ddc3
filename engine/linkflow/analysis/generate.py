"""Skeleton scenarios for what the scenario suite does not cover.

For each uncovered transition, a scenario that takes the shortest path (networkx) from the
initial state to it; for each guard use never seen refusing, one that takes the shortest path
to its transition's source and sends the event expecting that refusal. Every step carries, as
a note, the guard outcomes it needs, so a person can pick a world and data that make them so.
The files are valid against schemas/scenario.schema.json as written; what is left to fill in
(the world, data, payload values) is marked TODO.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import yaml

from linkflow.language.graph import workflow_graph
from linkflow.language.model import DONE_EVENT_PREFIX, Transition, Workflow
from linkflow.language.scenario_check import SKELETON_MARK, find_workflows_dir
from linkflow.language.schema_files import schemas_dir

if TYPE_CHECKING:
    from linkflow.analysis.coverage import WorkflowCoverage


@dataclass(frozen=True, slots=True)
class Skeleton:
    """One generated scenario: its id, file name and YAML text."""

    name: str
    file_name: str
    text: str
    target: str  # what it is for, in words


def _placeholder(schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "string":
        return "TODO".ljust(int(schema.get("minLength", 0)), "_")
    return {
        "string": "TODO",
        "integer": 0,
        "number": 0,
        "boolean": False,
        "array": [],
        "object": {},
    }.get(kind if isinstance(kind, str) else "string", "TODO")


def payload_skeleton(workflow: Workflow, event: str) -> dict[str, Any] | None:
    """Placeholder values for the event's required payload fields, or None if it takes none."""
    definition = workflow.events.get(event)
    schema = definition.payload_schema if definition else None
    if not schema:
        return None
    props = schema.get("properties") or {}
    required = schema.get("required") or list(props)
    return {name: _placeholder(props.get(name) or {}) for name in required}


def _needs(transition: Transition) -> str:
    if not transition.guards:
        return "no guards"
    parts = []
    for use in transition.guards:
        rule = f" ({use.guard.rule})" if use.guard.rule else ""
        parts.append(f"{use.label}{rule}")
    return "needs to hold: " + ", ".join(parts)


def _is_done(transition: Transition) -> bool:
    return transition.event.startswith(DONE_EVENT_PREFIX)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")


class _Writer:
    def __init__(self, workflow: Workflow, out_dir: Path) -> None:
        self.workflow = workflow
        self.graph = workflow_graph(workflow)
        self.paths = nx.single_source_shortest_path(self.graph, workflow.initial)
        self.out_dir = out_dir
        self.names: set[str] = set()

    def route(self, state: str) -> list[Transition] | None:
        nodes = self.paths.get(state)
        if nodes is None:
            return None
        route = []
        for u, v in pairwise(nodes):
            key = min(self.graph[u][v])
            taken: Transition = self.graph.edges[u, v, key]["transition"]
            # the edge's own target (in a parallel state it depends on the source)
            route.append(replace(taken, target=v, targets={}) if taken.targets else taken)
        return route

    def step(self, transition: Transition, expect: dict[str, Any], note: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if transition.is_timeout:
            waiting = self.workflow.states[transition.sources[0]].waiting
            seconds = waiting.timeout.seconds if waiting and waiting.timeout else 1
            out["wait"] = seconds + 1
        else:
            out["send"] = transition.event
            payload = payload_skeleton(self.workflow, transition.event)
            if payload is not None:
                out["payload"] = payload
        if expect:
            out["expect"] = expect
        if len(out) < 3:
            out["note"] = note
        return out

    def skeleton(
        self, name: str, description: str, route: list[Transition], last: dict[str, Any]
    ) -> Skeleton:
        wf = self.workflow
        base = f"todo_{_slug(wf.name)}_{_slug(name)}"[:60].rstrip("_")
        unique, n = base, 2
        while unique in self.names:
            unique, n = f"{base}_{n}", n + 1
        self.names.add(unique)
        steps: list[dict[str, Any]] = []
        comments: list[str] = []
        for transition in route:
            note = f"{transition.label}: {_needs(transition)}"
            comments.append(note)
            if _is_done(transition) and steps:
                # nobody sends a done event: the step before took it, and ends further on
                steps[-1]["expect"] = {"state": transition.target}
                continue
            steps.append(self.step(transition, {"state": transition.target}, note))
        steps.append(last)
        comments.append(str(last.get("note", "")) or description)
        document: dict[str, Any] = {
            "scenario": unique,
            "description": f"TODO: {description}",
            "workflow": wf.name,
        }
        folder = Path(wf.file).resolve().parent
        if find_workflows_dir(self.out_dir.resolve()) != folder:
            # Not found by looking up for `workflows/`: name it (relative, to stay portable).
            document["workflows"] = os.path.relpath(folder, self.out_dir.resolve())
        if wf.data:
            document["data"] = dict(wf.data)
        document["steps"] = steps
        body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
        header = [
            *self.schema_line(),
            f"{SKELETON_MARK} (pytest and `linkflow test` skip it; delete this line when done)",
            f"# Generated by `linkflow generate --missing` for {wf.name} ({wf.file}).",
            f"# Covers: {description}.",
            "# TODO: add `world: <file>` (and `world_changes`) so that the guards noted below",
            "# hold or refuse as each step needs, fill in data and payloads, then check the",
            "# expectations and move the file next to the other scenarios.",
            "# Steps and the guard outcomes they need:",
            *(f"#   {i}. {c}" for i, c in enumerate(comments, 1)),
        ]
        return Skeleton(unique, f"{unique}.yaml", "\n".join(header) + "\n" + body, description)

    def schema_line(self) -> list[str]:
        """The editor's schema line, to the nearest project copy of the scenario schema."""
        here = self.out_dir.resolve()
        for folder in (here, *here.parents):
            for candidate in (".linkflow/schemas", "schemas"):
                path = folder / candidate / "scenario.schema.json"
                if path.is_file():
                    target = os.path.relpath(path, here)
                    return [f"# yaml-language-server: $schema={Path(target).as_posix()}"]
        return [f"# yaml-language-server: $schema={schemas_dir() / 'scenario.schema.json'}"]

    def _entering(self, route: list[Transition], expect: dict[str, Any], note: str) -> Any:
        """For a done event (nobody sends it): the route without the step that enters its
        done state, and that step as the last, expecting `expect`; None when there is none."""
        if not route:
            return None
        return route[:-1], self.step(route[-1], expect, note)

    def for_transition(self, number: int) -> Skeleton | None:
        wf = self.workflow
        transition = wf.transitions[number]
        for source in transition.sources:
            target_name = transition.target_from(source)
            route = self.route(source)
            if route is None:
                continue
            if _is_done(transition):
                note = f"{transition.label}: taken on entering '{source}'; {_needs(transition)}"
                found = self._entering(route, {"state": target_name}, note)
                if found is None:
                    continue
                return self.skeleton(
                    f"{transition.event}_to_{target_name}",
                    f"transition {transition.label} ({transition.location})",
                    *found,
                )
            target = wf.states[target_name]
            expect: dict[str, Any] = {"accepted": True, "state": target_name}
            if target.final is not None and not target.handoff:
                expect["outcome"] = target.final.value
            last = self.step(transition, expect, f"{transition.label}: {_needs(transition)}")
            return self.skeleton(
                f"{transition.event}_{source}_to_{target_name}",
                f"transition {transition.label} ({transition.location})",
                route,
                last,
            )
        return None

    def for_refusal(self, number: int, label: str) -> Skeleton | None:
        wf = self.workflow
        transition = wf.transitions[number]
        position = next(i for i, u in enumerate(transition.guards) if u.label == label)
        before = [u.label for u in transition.guards[:position]]
        for source in transition.sources:
            route = self.route(source)
            if route is None:
                continue
            needs = f"needs to hold: {', '.join(before)}; " if before else ""
            note = f"{transition.event} in '{source}': {needs}{label} must refuse"
            if _is_done(transition):
                # the step into the done state is taken; the done event's guard keeps it there
                found = self._entering(route, {"state": source}, note)
                if found is None:
                    continue
                return self.skeleton(
                    f"{transition.event}_refused_by_{label.replace('!', 'not_')}",
                    f"guard {label} refusing {transition.label} ({transition.location})",
                    *found,
                )
            refused: dict[str, Any] = {"guard": label}
            if transition.guards[position].guard.rule:
                refused["rule"] = transition.guards[position].guard.rule
            expect: dict[str, Any] = {"accepted": False, "state": source, "refused": refused}
            if len(wf.by_source.get((source, transition.event), ())) > 1:
                # another transition on the event may take it: what to expect is for a person
                note += "; another transition on this event may then be taken"
                expect = {}
            last = self.step(transition, expect, note)
            return self.skeleton(
                f"{transition.event}_refused_by_{label.replace('!', 'not_')}",
                f"guard {label} refusing {transition.label} ({transition.location})",
                route,
                last,
            )
        return None


def skeletons(
    workflow: Workflow, coverage: WorkflowCoverage | None, out_dir: Path
) -> list[Skeleton]:
    """A skeleton per uncovered transition and per guard use never seen refusing; with no
    coverage, one for every transition and guard use."""
    writer = _Writer(workflow, out_dir)
    if coverage is None:
        transitions = list(range(len(workflow.transitions)))
        refusals = [(n, use.label) for n, t in enumerate(workflow.transitions) for use in t.guards]
    else:
        transitions = coverage.uncovered_transitions
        refusals = coverage.never_refused
    out = []
    for number in transitions:
        skeleton = writer.for_transition(number)
        if skeleton is not None:
            out.append(skeleton)
    for number, label in refusals:
        skeleton = writer.for_refusal(number, label)
        if skeleton is not None:
            out.append(skeleton)
    return out


def write_skeletons(found: list[Skeleton], out_dir: Path) -> list[Path]:
    """Write each skeleton to `out_dir`, never overwriting an existing file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for skeleton in found:
        path = out_dir / skeleton.file_name
        if path.exists():
            continue
        path.write_text(skeleton.text, encoding="utf-8")
        written.append(path)
    return written
