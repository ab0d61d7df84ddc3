"""One way in from Python: `linkflow.open(...)` loads a folder of workflows once and starts runs.

Without a store, runs live in memory; with one (`sqlite:///...`, `postgresql://...`) every step
is kept durably. Both modes answer with the same values (`Step`, `Refusal`, `EventOption`,
`HistoryEntry`) and both follow handoffs, so code written against memory runs durably unchanged.
Loading collects problems as values; the facade turns them into one `LoadError` carrying them.
"""

from __future__ import annotations

import difflib
import json
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkflow.errors import DefinitionError, Problem, UsageError
from linkflow.language.loader import load
from linkflow.language.model import Workflow
from linkflow.runtime.effect_calls import EffectCall
from linkflow.runtime.instance import Clock, Instance
from linkflow.runtime.session import EngineCache, Session
from linkflow.runtime.steps import EventOption, HistoryEntry, Step
from linkflow.runtime.world import World
from linkflow.runtime.world_loader import load_world
from linkflow.source import SourceLocation

if TYPE_CHECKING:
    from types import TracebackType

    from linkflow.store import InstanceRecord, Store

Paths = str | Path | Sequence[str | Path]


class LoadError(DefinitionError):
    """Workflows or a world could not be loaded; `problems` holds every located problem.

    A `DefinitionError`, so code that catches those catches this too.
    """


def open(
    workflows: Paths = "workflows",
    *,
    world: str | Path | World | None = None,
    store: str | None = None,
    clock: Clock = time.time,
) -> Project:
    """Load every workflow under `workflows` (files or folders) once, and the world if given.

    `store` is a store URL; without one, runs live in memory. With a store, `world` is
    imported into it (each record replaces the stored one of its key). Raises `LoadError`.
    """
    paths = [workflows] if isinstance(workflows, str | Path) else list(workflows)
    result = load(paths, kinds=["workflow"])
    if result.problems:
        raise LoadError(result.problems)
    if not result.workflows:
        where = ", ".join(str(p) for p in paths)
        raise LoadError([Problem(SourceLocation(where), "no workflow found here")])
    loaded = _world(world)
    if store is None:
        return Project(result.workflows, loaded or World(), None, clock)
    from linkflow.store import Store  # noqa: PLC0415 - the store: only a durable project (store=URL) needs it; an in-memory one does not load it

    try:
        opened = Store.open(store, clock=clock)
    except ModuleNotFoundError as err:
        if (err.name or "").split(".", maxsplit=1)[0] not in ("psycopg", "psycopg_pool"):
            raise
        raise UsageError(
            f"a postgresql:// store needs the 'postgres' extra ({err.name} is not installed): "
            "pip install 'linkflow[postgres]'"
        ) from None
    try:
        # Every loaded model at once, in one transaction: a run's handoff targets are then
        # stored before it starts, and no file is read again.
        opened.register(*result.workflows.values())
        if loaded is not None:
            opened.load_world(loaded)
    except BaseException:
        opened.close()
        raise
    return Project(result.workflows, loaded or World(), opened, clock)


def _world(world: str | Path | World | None) -> World | None:
    if world is None or isinstance(world, World):
        return world

    loaded, problems = load_world(world)
    if loaded is None or problems:
        raise LoadError(problems)
    return loaded


