"""Group commit: many events applied in one write transaction, each as if sent alone.

A durable commit costs a sync of the log to disk (SQLite's WAL fsync, PostgreSQL's WAL flush),
and that sync costs about the same for one event as for fifty. A writer that gathers the events
that arrived while the previous commit was syncing and commits them together pays it once.

Each event runs exactly as `Store.send` runs it (the same reads, guards, history, feed and
exactly-once checks, in the order given), inside its own savepoint: an event that raises
(unknown instance, reused event id, stale `expect_version`, a fault) is rolled back to its
savepoint and answered with its error, and the events before and after it commit all the same.
Two events for one instance in one batch see each other exactly as two transactions in a row
would. Nothing of a batch is visible, and no caller may be answered, before the commit returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from linkflow.errors import UsageError
from linkflow.store.backend import Tx
from linkflow.store.cache import Stale
from linkflow.store.errors import StoreError, first_line
from linkflow.store.records import Sent
from linkflow.store.store import check_send

if TYPE_CHECKING:
    from linkflow.store.store import Store


@dataclass(frozen=True, slots=True)
class EventRequest:
    """One `Store.send`, held until a batch takes it."""

    instance_id: str
    event: str
    payload: Mapping[str, Any] | None = None
    event_id: str | None = None
    expect_version: int | None = None


def _must_retry(store: Store) -> tuple[type[BaseException], ...]:
    """The database errors that end the whole transaction, to be run again as `Store._write`
    runs any transaction that lost a race: another writer holds what this one waits for.

    `InFailedSqlTransaction` is among them: the runtime turns any failure inside a step into
    a refusal, so a deadlock met while an action read a world record surfaces only at the
    event's next statement, as "the transaction is aborted"."""
    if store.backend.name != "postgresql":
        return ()
    from psycopg import errors  # noqa: PLC0415 - psycopg: the postgres extra; only a postgres store's errors are retried

    return (
        errors.SerializationFailure,
        errors.DeadlockDetected,
        errors.UniqueViolation,
        errors.InFailedSqlTransaction,
    )


def send_many(store: Store, requests: Sequence[EventRequest]) -> list[Sent | Exception]:
    """Apply `requests` in order in one transaction; for each, its `Sent` or the exception
    `Store.send` would have raised for it.

    Raises only when the transaction as a whole fails (the store is unreachable, the commit
    failed, it lost a race too often): then none of the events was applied.
    """
    if not requests:
        return []
    checked: list[Exception | None] = []
    for request in requests:
        try:
            check_send(request.payload, request.event_id)
            checked.append(None)
        except UsageError as err:  # answered as Store.send would raise it
            checked.append(err)
    # A stale cache (cache.py) ends the whole attempt too: `_write` runs it again.
    retry: tuple[type[BaseException], ...] = (Stale, *_must_retry(store))

    # Where writers run side by side (PostgreSQL), the batch locks its instances first, in id
    # order: two batches sharing instances queue instead of deadlocking, and a timer pass that
    # claimed one of them is waited for before any world record is locked (core.py, "Lock
    # order"). Not read: it goes out with the first statement that is.
    locking = sorted({r.instance_id for r, w in zip(requests, checked, strict=True) if not w})

    def work(tx: Tx) -> list[Sent | Exception]:
        # A fresh list per attempt: an attempt that lost a race is run again from the start.
        if locking and not store.backend.serial:
            tx.run(store.sql["lock_instances"], (locking,))
        return [
            wrong or _one(store, tx, request, retry)
            for request, wrong in zip(requests, checked, strict=True)
        ]

    return store._write(work, keeps=True)


def _one(
    store: Store, tx: Tx, request: EventRequest, retry: tuple[type[BaseException], ...]
) -> Sent | Exception:
    tx.run(store.sql["savepoint"])
    remembered = store.cache.tx
    mark = None if remembered is None else remembered.mark()
    try:
        sent = store._send_in(
            tx,
            request.instance_id,
            request.event,
            request.payload,
            request.event_id,
            request.expect_version,
        )
    except retry:  # the whole batch runs again
        raise
    except Exception as err:  # this event's answer; the others go on
        # Undo whatever the event wrote. When the database itself lost the transaction (the
        # connection broke, SQLite rolled back on a full disk), this statement fails too and
        # the whole batch fails: none of it is applied.
        tx.run(store.sql["rollback_to_savepoint"])
        tx.run(store.sql["release_savepoint"])
        if remembered is not None and mark is not None:
            remembered.undo(mark)  # what the event read or wrote is undone with it
        return _as_store_error(store, err) if _is_database_error(err) else err
    tx.run(store.sql["release_savepoint"])
    return sent


def _is_database_error(err: Exception) -> bool:
    """An error of the database driver (sqlite3 or psycopg), not of linkflow."""
    module = type(err).__module__
    return module.startswith(("sqlite3", "psycopg"))


def _as_store_error(store: Store, err: Exception) -> StoreError:
    """A driver's error for one event, in the store's words (as `Store.send` would raise it)."""
    return StoreError(f"cannot write to the store at {store.where}: {first_line(err)}")
