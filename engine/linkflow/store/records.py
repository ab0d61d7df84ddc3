"""What the store hands back: frozen values, each with `as_dict()` for JSON output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from linkflow.runtime.steps import HistoryEntry, Step
from linkflow.store.definitions import SHORT

#: The instance columns, in the order every query selects them.
INSTANCE_COLUMNS = (
    "id, workflow, definition, state, data, start_data, outcome, version, "
    "created, updated, entered, due, session"
)


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """One stored instance, as of the moment it was read."""

    id: str
    workflow: str
    #: The content hash of the definition it runs on (pinned when it started).
    definition: str
    state: str
    data: Mapping[str, Any]
    start_data: Mapping[str, Any]
    outcome: str | None
    #: Accepted steps so far; `send(expect_version=...)` compares against it.
    version: int
    created: float
    updated: float
    #: When the current state was entered (a waiting state's timeout counts from here).
    entered: float
    #: When the current state's timeout fires, or None.
    due: float | None
    #: The id of the first instance of its handoff chain.
    session: str

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workflow": self.workflow,
            "definition": self.definition[:SHORT],
            "state": self.state,
            "outcome": self.outcome,
            "version": self.version,
            "data": dict(self.data),
            "created": self.created,
            "updated": self.updated,
            "entered": self.entered,
            "due": self.due,
            "session": self.session,
        }


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A history entry with its place in the store and the caller's event id, if any."""

    seq: int
    entry: HistoryEntry
    event_id: str | None = None
    #: An operator action's {"action": send|cancel|terminate, "by": who, "reason"?}, or None.
    actor: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"seq": self.seq, **self.entry.as_dict()}
        if self.event_id is not None:
            out["event_id"] = self.event_id
        if self.actor is not None:
            out["operator"] = dict(self.actor)
        return out


@dataclass(frozen=True, slots=True)
class Sent:
    """The outcome of `Store.send` or a fired timer: the step and the instance after it.

    A replay (`replayed`) answers as the first send did: `instance` is the stored record with
    the version and outcome it had right after the step, `handed_to` and `feed_seq` as then."""

    step: Step
    instance: InstanceRecord
    #: True when the event id had been seen: nothing was applied, the recorded step is returned.
    replayed: bool = False
    #: The instance a handoff started in the same transaction.
    handed_to: InstanceRecord | None = None
    #: The feed number of an accepted step.
    feed_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance": self.instance.id,
            "workflow": self.instance.workflow,
            **self.step.as_dict(),
            "version": self.instance.version,
            "outcome": self.instance.outcome,
            "replayed": self.replayed,
            "handed_to": None if self.handed_to is None else self.handed_to.id,
            "feed_seq": self.feed_seq,
        }


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One accepted step, numbered in commit order across the whole store."""

    seq: int
    instance: str
    workflow: str
    event: str
    source: str
    target: str
    outcome: str | None
    time: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "instance": self.instance,
            "workflow": self.workflow,
            "event": self.event,
            "from": self.source,
            "to": self.target,
            "outcome": self.outcome,
            "time": self.time,
        }
