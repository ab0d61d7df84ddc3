"""The one module that touches `transitions`: the shared Machine of a workflow, and the change
of an instance's state through it.

Why an adapter: the engine chooses the transition an event takes itself, because it records
every guard check and words every refusal, which transitions' conditions (yes or no) cannot. So
it never calls transitions' trigger; what it asks of transitions is the change of state only:
leave the source State, set the model's state, enter the target State. transitions 0.9 does
exactly that in `Transition._change_state`, a private method. `StateChange.apply` does the same
with public API only (`State.exit`, `Machine.set_state`, `State.enter`, `Machine.callbacks`):
an update of transitions can break this module and nothing else, and
tests/test_state_change.py pins the version range it was written against and the behaviour
relied on. It is also cheaper: the States are looked up once, here, not by name on every event.

One Machine per workflow, holding no models: instances are never `add_model`-ed (that is O(n)
per add) and `auto_transitions=False`, so there is no `to_<state>()` bypass.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from transitions import EventData, Machine

#: transitions' own logger: its States log each exit and entry at DEBUG and INFO.
_TRANSITIONS_LOG = logging.getLogger("transitions.core")


class StateChange:
    """One transition's change of state, from `source` to `target` on `event`."""

    __slots__ = ("_event", "_machine", "_source", "_target", "_transition", "source", "target")

    def __init__(self, machine: Machine, event: str, source: str, target: str) -> None:
        self.source = source
        self.target = target
        self._machine = machine
        self._event = machine.events[event]
        self._source = machine.get_state(source)
        self._target = machine.get_state(target)
        self._transition = machine.get_transitions(event, source, target)[-1]

    def apply(self, model: Any) -> None:
        """Move `model` from the source state to the target, as transitions' own transition
        does once its conditions hold: the source's exit callbacks, the new state set on the
        model (`model.state`), the target's enter callbacks, the Machine's `on_final` when
        the target is final. The model is not added to the Machine.

        When there is nothing for those steps to call or log (no exit, enter or final
        callbacks, which linkflow never adds, and transitions' logger below INFO) all they do
        is set the model's state attribute to the target's value: that alone is done then,
        without building an EventData (tests/test_state_change.py compares both ways)."""
        machine = self._machine
        target = self._target
        if (
            not self._source.on_exit
            and not target.on_enter
            and not (target.final and machine.on_final)
            and not _TRANSITIONS_LOG.isEnabledFor(logging.INFO)
        ):
            setattr(model, machine.model_attribute, target.value)
            return
        data = EventData(self._source, self._event, machine, model, (), {})
        data.transition = self._transition
        self._source.exit(data)
        machine.set_state(target, model)
        data.state = target
        target.enter(data)
        if target.final:
            machine.callbacks(machine.on_final, data)


class StateMachine:
    """A workflow's states and transitions as one shared transitions `Machine`."""

    def __init__(self, states: Iterable[str], initial: str) -> None:
        self.machine = Machine(
            model=None,
            states=list(states),
            initial=initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    def add(self, event: str, source: str, target: str) -> StateChange:
        """Add a transition to the Machine, in the order transitions would try it, and give
        the change of state it makes."""
        self.machine.add_transition(trigger=event, source=source, dest=target)
        return StateChange(self.machine, event, source, target)
