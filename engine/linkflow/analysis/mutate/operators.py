"""Mutation operators: each makes small, plausible mistakes in a built workflow model.

An operator never edits YAML: it copies the frozen model with one element changed
(`dataclasses.replace`), so every mutant is exactly one mistake and keeps the original's source
locations. `mutants(workflow)` lists them in a stable order, so worker processes that build the
same list from the same files agree on what mutant number N is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from linkflow.language.model import (
    ActionKind,
    Outcome,
    State,
    Transition,
    Workflow,
    transitions_by_source,
)
from linkflow.source import SourceLocation


@dataclass(frozen=True, slots=True)
class Mutant:
    """One mistake: what was changed, in words, where the original element stands, and the
    changed model. `subject` names the element (a guard label, a state, a field), so a
    justification can name one mutant among several at the same line."""

    workflow: str
    operator: str
    subject: str
    edit: str
    location: SourceLocation
    model: Workflow
    #: The transition the mutant changes, if any (for hints: which scenario steps reach it).
    transition: Transition | None = None
    #: The state the mutant is about, if any (the added source, the final state, the waiting one).
    state: str = ""
    #: The event the mutant is about, if any.
    event: str = ""


def _with_transition(workflow: Workflow, old: Transition, new: Transition) -> Workflow:
    transitions = tuple(new if t is old else t for t in workflow.transitions)
    return replace(workflow, transitions=transitions, by_source=transitions_by_source(transitions))


def _with_state(workflow: Workflow, state: State) -> Workflow:
    return replace(workflow, states={**workflow.states, state.name: state})


def _declared(workflow: Workflow) -> list[Transition]:
    """The transitions the author wrote (the timeout ones belong to their waiting state)."""
    return [t for t in workflow.transitions if not t.is_timeout]


def _same_kind(workflow: Workflow, name: str) -> list[str]:
    """Other states of the same kind as `name`: final ones for a final state, else non-final."""
    final = workflow.states[name].is_final
    return [n for n, s in workflow.states.items() if s.is_final == final and n != name]


def _without_guard(workflow: Workflow, name: str) -> Workflow:
    """`workflow` without the definition of guard `name` (nothing uses it any more)."""
    return replace(
        workflow,
        guards={k: g for k, g in workflow.guards.items() if k != name},
        exclusive=tuple(group - {name} for group in workflow.exclusive),
    )


def drop_guard(workflow: Workflow) -> Iterator[Mutant]:
    """The check is forgotten on one transition. When that was its only use, its definition
    goes too: an unused definition changes nothing and the language would flag it, so keeping
    it would test that rule instead of the scenarios."""
    for t in _declared(workflow):
        for use in t.guards:
            new = replace(t, guards=tuple(u for u in t.guards if u is not use))
            model = _with_transition(workflow, t, new)
            name = use.guard.name
            if not any(u.guard.name == name for other in model.transitions for u in other.guards):
                model = _without_guard(model, name)
            yield Mutant(
                workflow.name,
                "drop_guard",
                use.label,
                f"{t.label} no longer checks guard {use.label}",
                use.location or t.location,
                model,
                transition=t,
            )


def negate_guard(workflow: Workflow) -> Iterator[Mutant]:
    for t in _declared(workflow):
        for use in t.guards:
            flipped = replace(use, negated=not use.negated)
            new = replace(t, guards=tuple(flipped if u is use else u for u in t.guards))
            yield Mutant(
                workflow.name,
                "negate_guard",
                use.label,
                f"{t.label} checks {flipped.label} instead of {use.label}",
                use.location or t.location,
                _with_transition(workflow, t, new),
                transition=t,
            )


def redirect(workflow: Workflow) -> Iterator[Mutant]:
    for t in _declared(workflow):
        for other in _same_kind(workflow, t.target):
            yield Mutant(
                workflow.name,
                "redirect",
                other,
                f"{t.label} goes to '{other}' instead of '{t.target}'",
                t.location,
                _with_transition(workflow, t, replace(t, target=other)),
                transition=t,
            )


def drop_action(workflow: Workflow) -> Iterator[Mutant]:
    for t in _declared(workflow):
        for action in t.actions:
            new = replace(t, actions=tuple(a for a in t.actions if a is not action))
            yield Mutant(
                workflow.name,
                "drop_action",
                action.target.text,
                f"{t.label} no longer does `{action.kind.value}` {action.target.text}",
                action.location,
                _with_transition(workflow, t, new),
                transition=t,
            )


_SWAP = {ActionKind.ADD: ActionKind.SET, ActionKind.SET: ActionKind.ADD}


def swap_add_set(workflow: Workflow) -> Iterator[Mutant]:
    for t in _declared(workflow):
        for action in t.actions:
            # `each` does not go with set (the language says so): not a mistake worth making.
            if action.kind not in _SWAP or action.each:
                continue
            swapped = replace(action, kind=_SWAP[action.kind])
            new = replace(t, actions=tuple(swapped if a is action else a for a in t.actions))
            yield Mutant(
                workflow.name,
                "swap_add_set",
                action.target.text,
                f"{t.label} does `{swapped.kind.value}` {action.target.text} "
                f"instead of `{action.kind.value}`",
                action.location,
                _with_transition(workflow, t, new),
                transition=t,
            )


def complete_final(workflow: Workflow) -> Iterator[Mutant]:
    for state in workflow.states.values():
        if state.final is None or state.final is Outcome.COMPLETED:
            continue
        yield Mutant(
            workflow.name,
            "complete_final",
            state.name,
            f"final state '{state.name}' ends {Outcome.COMPLETED.value} "
            f"instead of {state.final.value}",
            state.location,
            _with_state(workflow, replace(state, final=Outcome.COMPLETED)),
            state=state.name,
        )


def unmark_secret(workflow: Workflow) -> Iterator[Mutant]:
    for event in workflow.events.values():
        for name in sorted(event.secret_fields):
            schema: dict[str, Any] = dict(event.payload_schema or {})
            properties = dict(schema.get("properties") or {})
            properties[name] = {k: v for k, v in properties[name].items() if k != "secret"}
            schema["properties"] = properties
            changed = replace(
                event, payload_schema=schema, secret_fields=event.secret_fields - {name}
            )
            yield Mutant(
                workflow.name,
                "unmark_secret",
                name,
                f"payload field '{name}' of event '{event.name}' is no longer `secret: true`",
                event.location,
                replace(workflow, events={**workflow.events, event.name: changed}),
                event=event.name,
            )


def retarget_timeout(workflow: Workflow) -> Iterator[Mutant]:
    for t in workflow.transitions:
        if not t.is_timeout:
            continue
        state = workflow.states[t.sources[0]]
        timeout = state.waiting.timeout if state.waiting else None
        if state.waiting is None or timeout is None:  # pragma: no cover - built with one
            continue
        for other in _same_kind(workflow, t.target):
            waiting = replace(state.waiting, timeout=replace(timeout, to=other))
            model = _with_transition(workflow, t, replace(t, target=other))
            yield Mutant(
                workflow.name,
                "retarget_timeout",
                other,
                f"the timeout of '{state.name}' leads to '{other}' instead of '{timeout.to}'",
                timeout.location,
                _with_state(model, replace(state, waiting=waiting)),
                transition=t,
                state=state.name,
            )


def widen_from(workflow: Workflow) -> Iterator[Mutant]:
    for t in _declared(workflow):
        for name, state in workflow.states.items():
            if state.is_final or name in t.sources:
                continue
            yield Mutant(
                workflow.name,
                "widen_from",
                name,
                f"{t.label} is also taken from '{name}'",
                t.location,
                _with_transition(workflow, t, replace(t, sources=(*t.sources, name))),
                transition=t,
                state=name,
                event=t.event,
            )


#: Every operator, by the name reports and justifications use, in the order they run.
OPERATORS: dict[str, Callable[[Workflow], Iterator[Mutant]]] = {
    "drop_guard": drop_guard,
    "negate_guard": negate_guard,
    "redirect": redirect,
    "drop_action": drop_action,
    "swap_add_set": swap_add_set,
    "complete_final": complete_final,
    "unmark_secret": unmark_secret,
    "retarget_timeout": retarget_timeout,
    "widen_from": widen_from,
}


def mutants(workflow: Workflow, operators: Iterable[str] | None = None) -> list[Mutant]:
    """Every mutant of `workflow` by the named operators (all by default), in a stable order."""
    names = list(operators) if operators is not None else list(OPERATORS)
    return [m for name in names for m in OPERATORS[name](workflow)]
