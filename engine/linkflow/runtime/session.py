"""A session follows one actor across workflows: when a workflow ends in a state that hands
off, the named workflow starts with the data fields both declare, on the same world.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from linkflow.errors import UsageError
from linkflow.language.model import Workflow
from linkflow.runtime.effect_calls import EffectCall
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Clock, Instance
from linkflow.runtime.steps import Step
from linkflow.runtime.world import World, copy_json

#: A cycle of short timeouts after a long wait could otherwise fire millions of times in one
#: call; the rest fires on the next call, from where this one stopped.
MAX_CHAINED_TIMEOUTS = 1000


class EngineCache:
    """Compiles each workflow once, however many sessions run it."""

    def __init__(self, workflows: Mapping[str, Workflow]) -> None:
        self.workflows = dict(workflows)
        self._engines: dict[str, Engine] = {}

    def engine(self, name: str) -> Engine:
        engine = self._engines.get(name)
        if engine is None:
            if name not in self.workflows:
                known = ", ".join(sorted(self.workflows)) or "none"
                raise UsageError(f"no workflow named '{name}' (loaded: {known})")
            engine = self._engines[name] = Engine(self.workflows[name])
        return engine

    def replacing(self, workflow: Workflow) -> EngineCache:
        """A cache where `workflow` stands in for the one of its name; every other compiled
        engine is shared, so trying a changed workflow recompiles only that one."""
        other = EngineCache({**self.workflows, workflow.name: workflow})
        other._engines = {k: v for k, v in self._engines.items() if k != workflow.name}
        return other


@dataclass(frozen=True, slots=True)
class SessionStep:
    """A step, with the workflow it happened in and the workflow handed to, if any."""

    workflow: str
    step: Step
    handed_to: str = ""


class Session:
    """The current instance plus every instance before it in the handoff chain."""

    def __init__(
        self,
        engines: EngineCache,
        start: str,
        data: Mapping[str, Any] | None = None,
        world: World | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.engines = engines
        self.world = world if world is not None else World()
        self.clock = clock
        self.instance: Instance = engines.engine(start).create(data, self.world, clock)
        #: The calls the current instance caused by starting (its initial states' `invoke`s),
        #: resolved from its start data: a session performs no call (effect_calls.py).
        self.start_effects: tuple[EffectCall, ...] = self.instance.engine.start_effects(
            self.instance
        )
        self.instances: list[Instance] = [self.instance]
        self.steps: list[SessionStep] = []

    @property
    def workflow(self) -> str:
        return self.instance.workflow.name

    def send(self, event: str, payload: Mapping[str, Any] | None = None) -> SessionStep:
        return self._record(self.instance.send(event, payload))

    def expire(self) -> SessionStep | None:
        step = self.instance.expire()
        return None if step is None else self._record(step)

    def expire_all(self) -> list[SessionStep]:
        """Every timeout that has run out, in turn (a chain of waits fires link by link)."""
        fired: list[SessionStep] = []
        while len(fired) < MAX_CHAINED_TIMEOUTS:
            entry = self.expire()
            if entry is None:
                break
            fired.append(entry)
        return fired

    def _record(self, step: Step) -> SessionStep:
        name = self.workflow
        handed = ""
        state = self.instance.workflow.states[self.instance.state]
        if step.accepted and state.handoff:
            handed = state.handoff
            self._hand_off(handed)
        entry = SessionStep(name, step, handed)
        self.steps.append(entry)
        return entry

    def _hand_off(self, name: str) -> None:
        engine = self.engines.engine(name)
        shared = handoff_data(self.instance.data, engine.workflow)
        self.instance = engine.create(shared, self.world, self.clock)
        self.start_effects = engine.start_effects(self.instance)
        self.instances.append(self.instance)


def handoff_data(data: Mapping[str, Any], target: Workflow) -> dict[str, Any]:
    """What a handoff carries over: the data fields both workflows declare."""
    return {key: copy_json(value) for key, value in data.items() if key in target.data}
