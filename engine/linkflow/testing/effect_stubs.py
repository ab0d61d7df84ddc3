"""Offline answers to a scenario's calls: the service stubs of `respond:` and `fail:` steps.

A scenario performs no call. It keeps the calls of the current instance that wait for an
answer (its start's and its steps' `invoke`s whose state is still active) and, at a `respond`
or `fail` step, turns the answer into the event through `result_event` / `failed_event`
(runtime/effect_calls.py), the same functions the worker uses, then sends it: a suite with
effects stays deterministic and needs no network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linkflow.language.model import is_active
from linkflow.runtime.effect_calls import (
    CONNECTION_REASON,
    TIMEOUT_REASON,
    EffectCall,
    failed_event,
    result_event,
)
from linkflow.runtime.session import Session, SessionStep

#: The reasons a `fail:` step gives: the worker's words for the same outcome.
FAIL_REASONS = {"timeout": TIMEOUT_REASON, "connection": CONNECTION_REASON}


class PendingCalls:
    """The calls of the session's current instance that wait for an answer, oldest first."""

    def __init__(self, session: Session) -> None:
        self._instance = id(session.instance)
        self.calls: list[EffectCall] = [c for c in session.start_effects if c.answers]

    def after(self, session: Session, entries: Sequence[SessionStep]) -> None:
        """Take in the calls a step caused; forget those whose state was left (their answer
        would come late and be ignored) and those of an instance handed off from."""
        if id(session.instance) != self._instance:
            self._instance = id(session.instance)
            self.calls = [c for c in session.start_effects if c.answers]
            return
        for entry in entries:
            for call in entry.step.effects:
                if call.answers:
                    # entering the invoking state again supersedes the call made before
                    self.calls = [
                        c for c in self.calls if (c.name, c.state) != (call.name, call.state)
                    ]
                    self.calls.append(call)
        state = session.instance.state
        self.calls = [c for c in self.calls if is_active(state, c.state)]

    def pick(self, name: str | None) -> tuple[EffectCall | None, str]:
        """The call a `respond`/`fail` step answers, or None and why not, in words."""
        pending = ", ".join(c.name for c in self.calls)
        found = [c for c in self.calls if name is None or c.name == name]
        if len(found) == 1:
            return found[0], ""
        if not self.calls:
            return None, "no call is waiting for an answer here (no state entered invokes one)"
        if not found:
            return None, f"no call named '{name}' is waiting for an answer (waiting: {pending})"
        return None, f"several calls wait for an answer ({pending}): name one with `effect:`"

    def answer(self, call: EffectCall, spec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The event and payload that a step's `respond` or `fail` makes of `call`'s answer."""
        self.calls.remove(call)
        if "respond" in spec:
            respond = spec["respond"]
            return result_event(call, int(respond["status"]), respond.get("body"))
        fail = spec["fail"]
        if isinstance(fail, Mapping):
            return result_event(call, int(fail["status"]), None)
        return failed_event(call, None, FAIL_REASONS[str(fail)])


def effect_names(entries: Sequence[SessionStep]) -> list[str]:
    """The names of the calls some steps caused, in order."""
    return [call.name for entry in entries for call in entry.step.effects]
