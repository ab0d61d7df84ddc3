"""The workflows a service runs, as JSON and as diagrams.

A diagram is drawn once per workflow (Graphviz runs in a worker thread, off the event loop) and
kept; a diagram with an instance's path is drawn per request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool

from linkflow.language.model import Workflow
from linkflow.language.parallel_routes import taken_between
from linkflow.language.workflow_builder import TIMEOUT_EVENT
from linkflow.output.describe import workflow_summary
from linkflow.output.diagram import TraceStep, workflow_diagram
from linkflow.output.files import draw
from linkflow.service.problems import ServiceProblem

NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


def _unknown(name: str, workflows: Mapping[str, Workflow]) -> ServiceProblem:
    known = ", ".join(sorted(workflows)) or "none"
    shown = name if NAME.fullmatch(name) else "(a malformed name)"
    return ServiceProblem("unknown-workflow", f"no workflow named {shown!r} (loaded: {known})")


def workflow_brief(workflow: Workflow) -> dict[str, Any]:
    return {
        "name": workflow.name,
        "title": workflow.title,
        "description": workflow.description,
        "initial": workflow.initial,
        "states": len(workflow.states),
        "events": len(workflow.events),
    }


def workflow_detail(workflow: Workflow) -> dict[str, Any]:
    """The summary `linkflow show --format json` prints, plus payload schemas and data fields.

    The source file's path stays out: it says where the server keeps its files.
    """
    detail = workflow_summary(workflow)
    detail.pop("file", None)
    detail["name"] = detail.pop("workflow")
    detail["data"] = sorted(workflow.data)
    for event in detail["events"]:
        schema = workflow.events[event["name"]].payload_schema
        event["schema"] = dict(schema) if schema is not None else None
    return detail


def trace_of(workflow: Workflow, steps: Iterable[tuple[str, str, str]]) -> list[TraceStep]:
    """Diagram steps from (event, from, to) of accepted history entries.

    History does not record the transition index, so it is found again: the first transition
    from that state on that event into that state (a timeout is index -1).
    """
    trace: list[TraceStep] = []
    for event, source, target in steps:
        if event == TIMEOUT_EVENT:
            trace.append(TraceStep(workflow.name, -1, source, target))
            continue
        for transition in taken_between(workflow, source, event, target):
            trace.append(TraceStep(workflow.name, transition.index, source, target))
    return trace


class Catalog:
    """The loaded workflows, their JSON views and their drawn diagrams."""

    def __init__(self, workflows: Mapping[str, Workflow]) -> None:
        self.workflows = dict(workflows)
        self._svg: dict[str, bytes] = {}

    def get(self, name: str) -> Workflow:
        workflow = self.workflows.get(name)
        if workflow is None:
            raise _unknown(name, self.workflows)
        return workflow

    def listing(self) -> list[dict[str, Any]]:
        return [workflow_brief(self.workflows[n]) for n in sorted(self.workflows)]

    async def svg(self, name: str, trace: Sequence[TraceStep] = ()) -> bytes:
        workflow = self.get(name)
        if trace:
            return await run_in_threadpool(draw, workflow_diagram(workflow, trace), "svg")
        cached = self._svg.get(name)
        if cached is None:
            cached = await run_in_threadpool(draw, workflow_diagram(workflow), "svg")
            self._svg[name] = cached
        return cached
