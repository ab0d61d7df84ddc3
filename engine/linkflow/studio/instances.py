"""The operations view: what a store holds, for the page (a filtered, paged list; one
instance with its run and its pending timeout; operator actions).

Each instance is drawn on the definition it runs on (the store pins it by content hash), with
the path its history took numbered. The listing is the store's (keyset pages, store/listing.py).
Operator actions go through the store's operator actions (store/operator.py: send, cancel,
terminate), so the store's checks (the version the operator saw, guards, payloads), history and
secret handling apply exactly as through the API, and history records who did it (`via`
studio).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from linkflow.errors import DefinitionError, UsageError
from linkflow.language.model import Outcome, Workflow
from linkflow.language.parallel_routes import taken_between
from linkflow.language.workflow_builder import TIMEOUT_EVENT
from linkflow.output.diagram import TraceStep, workflow_diagram
from linkflow.output.files import draw
from linkflow.runtime.steps import HistoryEntry
from linkflow.store import Conflict, InstanceRecord, NotAllowed, NotFound, Sent, Store, StoreError
from linkflow.store.listing import Filters, encode_cursor
from linkflow.store.operator import TERMINATED, cancel_event
from linkflow.store.outbox import Outbox
from linkflow.studio.playground import PlaygroundError

#: The most instances one listing shows.
MAX_LISTED = 500
OUTCOMES = (*(o.value for o in Outcome), TERMINATED)
#: Who a send from the page is recorded as when the operator gave no name.
UNNAMED = "studio user"


class UnknownInstance(PlaygroundError):
    """No instance by that id in the store (a 404 for the page)."""


class Stale(PlaygroundError):
    """Another step came first: the version the operator saw is not the stored one (a 409)."""


class Refused(PlaygroundError):
    """The instance does not allow the operator action now (a 409, with the reason)."""


def row_of(record: InstanceRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "workflow": record.workflow,
        "state": record.state,
        "outcome": record.outcome,
        "version": record.version,
        "created": record.created,
        "updated": record.updated,
        "due": record.due,
        "session": record.session,
    }


def trace_of(workflow: Workflow, entries: Sequence[HistoryEntry]) -> list[TraceStep]:
    """The transitions a history took, matched by event, source and target."""
    steps = []
    for entry in entries:
        if not entry.accepted:
            continue
        if entry.event == TIMEOUT_EVENT:
            steps.append(TraceStep(workflow.name, -1, entry.source, entry.target))
            continue
        for transition in taken_between(workflow, entry.source, entry.event, entry.target):
            steps.append(TraceStep(workflow.name, transition.index, entry.source, entry.target))
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
        *,
        data: Mapping[str, Any] | None = None,
        after: tuple[float, str] | None = None,
    ) -> dict[str, Any]:
        if outcome is not None and outcome not in (*OUTCOMES, ""):
            raise PlaygroundError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if not 1 <= limit <= MAX_LISTED:
            raise PlaygroundError(f"limit must be between 1 and {MAX_LISTED}")
        try:
            filters = Filters(
                workflow=workflow or None,
                state=state or None,
                outcome=outcome or None,
                data=dict(data or {}),
            )
            page = self.store.page(filters, limit=limit, after=after)
        except (StoreError, UsageError) as err:
            raise PlaygroundError(str(err)) from None
        return {
            "store": self.store.where,
            "outcomes": list(OUTCOMES),
            "instances": [row_of(r) for r in page.records],
            "next": None if page.after is None else encode_cursor(page.after),
        }

    def detail(self, instance_id: str) -> dict[str, Any]:
        try:
            record = self.store.get(instance_id)
            stored = self.store.history(instance_id)
            entries = [e.entry for e in stored]
            options = self.store.available(instance_id)
            workflow = self.workflow(record.definition)
            run = self.store.session(instance_id)
            # the calls its steps caused and what became of them (store/outbox.py)
            effects = Outbox(self.store).of_instance(instance_id)
        except NotFound as err:
            raise UnknownInstance(str(err)) from None
        except (StoreError, DefinitionError) as err:
            raise PlaygroundError(str(err)) from None
        diagram = workflow_diagram(workflow, trace_of(workflow, entries))
        state = workflow.states[record.state]
        timeout = state.waiting.timeout if state.waiting else None
        return {
            "instance": record.as_dict(),
            "title": workflow.title or workflow.name,
            "step": state.step,
            "description": state.description,
            "history": [e.as_dict() for e in stored],
            "run": [row_of(r) for r in run],
            "effects": [e.as_dict() for e in effects],
            "timeout": None
            if record.due is None or timeout is None
            else {"due": record.due, "to": timeout.to, "seconds": timeout.seconds},
            "cancel_event": None if record.outcome else cancel_event(workflow, record.state),
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
        self,
        instance_id: str,
        event: str,
        payload: Mapping[str, Any] | None,
        *,
        by: str | None = None,
        expect_version: int | None = None,
    ) -> dict[str, Any]:
        """An event from the operator (recorded with who; UNNAMED when no name was given)."""
        return self._act(
            lambda: self.store.operator_send(
                instance_id,
                event,
                payload,
                by=by or UNNAMED,
                via="studio",
                expect_version=expect_version,
            )
        )

    def cancel(self, instance_id: str, *, by: str, expect_version: int | None) -> dict[str, Any]:
        return self._act(
            lambda: self.store.cancel(
                instance_id, by=by, via="studio", expect_version=expect_version
            )
        )

    def terminate(
        self, instance_id: str, *, by: str, reason: str | None, expect_version: int | None
    ) -> dict[str, Any]:
        return self._act(
            lambda: self.store.terminate(
                instance_id, by=by, via="studio", reason=reason, expect_version=expect_version
            )
        )

    @staticmethod
    def _act(work: Callable[[], Sent]) -> dict[str, Any]:
        try:
            sent = work()
        except NotFound as err:
            raise UnknownInstance(str(err)) from None
        except NotAllowed as err:
            raise Refused(str(err)) from None
        except Conflict as err:
            raise Stale(str(err)) from None
        except (StoreError, UsageError) as err:
            raise PlaygroundError(str(err)) from None
        return sent.as_dict()
