"""The service's use of the store: opened once per process, called from worker threads, its
errors turned into problem documents.

The store's calls are blocking (sqlite3, psycopg); each runs in a worker thread so the event
loop keeps serving. A store error never reaches the client in the store's own words (they name
files and hosts): the problem says what happened, the log says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from linkflow.errors import DefinitionError, UsageError
from linkflow.runtime.engine import Engine
from linkflow.service.problems import ServiceProblem
from linkflow.service.request_log import log_event
from linkflow.store import Conflict, NotFound, Store, StoreError

T = TypeVar("T")
RETRY_AFTER = {"Retry-After": "1"}
PINNED_LIMIT = 100_000


@contextmanager
def store_errors(instance: str = "", count: Callable[[str], None] | None = None) -> Iterator[None]:
    """Store exceptions as problems: unknown id 404, conflict 409, bad data 422, down 503.
    `count`, when given, is told of each conflict and each unavailable store (metrics)."""
    try:
        yield
    except NotFound:
        raise ServiceProblem("unknown-instance", f"no instance '{instance}'") from None
    except Conflict as err:
        if count is not None:
            count("conflict")
        raise ServiceProblem("conflict", str(err)) from None
    except UsageError as err:
        raise ServiceProblem("invalid-data", str(err)) from None
    except (StoreError, DefinitionError) as err:
        if count is not None:
            count("unavailable")
        log_event("store error", logging.WARNING, error=type(err).__name__, reason=str(err))
        raise ServiceProblem(
            "store-unavailable", "the store did not answer; retry shortly", headers=RETRY_AFTER
        ) from None


class StoreAccess:
    """One open store and the engines of the definitions instances run on."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._engines: dict[str, Engine] = {}
        #: instance id -> the definition it runs on; never changes, so it is kept (bounded).
        self._pinned: dict[str, str] = {}
        #: Told of each store error a call turns into a problem (the service's metrics).
        self.on_error: Callable[[str], None] | None = None

    def engine_of(self, instance: str) -> Engine:
        """The engine an instance runs on (blocking). After the first call per instance it
        costs no store read: an instance keeps its definition for life."""
        definition = self._pinned.get(instance)
        if definition is None:
            definition = self.store.get(instance).definition
            if len(self._pinned) >= PINNED_LIMIT:
                self._pinned.clear()
            self._pinned[instance] = definition
        return self.engine(definition)

    def pinned_engine(self, instance: str) -> Engine | None:
        """The engine of an instance already seen, without a thread or a store read; None
        when it is not known yet (then `engine_of` in a thread)."""
        definition = self._pinned.get(instance)
        return None if definition is None else self._engines.get(definition)

    async def call(self, work: Callable[..., T], *args: Any, instance: str = "", **kw: Any) -> T:
        with store_errors(instance, self.on_error):
            return await run_in_threadpool(work, *args, **kw)

    def engine(self, definition: str) -> Engine:
        """The compiled definition an instance pinned (blocking: call it in a thread). The
        store's own: the served models it registered, or stored text built once."""
        engine = self._engines.get(definition)
        if engine is None:
            engine = self._engines[definition] = self.store.engine(definition)
        return engine
