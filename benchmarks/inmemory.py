"""Where linkflow's in-memory time goes, measured apart in the same run as the flow figures.

A profile says which functions ran longest, but the profiler slows Python code far more than
the expression library's compiled code, so shares read off it mislead. Here the two parts
linkflow cannot do without are timed on their own, on the flow's own guards and transitions:
the expression library evaluating each guard (given what the engine gives it), and transitions
changing the state. What is left is the engine's own bookkeeping.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from benchmarks import domain
from benchmarks.figures import Figure
from benchmarks.impls import Implementation

#: The flow's events, the payload each is sent with, and whether it is the refused `login`.
_GOOD = {"username": domain.ACCOUNT, "password": domain.PASSWORD}
_BAD = {"username": domain.ACCOUNT, "password": domain.WRONG_PASSWORD}


def _median_us(action: Callable[[], Any], count: int, repeats: int) -> float:
    values = []
    for _ in range(repeats):
        begun = time.perf_counter()
        for _ in range(count):
            action()
        values.append((time.perf_counter() - begun) / count * 1e6)
    return statistics.median(values)


def _at(impl: Any, state: str) -> Any:
    """A fresh linkflow instance moved along the flow to `state`."""
    instance = impl.create()
    sends = [("open", None), ("confirm", None), ("login", _GOOD), ("approve", None)]
    for event, payload in sends:
        if instance.state == state:
            break
        instance.send(getattr(impl, f"e_{event}"), payload)
    return instance


def _guard_us(impl: Any, state: str, event: str, payload: Any, count: int, repeats: int) -> float:
    """The expression library evaluating the guards `event` checks in `state`."""
    from engine.runtime.machine import _Context

    engine = impl.engine
    instance = _at(impl, state)
    total = 0.0
    for transition in engine.workflow.by_source.get((state, event), ()):
        for use in transition.guards:
            ctx = _Context(payload or {}, {}, False)
            scope = engine.activation(instance, ctx, use.guard.when.names)
            total += _median_us(partial(use.guard.when.evaluate, scope), count, repeats)
    return total


def _state_change_us(impl: Any, count: int, repeats: int) -> float:
    """transitions changing the state once for each of the flow's five events."""
    from transitions import EventData

    engine = impl.engine
    instance = impl.create()
    total = 0.0
    for source, event in zip(domain.STATES, domain.EVENTS, strict=False):
        name = getattr(impl, f"e_{event}")
        state, trigger, candidates = engine._routes[(source, name)]
        made = candidates[0][1]

        def change(made: Any = made, state: Any = state, trigger: Any = trigger) -> None:
            instance.state = made.source
            made._change_state(EventData(state, trigger, engine.machine, instance, (), {}))

        total += _median_us(change, count, repeats)
    return total


def breakdown_notes(
    flow: Figure | None, refusal: Figure | None, impls: list[Implementation], quick: bool = False
) -> None:
    """Add to the flow and refusal figures what the library calls cost of linkflow's time."""
    impl: Any = next((i for i in impls if i.key == "linkflow"), None)
    if impl is None or getattr(impl, "workflow_file", None) is None:
        return
    count, repeats = (20, 2) if quick else (300, 5)
    try:
        guards = sum(
            _guard_us(impl, state, getattr(impl, f"e_{event}"), payload, count, repeats)
            for state, event, payload in (
                ("identity", "open", None),
                ("choose_method", "confirm", None),
                ("login_window", "login", _GOOD),
            )
        )
        changes = _state_change_us(impl, count, repeats)
        refused = _guard_us(impl, domain.REFUSE_IN, impl.e_login, _BAD, count, repeats)
    except (KeyError, AttributeError) as err:  # another workflow (--workflow): other names
        for fig in (flow, refusal):
            if fig is not None:
                fig.notes.append(f"linkflow's time not broken down: {type(err).__name__} {err}")
        return
    if flow is not None and "linkflow" in flow.rows:
        total = flow.median("linkflow", flow.columns[0])
        rest = max(total - guards - changes, 0.0)
        flow.notes.append(
            f"Where linkflow's {total:,.1f} µs go (medians, each part timed on its own in this "
            f"run): the expression library evaluating the flow's guards {guards:,.1f} µs "
            f"({guards / total:.0%}; it converts every value it is given, at about a "
            f"microsecond per text or mapping); transitions changing the state five times "
            f"{changes:,.1f} µs ({changes / total:.0%}); the engine's own work {rest:,.1f} µs "
            f"({rest / total:.0%}): payload checks, binding lookups, actions with their undo "
            "journal and type checks, history entries and step records."
        )
    if refusal is not None and "linkflow" in refusal.rows:
        total = refusal.median("linkflow", refusal.columns[0])
        refusal.notes.append(
            f"Where linkflow's {total:,.1f} µs go: the expression library evaluating "
            f"`credentials_valid` {refused:,.1f} µs ({refused / total:.0%}; the refusal never "
            "reaches transitions); the rest is the payload check, the refusal message, the "
            "history entry and the step record."
        )
