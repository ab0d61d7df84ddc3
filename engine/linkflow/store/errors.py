"""What can go wrong with a store, each a one-line message a person can act on."""

from __future__ import annotations

from linkflow.errors import LinkflowError


class StoreError(LinkflowError):
    """The store cannot do what was asked (unreachable, unwritable, made by a newer linkflow)."""


class NotFound(StoreError):
    """No instance (or workflow, or record) by that id in the store."""


class Conflict(StoreError):
    """The request contradicts what the store holds: an event id reused with other content, a
    stale `expect_version`, an instance id reused with other start data."""


class NotAllowed(Conflict):
    """An operator action the instance does not allow now (no cancel path from its state, an
    instance that already ended): refused, nothing written."""


class Retry(StoreError):
    """A transaction lost a race (deadlock, serialization failure, duplicate key): run it again."""


class LostRace(BaseException):
    """A read inside a step lost a race on PostgreSQL (chosen as a deadlock victim, or a
    serialization failure): the transaction is dead and must run again.

    A BaseException on purpose: the runtime turns a step's failures (`Exception`) into a
    refusal, which would leave the store writing into an aborted transaction; it undoes the
    step and lets anything else through, so this reaches `StoreCore._write`, which runs the
    transaction again as it does for `Retry`."""


#: The driver errors (by class name: the store's modules do not import psycopg) that mean a
#: transaction lost a race and may simply run again.
RACE_LOST = frozenset({"DeadlockDetected", "SerializationFailure"})


class ConnectionLost(StoreError):
    """The connection to the database broke during a transaction (the server went away, a
    primary failed over). `before_commit`: it broke before COMMIT was sent, so the database
    applied nothing and running the transaction again is safe; otherwise nobody can tell
    whether it committed, and only the caller's own retry (an event id) may settle it."""

    def __init__(self, message: str, *, before_commit: bool) -> None:
        super().__init__(message)
        self.before_commit = before_commit


def first_line(err: BaseException) -> str:
    """A driver error's first line (the rest is context and hints), or its type's name."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
