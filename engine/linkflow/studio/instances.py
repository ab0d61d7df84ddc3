"""The instances view: what a store holds, for the page (list, one instance, send an event).

Each instance is drawn on the definition it runs on (the store pins it by content hash), with
the path its history took numbered. Sending goes through `Store.send`, so the store's checks,
history and secret handling apply exactly as through the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linkflow.errors import DefinitionError, UsageError
from linkflow.language.model import Outcome, Workflow
from linkflow.language.workflow_builder import TIMEOUT_EVENT
from linkflow.output.diagram import TraceStep, workflow_diagram
from linkflow.output.files import draw
from linkflow.runtime.steps import HistoryEntry
from linkflow.store import NotFound, Store, StoreError
from linkflow.studio.playground import PlaygroundError

#: The most instances one listing shows.
MAX_LISTED = 500
OUTCOMES = tuple(o.value for o in Outcome)


class UnknownInstance(PlaygroundError):
    """No instance by that id in the store (a 404 for the page)."""


def trace_of(workflow: Workflow, entries: Sequence[HistoryEntry]) -> list[TraceStep]:
    """The transitions a history took, matched by event, source and target."""
    steps = []
    for entry in entries:
        if not entry.accepted:
            continue
        if entry.event == TIMEOUT_EVENT:
            steps.append(TraceStep(workflow.name, -1, entry.source, entry.target))
            continue
        for transition in workflow.by_source.get((entry.source, entry.event), ()):
            if transition.target == entry.target:
                steps.append(TraceStep(workflow.name, transition.index, entry.source, entry.target))
                break
    return steps


class InstancesView:
    """Reads and sends through one open store; workflows are compiled once per definition."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._workflows: dict[str, Workflow] = {}

    def workflow(self, definition: str) -> Workflow:
        found = self._workflows.get(definition)
        if found is None:
            found = self._workflows[definition] = self.store.engine(definition).workflow
        return found

    def listing(
        self,
        workflow: str | None = None,
        state: str | None = None,
        outcome: str | None = None,
        limit: int = 100,
    ) -> dict[str, Any]:
        if outcome is not None and outcome not in (*OUTCOMES, ""):
            raise PlaygroundError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if not 1 <= limit <= MAX_LISTED:
            raise PlaygroundError(f"limit must be between 1 and {MAX_LISTED}")
        records = self.store.instances(
            workflow=workflow or None, state=state or None, outcome=outcome or None, limit=limit
        )
        return {
            "store": self.store.where,
            "outcomes": list(OUTCOMES),
            "instances": [
                {
                    "id": r.id,
                    "workflow": r.workflow,
                    "state": r.state,
                    "outcome": r.outcome,
                    "version": r.version,
                    "created": r.created,
                    "updated": r.updated,
                    "session": r.session,
                }
                for r in records
            ],
        }

    def detail(self, instance_id: str) -> dict[str, Any]:
        try:
            record = self.store.get(instance_id)
            entries = [e.entry for e in self.store.history(instance_id)]
            options = self.store.available(instance_id)
            workflow = self.workflow(record.definition)
        except NotFound as err:
            raise UnknownInstance(str(err)) from None
        except (StoreError, DefinitionError) as err:
            raise PlaygroundError(str(err)) from None
        diagram = workflow_diagram(workflow, trace_of(workflow, entries))
        state = workflow.states[record.state]
        return {
            "instance": record.as_dict(),
            "title": workflow.title or workflow.name,
            "step": state.step,
            "description": state.description,
            "history": [e.as_dict() for e in entries],
            "events": [
                {
                    "event": o.event,
                    "label": workflow.events[o.event].label or o.event,
                    "description": workflow.events[o.event].description,
                    "available": o.available,
                    "reason": o.reason,
                    "rule": o.rule,
                    "schema": workflow.events[o.event].payload_schema,
                    "secret_fields": sorted(workflow.events[o.event].secret_fields),
                    "choices": {n: [c.as_dict() for c in cs] for n, cs in o.choices.items()},
                }
                for o in options
                if o.event in workflow.events
            ],
            "diagram": draw(diagram, "svg").decode("utf-8"),
        }

    def send(
        self, instance_id: str, event: str, payload: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        try:
            sent = self.store.send(instance_id, event, payload)
        except NotFound as err:
            raise UnknownInstance(str(err)) from None
        except (StoreError, UsageError) as err:
            raise PlaygroundError(str(err)) from None
        return sent.as_dict()
