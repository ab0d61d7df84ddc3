"""The playground: one in-memory session on the loaded workflows and world, driven by the page.

It keeps the last good definitions: a reload that finds problems reports them (located) and
leaves the running session alone. What the user did is kept as `Action`s (event, public payload
or a wait), never with a secret field, so a reload can replay them on the new definitions and a
scenario can be written from them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from linkflow.errors import Problem, UsageError
from linkflow.language.expressions import ExpressionError
from linkflow.language.graph import entry_workflows
from linkflow.language.loader import load
from linkflow.language.model import Workflow
from linkflow.output.diagram import TraceStep, overlay_trace, workflow_diagram
from linkflow.output.files import draw
from linkflow.output.reader import reader_diagram, state_words
from linkflow.runtime.compiled import MAX_PAYLOAD_BYTES
from linkflow.runtime.effect_calls import EffectCall
from linkflow.runtime.instance import Instance
from linkflow.runtime.session import EngineCache, Session, SessionStep
from linkflow.runtime.world import World, copy_json
from linkflow.runtime.world_loader import load_world
from linkflow.studio.changes import Change, diff
from linkflow.studio.start_form import (
    asks_for_absence,
    binding_of_field,
    bound_fields,
    record_name,
    records_of,
    start_form,
)
from linkflow.testing.scenarios import EPOCH, ManualClock

#: How deep world changes are reported: collection.record.field.
WORLD_DEPTH = 3
#: The longest wait one "let time pass" may ask for (a year): bigger is a typing mistake.
MAX_WAIT_SECONDS = 366 * 24 * 3600


class PlaygroundError(Exception):
    """A request the playground cannot do (unknown workflow, bad data); a 4xx for the page."""


@dataclass(frozen=True, slots=True)
class Action:
    """One thing the user did: an event with its payload minus secret fields, or a wait."""

    event: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)
    wait: float = 0.0
    #: The secret fields that were sent and left out of `payload`.
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Record:
    """An action and what came of it, with the expectations a scenario writes for it."""

    action: Action
    entry: SessionStep | None
    workflow: str
    state: str
    outcome: str | None
    available: tuple[str, ...]
    data_changes: tuple[Change, ...]
    world_changes: tuple[Change, ...]
    #: The clock, in seconds since the session started, after the action.
    elapsed: float


def _call_view(call: EffectCall) -> dict[str, Any]:
    """A call a step caused, as the history shows it: the playground never performs one (the
    person sends `<name>.done` or `<name>.failed` in its place), so no header or body."""
    return {
        "kind": call.kind,
        "name": call.name,
        "service": call.service,
        "method": call.method,
        "url": call.url,
        "answers": call.answers,
    }


def _accepted(record: Record) -> bool:
    return record.entry is not None and record.entry.step.accepted


def _refusal_words(record: Record) -> str:
    if record.entry is None or record.entry.step.refusal is None:
        return "nothing timed out"
    return f"refused: {record.entry.step.refusal.message}"


def secret_fields(workflows: Mapping[str, Workflow]) -> frozenset[str]:
    """Every payload field marked secret in any loaded workflow."""
    return frozenset(
        f for w in workflows.values() for e in w.events.values() for f in e.secret_fields
    )


class Playground:
    """The session the page drives, plus what it needs to reload, replay and save."""

    def __init__(
        self,
        paths: Sequence[str],
        world_file: str | None = None,
        data: Mapping[str, Any] | None = None,
        start: str | None = None,
        *,
        workflows: Mapping[str, Workflow] | None = None,
        world: World | None = None,
    ) -> None:
        """`workflows` already loaded from `paths` (a service's) are used as they are, rather
        than read again; a reload (when the files change) reads the files. `world` (a store's,
        read once) stands in for a world file: each reset starts on a fresh copy of it."""
        self.paths = list(paths)
        self.world_file = world_file
        self.workflows: dict[str, Workflow] = {}
        #: Problems of the latest load; the last good workflows keep running meanwhile.
        self.problems: list[Problem] = []
        self.version = 0
        self.notice = ""
        self.records: list[Record] = []
        self._secrets: frozenset[str] = frozenset()
        self._world: World | None = world
        #: The last diagram drawn per view, by workflow and path: a view asked again draws
        #: nothing.
        self._drawn: dict[str, tuple[tuple[Workflow, tuple[TraceStep, ...]], str]] = {}
        if workflows is None:
            problems = self.reload_definitions()
        else:
            problems, self.workflows = [], dict(workflows)
            self._secrets = secret_fields(self.workflows)
        if problems:
            raise PlaygroundError("\n".join(str(p) for p in problems))
        if not self.workflows:
            raise PlaygroundError(f"no workflow found in {', '.join(self.paths)}")
        self.start = start or self.default_start()
        if self.start not in self.workflows:
            known = ", ".join(sorted(self.workflows))
            raise PlaygroundError(f"no workflow named '{self.start}' (loaded: {known})")
        self.start_data: dict[str, Any] = dict(data or {})
        self.session, self.clock = self._new_session(self.start, self.start_data)

    # -- loading ------------------------------------------------------------------------------

    def default_start(self) -> str:
        """The first workflow nothing hands off to: the entry flow when there is one."""
        entries = entry_workflows(self.workflows)
        return entries[0] if entries else sorted(self.workflows)[0]

    def reload_definitions(self) -> list[Problem]:
        """Load the workflows and world again; keep the last good ones on problems."""
        result = load(self.paths, kinds=["workflow"])
        problems = list(result.problems)
        world: World | None = None
        if self.world_file is not None:
            world, world_problems = load_world(self.world_file)
            problems.extend(world_problems)
        self.problems = problems
        if problems:
            self.version += 1
            return problems
        self._world = world
        self.workflows = dict(result.workflows)
        self._secrets = secret_fields(self.workflows)
        return []

    def world(self) -> World:
        """A fresh copy of the world as last loaded (or an empty world); the watcher reloads
        it when its file changes."""
        if self._world is None:
            return World()
        return World(self._world.collections, self._world.name)

    def _new_session(self, start: str, data: Mapping[str, Any]) -> tuple[Session, ManualClock]:
        clock = ManualClock()
        try:
            session = Session(EngineCache(self.workflows), start, data, self.world(), clock)
        except UsageError as err:
            raise PlaygroundError(str(err)) from None
        return session, clock

    # -- driving ------------------------------------------------------------------------------

    def reset(self, start: str | None = None, data: Mapping[str, Any] | None = None) -> None:
        """A new session from the start (optionally another workflow or other start data)."""
        start = start or self.start
        if start not in self.workflows:
            known = ", ".join(sorted(self.workflows))
            raise PlaygroundError(f"no workflow named '{start}' (loaded: {known})")
        chosen = dict(self.start_data if data is None else data)
        self.session, self.clock = self._new_session(start, chosen)
        self.start, self.start_data = start, chosen
        self.records = []
        self.notice = ""
        self.version += 1

    def send(self, event: str, payload: Mapping[str, Any] | None) -> Record:
        if not isinstance(event, str) or not event:
            raise PlaygroundError("name an event to send")
        if payload is not None and not isinstance(payload, Mapping):
            raise PlaygroundError("the payload must be a mapping of fields")
        sent = payload or {}
        public = {k: copy_json(v) for k, v in sent.items() if k not in self._secrets}
        left_out = tuple(sorted(k for k in sent if k in self._secrets))
        return self._do(Action(event=event, payload=public, left_out=left_out), payload)

    def wait(self, seconds: float) -> Record:
        """Let time pass, then fire the timeout of the current state if its wait ran out."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise PlaygroundError("say how many seconds to let pass, as a number")
        if not 0 < seconds <= MAX_WAIT_SECONDS:
            raise PlaygroundError(f"let between 1 and {MAX_WAIT_SECONDS} seconds pass")
        return self._do(Action(wait=float(seconds)), None)

    def _do(self, action: Action, payload: Mapping[str, Any] | None) -> Record:
        session = self.session
        before_data = copy_json(session.instance.data)
        before_world = session.world.snapshot()
        entry: SessionStep | None
        if action.wait:
            self.clock.advance(action.wait)
            entry = session.expire()
        else:
            entry = session.send(action.event, payload)
        instance = session.instance
        # After a handoff, compare the fields both workflows have (the others are new).
        data_before = {k: v for k, v in before_data.items() if k in instance.data}
        record = Record(
            action,
            entry,
            session.workflow,
            instance.state,
            instance.outcome,
            tuple(sorted(o.event for o in instance.available_events() if o.available is not False)),
            tuple(diff(data_before, instance.data, 1)),
            tuple(diff(before_world, session.world.collections, WORLD_DEPTH)),
            self.clock.now - EPOCH,
        )
        self.records.append(record)
        self.version += 1
        return record

    def apply_reload(self) -> list[Problem]:
        """Reload the definitions; when they are good, replay what the user did on them."""
        problems = self.reload_definitions()
        if problems:
            return problems
        done = list(self.records)
        start = self.start if self.start in self.workflows else self.default_start()
        try:
            self.reset(start, self.start_data)
        except PlaygroundError as err:
            self.reset(start, {})
            self.notice = f"definitions reloaded; the start data no longer fits ({err})"
            return []
        self.notice = "definitions reloaded; your steps were replayed on them"
        for number, old in enumerate(done, 1):
            action = old.action
            new = self.wait(action.wait) if action.wait else self.send(action.event, action.payload)
            if _accepted(new) != _accepted(old):
                said = "accepted" if _accepted(new) else _refusal_words(new)
                self.notice = (
                    f"definitions reloaded; replaying your steps stopped at step {number}, "
                    f"which now went differently ({said})"
                )
                break
        return []

    # -- what the page shows ------------------------------------------------------------------

    def diagram_svg(self, view: str = "reader") -> str:
        """The current workflow's diagram (the reader view, or the engineer view) with the
        path taken in it numbered and the states it went through marked."""
        workflow = self.session.instance.workflow
        trace = tuple(
            TraceStep(e.workflow, e.step.transition.index, e.step.source, e.step.target)
            for e in self.session.steps
            if e.step.transition is not None and e.workflow == workflow.name
        )
        key = (workflow, trace)  # a workflow compares by identity: a reload draws anew
        drawn = self._drawn.get(view)
        if drawn is None or drawn[0] != key:
            if view == "engineer":
                diagram = workflow_diagram(workflow, trace)
            else:
                diagram = reader_diagram(workflow)
                diagram = overlay_trace(workflow, diagram, trace) if trace else diagram
            drawn = (key, draw(diagram, "svg").decode("utf-8"))
            self._drawn[view] = drawn
        return drawn[1]

    def events_view(self) -> list[dict[str, Any]]:
        instance = self.session.instance
        workflow = instance.workflow
        out = []
        for option in instance.available_events():
            event = workflow.events[option.event]
            out.append(
                {
                    "event": option.event,
                    "label": event.label or option.event,
                    "description": event.description,
                    "available": option.available,
                    "reason": option.reason,
                    "rule": option.rule,
                    "schema": event.payload_schema,
                    "secret_fields": sorted(event.secret_fields),
                    "choices": {n: [c.as_dict() for c in cs] for n, cs in option.choices.items()},
                    "suggestions": self._suggestions(
                        instance, option.event, event.payload_schema, event.secret_fields
                    ),
                }
            )
        return out

    def _suggestions(
        self,
        instance: Instance,
        event: str,
        schema: Mapping[str, Any] | None,
        secret: frozenset[str],
    ) -> dict[str, list[dict[str, Any]]]:
        """For each payload field a binding looks a record up by (`key: payload.field`), the
        ids of that collection's records with their names: what the field can resolve to.
        Not for a field whose record the event's guards require to be absent (a new, unused
        username): every record listed would be refused."""
        workflow = instance.workflow
        fields = (schema or {}).get("properties") or {}
        return {
            name: records_of(instance.world, collection)
            for name, collection in bound_fields(workflow, "payload").items()
            if name in fields
            and name not in secret
            and not asks_for_absence(workflow, event, binding_of_field(workflow, "payload", name))
        }

    def records_view(self) -> list[dict[str, Any]]:
        """Each binding of the current workflow and the world record it reads now, with the
        fields the last step changed."""
        instance = self.session.instance
        last = self.records[-1] if self.records else None
        changed = [c.path for c in last.world_changes] if last else []
        payload = self._last_payload(instance)
        out = []
        for name, binding in instance.workflow.bindings.items():
            try:
                key = binding.key.evaluate({"data": instance.data, "payload": payload})
            except ExpressionError:
                key = None
            keys = key if binding.many and isinstance(key, list) else [key]
            for one in keys:
                record = instance.world.get(binding.collection, one)
                prefix = f"{binding.collection}.{one}"
                out.append(
                    {
                        "binding": name,
                        "collection": binding.collection,
                        "key": one,
                        "description": binding.description,
                        "record": record,
                        "changed": sorted(
                            p[len(prefix) + 1 :] or "*"
                            for p in changed
                            if p == prefix or p.startswith(prefix + ".")
                        ),
                    }
                )
        return out

    def _last_payload(self, instance: Instance) -> Mapping[str, Any]:
        """The public payload of the last event the current workflow took (for bindings keyed
        by the payload, such as the account a login named)."""
        for record in reversed(self.records):
            if record.workflow != instance.workflow.name:
                break
            if record.action.event and record.entry and record.entry.step.accepted:
                return record.action.payload
        return {}

    def history_view(self) -> list[dict[str, Any]]:
        out = []
        for number, record in enumerate(self.records, 1):
            step = record.entry.step if record.entry else None
            item: dict[str, Any] = {
                "number": number,
                "kind": "wait" if record.action.wait else "send",
                "event": step.event if step else "",
                "label": self._label(record.entry.workflow, step.event)
                if record.entry and step
                else "",
                "wait": record.action.wait,
                "payload": copy_json(dict(record.action.payload)),
                "payload_words": self._payload_words(record),
                "workflow": record.entry.workflow if record.entry else record.workflow,
                "accepted": bool(step and step.accepted),
                "from": step.source if step else record.state,
                "to": step.target if step else record.state,
                "from_words": self._state_words(
                    record.entry.workflow if record.entry else record.workflow,
                    step.source if step else record.state,
                ),
                "to_words": self._state_words(
                    record.entry.workflow if record.entry else record.workflow,
                    step.target if step else record.state,
                ),
                "handed_to": record.entry.handed_to if record.entry else "",
                "refusal": step.refusal.as_dict() if step and step.refusal else None,
                "description": (step.transition.description if step and step.transition else ""),
                "data_changes": [c.as_dict() for c in record.data_changes],
                "world_changes": [c.as_dict() for c in record.world_changes],
                "calls": [_call_view(call) for call in step.effects] if step else [],
                "elapsed": record.elapsed,
            }
            out.append(item)
        return out

    def _payload_words(self, record: Record) -> dict[str, str]:
        """The payload as a person reads it: a field naming a world record by its key shows
        the record's name; text and numbers as they are (a secret field was never kept)."""
        workflow = self.workflows.get(record.entry.workflow if record.entry else record.workflow)
        bound = bound_fields(workflow, "payload") if workflow else {}
        world = self.session.world
        out = {}
        for name, value in record.action.payload.items():
            collection = bound.get(name)
            if collection is not None and isinstance(value, str):
                found = world.collections.get(collection, {}).get(value)
                out[name] = record_name(found, value) if found is not None else value
            elif isinstance(value, str | int | float | bool):
                out[name] = str(value)
            else:
                out[name] = json.dumps(value, ensure_ascii=False)
        return out

    def _label(self, workflow: str, event: str) -> str:
        """An event's words (its label), or its id when it has none."""
        found = self.workflows.get(workflow)
        declared = found.events.get(event) if found else None
        return (declared.label if declared else "") or event

    def _state_words(self, workflow: str, state: str) -> str:
        """A state's words (its label or step), or its id when the workflow is gone."""
        found = self.workflows.get(workflow)
        declared = found.states.get(state) if found else None
        return state_words(declared) if declared else state

    def view(self, diagram: str = "reader") -> dict[str, Any]:
        """Everything the page shows, as JSON-ready values (no secret field is ever kept);
        the diagram in the `diagram` view ("reader" or "engineer")."""
        session = self.session
        instance = session.instance
        workflow = instance.workflow
        state = workflow.states[instance.state]
        waiting = state.waiting
        timeout = waiting.timeout if waiting else None
        return {
            "version": self.version,
            "problems": [dict(p.as_dict(), text=str(p)) for p in self.problems],
            "notice": self.notice,
            "workflows": sorted(self.workflows),
            "entries": entry_workflows(self.workflows),
            "start": self.start,
            "start_data": self.start_data,
            "start_form": start_form(self.workflows, self.start, self.world()),
            "world": {"file": self.world_file or "", "name": session.world.name},
            "current": {
                "workflow": workflow.name,
                "title": workflow.title or workflow.name,
                "file": workflow.file,
                "state": instance.state,
                "words": state_words(state),
                "description": state.description,
                "step": state.step,
                "rule": state.rule,
                "outcome": instance.outcome,
                "waiting_for": waiting.awaits if waiting else "",
                "timeout": (
                    {
                        "seconds": timeout.seconds,
                        "to": timeout.to,
                        "remaining": max(
                            0.0, timeout.seconds - (self.clock.now - instance.entered_at)
                        ),
                    }
                    if timeout
                    else None
                ),
            },
            "chain": [i.workflow.name for i in session.instances],
            "data": instance.data,
            "elapsed": self.clock.now - EPOCH,
            "events": self.events_view(),
            "history": self.history_view(),
            "records": self.records_view(),
            "diagram": self.diagram_svg(diagram),
            "diagram_view": "engineer" if diagram == "engineer" else "reader",
        }


def payload_size_ok(body: bytes) -> bool:
    """Whether a request body is small enough to parse (the engine's payload limit, and room
    for the envelope around it)."""
    return len(body) <= MAX_PAYLOAD_BYTES + 4096
