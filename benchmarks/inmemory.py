"""Where linkflow's in-memory time goes, measured apart in the same run as the flow figures.

A profile says which functions ran longest, but the profiler slows Python code far more than
the expression library's compiled code, so shares read off it mislead. Here the two parts
linkflow cannot do without are timed on their own, on the flow's own guards and transitions:
evaluating each guard's expression (given what the engine gives it: the CEL subset in Python,
linkflow.language.cel_subset, or the expression library where the subset is not sure), and
transitions changing the state (its `StateChange`, which sets the state directly when there is
nothing to call or log). What is left is the engine's own bookkeeping.
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
from linkflow.runtime.context import EventContext

#: The flow's events, the payload each is sent with, and whether it is the refused `login`.
_GOOD = {"username": domain.ACCOUNT, "password": domain.PASSWORD}
_BAD = {"username": domain.ACCOUNT, "password": domain.WRONG_PASSWORD}


def _cpu_us(action: Callable[[], Any], count: int) -> float:
    """CPU microseconds of this thread per call of `action` (other processes' load on the
    shared machine delays a call but adds no CPU time to it)."""
    begun = time.thread_time()
    for _ in range(count):
        action()
    return (time.thread_time() - begun) / count * 1e6


def _each_us(action: Callable[[Any], Any], items: list[Any]) -> float:
    begun = time.thread_time()
    for item in items:
        action(item)
    return (time.thread_time() - begun) / len(items) * 1e6


def _at(impl: Any, state: str) -> Any:
    """A fresh linkflow instance moved along the flow to `state`."""
    instance = impl.create()
    sends = [("open", None), ("confirm", None), ("login", _GOOD), ("approve", None)]
    for event, payload in sends:
        if instance.state == state:
            break
        instance.send(getattr(impl, f"e_{event}"), payload)
    return instance


def _guard_calls(impl: Any, state: str, event: str, payload: Any) -> list[Callable[[], Any]]:
    """Evaluating each guard `event` checks in `state`, as the engine calls it (with the inputs
    the engine gives it)."""
    engine = impl.engine
    instance = _at(impl, state)
    calls: list[Callable[[], Any]] = []
    for transition in engine.workflow.by_source[(state, event)]:
        for use in transition.guards:
            ctx = EventContext(payload or {}, {}, False)
            scope = engine.activation(instance, ctx, use.guard.when.names)
            calls.append(partial(use.guard.when.evaluate, scope))
    return calls


def _state_changes(impl: Any) -> list[Callable[[], Any]]:
    """transitions changing the state, once for each of the flow's five events."""
    engine = impl.engine
    instance = impl.create()
    calls: list[Callable[[], Any]] = []
    for source, event in zip(domain.STATES, domain.EVENTS, strict=False):
        made = engine.route(source, getattr(impl, f"e_{event}"))[0][1]

        def change(made: Any = made) -> None:
            instance.state = made.source
            made.apply(instance)

        calls.append(change)
    return calls


def _round(impl: Any, parts: dict[str, list[Callable[[], Any]]], count: int) -> dict[str, float]:
    """One round: the whole flow, the whole refusal, then each part; µs of CPU each."""
    flows = [impl.create() for _ in range(count)]
    pool = [impl.create() for _ in range(count)]
    for instance in pool:
        impl.advance(instance)
    out = {"flow": _each_us(impl.run_flow, flows), "refusal": _each_us(impl.refuse, pool)}
    for name, calls in parts.items():
        out[name] = sum(_cpu_us(call, count) for call in calls)
    return out


def breakdown_notes(
    flow: Figure | None, refusal: Figure | None, impls: list[Implementation], quick: bool = False
) -> None:
    """Add to the flow and refusal figures what the library calls cost of linkflow's time."""
    impl: Any = next((i for i in impls if i.key == "linkflow"), None)
    if impl is None or getattr(impl, "workflow_file", None) is None:
        return
    count, rounds = (20, 2) if quick else (500, 9)
    try:
        parts = {
            "guards": [
                call
                for state, event, payload in (
                    ("identity", "open", None),
                    ("choose_method", "confirm", None),
                    ("login_window", "login", _GOOD),
                )
                for call in _guard_calls(impl, state, getattr(impl, f"e_{event}"), payload)
            ],
            "changes": _state_changes(impl),
            "refused": _guard_calls(impl, domain.REFUSE_IN, impl.e_login, _BAD),
        }
        measured = [_round(impl, parts, count) for _ in range(rounds)]
    except (KeyError, IndexError, AttributeError) as err:  # another workflow: other names
        for fig in (flow, refusal):
            if fig is not None:
                fig.notes.append(f"linkflow's time not broken down: {type(err).__name__} {err}")
        return
    med = {key: statistics.median(r[key] for r in measured) for key in measured[0]}
    how = (
        f"CPU time, medians of {rounds} rounds in which the whole and each part are timed "
        "one after the other"
    )
    if flow is not None:
        total, guards, changes = med["flow"], med["guards"], med["changes"]
        rest = max(total - guards - changes, 0.0)
        flow.notes.append(
            f"Where linkflow's time goes ({how}): one flow {total:,.1f} µs, of which the "
            f"three guards' expressions {guards:,.1f} µs ({guards / total:.0%}; the CEL "
            "subset in Python, with its check that CEL could take the inputs), transitions "
            f"changing the state five times {changes:,.1f} µs "
            f"({changes / total:.0%}), and the engine's own work {rest:,.1f} µs "
            f"({rest / total:.0%}): payload checks, binding lookups, actions with their undo "
            "journal and type checks, history entries and step records."
        )
    if refusal is not None:
        total, refused = med["refusal"], med["refused"]
        refusal.notes.append(
            f"Where linkflow's time goes ({how}): one refusal {total:,.1f} µs, of which the "
            f"expression of `credentials_valid` {refused:,.1f} µs "
            f"({refused / total:.0%}); a refused event never reaches transitions; the rest is "
            "the payload check, the refusal message, the history entry and the step record."
        )
