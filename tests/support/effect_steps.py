"""A test double for steps that cause effects, until the language makes them from YAML.

The store reads `Step.effects` and nothing else; `causing` patches `Instance.send` so that the
step of a chosen event carries the `EffectCall`s a function makes for it (given the step
taken), through `dataclasses.replace`. Only the tests use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from linkflow.language.services import Auth, RetryPolicy
from linkflow.runtime.effect_calls import INVOKE, NOTIFY, EffectCall
from linkflow.runtime.instance import Instance
from linkflow.runtime.steps import Step

Maker = Callable[[Step], tuple[EffectCall, ...]]

#: A workflow whose `ask` enters `waiting` (the state that invokes in the tests), `leave`
#: moves on, `again` re-enters `waiting`, `finish` ends it.
FLOW = """\
workflow: asking
initial: idle
states:
  idle: {}
  waiting: {}
  moved: {}
  closed: {final: completed}
events:
  ask: {}
  leave: {}
  again: {}
  finish: {}
transitions:
  - {event: ask, from: idle, to: waiting}
  - {event: leave, from: waiting, to: moved}
  - {event: again, from: [waiting, moved], to: waiting}
  - {event: finish, from: [idle, waiting, moved], to: closed}
"""


def write_flow(folder: Path) -> Path:
    path = folder / "asking.yaml"
    path.write_text(FLOW, encoding="utf-8")
    return path


def invoke(
    url: str,
    *,
    name: str = "lookup",
    state: str = "waiting",
    attempts: int = 3,
    timeout: float = 2.0,
    auth: Auth | None = None,
    response: Mapping[str, Mapping[str, Any]] | None = None,
    initial: float = 0.05,
) -> EffectCall:
    return EffectCall(
        INVOKE,
        name,
        "supplier",
        "POST",
        url,
        headers={"Accept": "application/json"},
        body={"ask": "account"},
        state=state,
        timeout=timeout,
        retry=RetryPolicy(attempts, initial, 2.0, 1.0),
        auth=auth,
        response=dict(response or {}),
    )


def notify(url: str, *, attempts: int = 3, timeout: float = 2.0) -> EffectCall:
    return EffectCall(
        NOTIFY,
        "tell",
        "partner",
        "POST",
        url,
        body={"told": True},
        timeout=timeout,
        retry=RetryPolicy(attempts, 0.05, 2.0, 1.0),
    )


@contextmanager
def causing(monkeypatch: pytest.MonkeyPatch, makers: Mapping[str, Maker]) -> Iterator[None]:
    """While the block runs, an accepted step of an event in `makers` carries its calls."""
    original = Instance.send

    def send(self: Instance, event: str, payload: Mapping[str, Any] | None = None) -> Step:
        step = original(self, event, payload)
        make = makers.get(event)
        if make is None or not step.accepted:
            return step
        return replace(step, effects=make(step))

    with monkeypatch.context() as patch:
        patch.setattr(Instance, "send", send)
        yield