class Project:
    """The loaded workflows, a world, and where runs live (memory, or a store).

    In memory, every run acts on `world`, as stored runs all act on the store's world (read
    it with `project.store.world(collection)`); `world` is then only what was imported.
    """

    def __init__(
        self,
        workflows: Mapping[str, Workflow],
        world: World,
        store: Store | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.workflows: dict[str, Workflow] = dict(workflows)
        self.world = world
        self.store = store
        self.clock = clock
        self._engines = EngineCache(self.workflows)
        self._runs: dict[str, MemoryRun] = {}

    @property
    def durable(self) -> bool:
        return self.store is not None

    def start(
        self, workflow: str, data: Mapping[str, Any] | None = None, *, id: str | None = None
    ) -> Run:
        """A new run of the named workflow. With `id`, starting again with the same data
        returns the same run (durably; in memory, the run already under that id)."""
        if workflow not in self.workflows:
            close = difflib.get_close_matches(workflow, list(self.workflows), n=1)
            known = ", ".join(sorted(self.workflows)) or "none"
            hint = f"did you mean '{close[0]}'?" if close else f"loaded: {known}"
            raise UsageError(f"no workflow named '{workflow}' ({hint})")
        if self.store is not None:
            record = self.store.start(self.workflows[workflow], data, instance_id=id)
            return StoredRun(self.store, record.session)
        if id is not None and not id.strip():
            raise UsageError("an instance id cannot be empty")
        run_id = id or secrets.token_hex(8)
        found = self._runs.get(run_id)
        if found is not None:
            if found.workflow_started != workflow or found.start_data != dict(data or {}):
                from linkflow.store.errors import Conflict  # noqa: PLC0415 - the store: only a durable project (store=URL) needs it; an in-memory one does not load it

                raise Conflict(
                    f"run '{run_id}' already exists with other start data; use another id"
                )
            return found
        session = Session(self._engines, workflow, data, self.world, self.clock)
        run = self._runs[run_id] = MemoryRun(run_id, session, workflow, dict(data or {}))
        return run

    def run(self, id: str) -> Run:
        """The run started under `id` (or an instance id of its handoff chain, durably)."""
        if self.store is not None:
            return StoredRun(self.store, self.store.get(id).session)
        found = self._runs.get(id)
        if found is None:
            from linkflow.store.errors import NotFound  # noqa: PLC0415 - the store: only a durable project (store=URL) needs it; an in-memory one does not load it

            raise NotFound(f"no run '{id}' in this project (runs in memory end with it)")
        return found

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class Run(ABC):
    """One actor's way through a chain of workflows: a handoff moves the run to the next
    workflow's instance, and every read and send is about that current instance."""

    id: str

    @property
    @abstractmethod
    def workflow(self) -> str:
        raise NotImplementedError

    @property
    @abstractmethod
    def instance(self) -> str:
        """The id of the current instance of the chain (the run's id until a handoff)."""
        raise NotImplementedError

    @property
    @abstractmethod
    def state(self) -> str:
        raise NotImplementedError

    @property
    @abstractmethod
    def outcome(self) -> str | None:
        raise NotImplementedError

    @property
    @abstractmethod
    def finished(self) -> bool:
        raise NotImplementedError

    @property
    @abstractmethod
    def version(self) -> int:
        """How many steps the current instance has taken, for `send(expect_version=...)`."""
        raise NotImplementedError

    @property
    @abstractmethod
    def data(self) -> Mapping[str, Any]:
        raise NotImplementedError

    @abstractmethod
    def send(
        self,
        event: str,
        payload: Mapping[str, Any] | None = None,
        *,
        event_id: str | None = None,
        expect_version: int | None = None,
    ) -> Step:
        """Send an event to the current instance; refused or not, the outcome is a `Step`.

        The same `event_id` again returns the recorded step and changes nothing; with another
        event or payload it is a `Conflict`, as is a stale `expect_version`. The step's
        `effects` are the calls it causes (see `start_effects`): an in-memory run never
        performs them.
        """
        raise NotImplementedError

    @abstractmethod
    def available(self) -> list[EventOption]:
        """Every event of the current instance and whether it could be sent now."""
        raise NotImplementedError

    @property
    def start_effects(self) -> tuple[EffectCall, ...]:
        """The calls the current instance caused by starting (the `invoke`s of the states it
        starts in); a step's own calls are its `Step.effects`. Nothing here performs them:
        in memory, the caller (or a scenario) answers an invoke by sending `<name>.done` or
        `<name>.failed` (linkflow.runtime.effect_calls.result_event builds the event); with
        a store, its outbox keeps them for `linkflow worker`."""
        return ()

    @abstractmethod
    def history(self) -> list[HistoryEntry]:
        """The current instance's steps, accepted and refused; secrets are never kept."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.workflow}:{self.state}>"


class MemoryRun(Run):
    """A run held by a `Session`: gone when the process ends."""

    def __init__(
        self, run_id: str, session: Session, workflow: str, start_data: dict[str, Any]
    ) -> None:
        self.id = run_id
        self.session = session
        self.workflow_started = workflow
        self.start_data = start_data
        self._ids: dict[int, str] = {id(session.instance): run_id}
        self._versions: dict[int, int] = {}
        #: event id -> (what it stood for, the step): one table for the whole chain, so a
        #: retried send that caused a handoff replays instead of reaching the next workflow
        self._sent: dict[str, tuple[str, Step]] = {}

    @property
    def _current(self) -> Instance:
        return self.session.instance

    @property
    def workflow(self) -> str:
        return self.session.workflow

    @property
    def instance(self) -> str:
        return self._ids.setdefault(id(self._current), secrets.token_hex(8))

    @property
    def state(self) -> str:
        return self._current.state

    @property
    def outcome(self) -> str | None:
        return self._current.outcome

    @property
    def finished(self) -> bool:
        return self._current.finished

    @property
    def version(self) -> int:
        return self._versions.get(id(self._current), 0)

    @property
    def data(self) -> Mapping[str, Any]:
        return self._current.data

    def send(
        self,
        event: str,
        payload: Mapping[str, Any] | None = None,
        *,
        event_id: str | None = None,
        expect_version: int | None = None,
    ) -> Step:
        from linkflow.store.errors import Conflict  # noqa: PLC0415 - the store: only a durable project (store=URL) needs it; an in-memory one does not load it
        from linkflow.store.store import check_send  # noqa: PLC0415 - the store: only a durable project (store=URL) needs it; an in-memory one does not load it

        check_send(payload, event_id)
        request = ""
        if event_id is not None:
            request = self._request(event, payload)
            prior = self._sent.get(event_id)
            if prior is not None:
                if prior[0] != request:
                    raise Conflict(
                        f"event id '{event_id}' was already used on run '{self.id}' for "
                        "another event or payload; use a new id"
                    )
                return prior[1]
        if expect_version is not None and expect_version != self.version:
            raise Conflict(
                f"instance '{self.instance}' is at version {self.version}, not "
                f"{expect_version}: another step came first; read it again"
            )
        taken_by = id(self._current)
        step = self.session.send(event, payload).step
        if step.accepted:
            self._versions[taken_by] = self._versions.get(taken_by, 0) + 1
        if event_id is not None:
            self._sent[event_id] = (request, step)
        return step

    @property
    def start_effects(self) -> tuple[EffectCall, ...]:
        return self.session.start_effects

    def _request(self, event: str, payload: Mapping[str, Any] | None) -> str:
        """What an event id stands for: the event and the payload fields history keeps."""
        recordable = self._current.engine.recordable_fields.get(event, frozenset())
        public = {k: v for k, v in (payload or {}).items() if k in recordable}
        return json.dumps([event, public], sort_keys=True, default=str)

    def available(self) -> list[EventOption]:
        return self._current.available_events()

    def history(self) -> list[HistoryEntry]:
        return list(self._current.history)


class StoredRun(Run):
    """A run kept in a store: every read asks the store, so another process's steps show."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.id = run_id
        self.store = store

    def _record(self) -> InstanceRecord:
        return self.store.current(self.id)

    @property
    def workflow(self) -> str:
        return self._record().workflow

    @property
    def instance(self) -> str:
        return self._record().id

    @property
    def state(self) -> str:
        return self._record().state

    @property
    def outcome(self) -> str | None:
        return self._record().outcome

    @property
    def finished(self) -> bool:
        return self._record().finished

    @property
    def version(self) -> int:
        return self._record().version

    @property
    def data(self) -> Mapping[str, Any]:
        return self._record().data

    def send(
        self,
        event: str,
        payload: Mapping[str, Any] | None = None,
        *,
        event_id: str | None = None,
        expect_version: int | None = None,
    ) -> Step:
        sent = self.store.send(
            self.store.delivery_target(self.id, event_id),
            event,
            payload,
            event_id=event_id,
            expect_version=expect_version,
        )
        return sent.step

    def available(self) -> list[EventOption]:
        return self.store.available(self._record().id)

    def history(self) -> list[HistoryEntry]:
        return [stored.entry for stored in self.store.history(self._record().id)]
