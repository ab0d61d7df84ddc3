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

from linkflow.language.graph import graph_problems
from linkflow.language.invariant_patterns import parse_pattern, pattern_matches, write_parts
from linkflow.language.model import (
    DONE_EVENT_PREFIX,
    PARALLEL_JOIN,
    Action,
    ActionKind,
    Compound,
    Guard,
    Invariant,
    InvariantKind,
    Outcome,
    State,
    Transition,
    Workflow,
    transitions_by_source,
)
from linkflow.language.parallel_routes import left_at_once
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
    #: The action the mutant drops or changes, if any (what an invariant's `writes` may select).
    action: Action | None = None

    def is_named_by(self, invariant: Invariant, owner: Workflow) -> bool:
        """True when `invariant` (declared in `owner`) names what this mutant changed, so the
        language would refuse the mutant for the name alone, or because the invariant was
        written to prove exactly this element right: a guard an invariant requires, a field it
        says is never stored, a write it selects. Such an invariant is set aside for this
        mutant (and reported so), or the scenarios would never meet the missing refusal, the
        shown secret or the missing write: the invariant proves the workflow as written, the
        scenarios are what this run measures."""
        if self.operator in ("drop_guard", "negate_guard"):
            name = self.subject.lstrip("!")
            return invariant.kind is InvariantKind.REQUIRES and any(
                label.lstrip("!") == name for label in invariant.guards
            )
        if self.operator == "unmark_secret":
            return invariant.kind is InvariantKind.NEVER_STORES and self.subject in invariant.fields
        if self.operator == "drop_action" and self.action is not None:
            # Fewer writes cannot break an invariant, only leave a `requires` that selects
            # writes selecting nothing ("it proves nothing").
            if invariant.kind is not InvariantKind.REQUIRES or not invariant.writes:
                return False
            written = write_parts(self.model, self.action)
            return pattern_matches(parse_pattern(invariant.writes), written)
        return False


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
    it would test that rule instead of the scenarios. An invariant that names the guard is set
    aside for the mutant (`Mutant.is_named_by`), so the scenarios meet every guard's removal."""
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


def _with_guard(workflow: Workflow, guard: Guard) -> Workflow:
    """`workflow` with `guard` standing in for the definition of its name, in every use."""
    old = workflow.guards[guard.name]
    transitions = tuple(
        replace(t, guards=tuple(replace(u, guard=guard) if u.guard is old else u for u in t.guards))
        if any(u.guard is old for u in t.guards)
        else t
        for t in workflow.transitions
    )
    return replace(
        workflow,
        guards={**workflow.guards, guard.name: guard},
        transitions=transitions,
        by_source=transitions_by_source(transitions),
    )


def negate_guard(workflow: Workflow) -> Iterator[Mutant]:
    """The check is written the wrong way round (`!g` for `g`, or `g` for `!g`). A negated use
    needs `message_when_true` (the refusal when the guard holds); when the guard has none, the
    mutant gives it its `message` as that, the refusal its author would likely copy, so the
    language accepts the mistake and the scenarios meet it."""
    for t in _declared(workflow):
        for index, use in enumerate(t.guards):
            flipped = replace(use, negated=not use.negated)
            guard = use.guard
            model = workflow
            if flipped.negated and guard.message_when_true is None:
                guard = replace(guard, message_when_true=guard.message)
                model = _with_guard(workflow, guard)
                flipped = replace(flipped, guard=guard)
            # the same transition in `model` (a new object when the guard was replaced)
            old = model.transitions[next(i for i, x in enumerate(workflow.transitions) if x is t)]
            guards = tuple(flipped if i == index else u for i, u in enumerate(old.guards))
            new = replace(old, guards=guards)
            yield Mutant(
                workflow.name,
                "negate_guard",
                use.label,
                f"{t.label} checks {flipped.label} instead of {use.label}",
                use.location or t.location,
                _with_transition(model, old, new),
                transition=t,
            )


def _sound(model: Workflow) -> bool:
    """True when the graph checks pass: every state reachable, a final state reachable from
    each. A retargeting that breaks them is a mistake `load` always refuses, so making it would
    test the graph checks again instead of the scenarios; another target is a mistake they
    have to notice."""
    return not graph_problems(model)


def redirect(workflow: Workflow) -> Iterator[Mutant]:
    """One transition goes to another state of the same kind, among those that keep the
    graph sound (`_sound`)."""
    for t in _declared(workflow):
        for other in _same_kind(workflow, t.target):
            model = _with_transition(
                workflow, t, replace(t, target=other, to="", targets={}, written="")
            )
            if not _sound(model):
                continue
            yield Mutant(
                workflow.name,
                "redirect",
                other,
                f"{t.label} goes to '{other}' instead of '{t.target}'",
                t.location,
                model,
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
                action=action,
            )
    # the entry and exit actions of states, compound states included
    # (a region's leaf is kept as written in `unjoined`: the configurations hold none)
    written = workflow.unjoined.states.values() if workflow.unjoined is not None else ()
    regions = [s for s in written if s.name not in workflow.states]
    holders: list[State | Compound] = [
        *workflow.states.values(),
        *regions,
        *workflow.compounds.values(),
    ]
    for holder in holders:
        for when in ("entry", "exit"):
            actions: tuple[Action, ...] = getattr(holder, when)
            for action in actions:
                kept = tuple(a for a in actions if a is not action)
                changed = (
                    replace(holder, entry=kept) if when == "entry" else replace(holder, exit=kept)
                )
                if isinstance(changed, Compound):
                    model = replace(
                        workflow, compounds={**workflow.compounds, changed.name: changed}
                    )
                elif workflow.unjoined is not None and changed.name not in workflow.states:
                    model = replace(workflow, unjoined=_with_state(workflow.unjoined, changed))
                else:
                    model = _with_state(workflow, changed)
                yield Mutant(
                    workflow.name,
                    "drop_action",
                    action.target.text,
                    f"'{holder.name}' no longer does `{action.kind.value}` "
                    f"{action.target.text} on {when}",
                    action.location,
                    model,
                    state=holder.name,
                    action=action,
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
                action=action,
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
    """A payload field loses `secret: true`, so the engine keeps it in the history. The
    `never_stores` invariant that names it is set aside for the mutant (`Mutant.is_named_by`):
    a scenario has to notice the value shows (`nowhere:`, or `secrets:` read from the
    environment)."""
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
    """A waiting state's timeout leads to another state of the same kind, among those that
    keep the graph sound (`_sound`)."""
    for t in workflow.transitions:
        if not t.is_timeout:
            continue
        state = workflow.states[t.sources[0]]
        timeout = state.waiting.timeout if state.waiting else None
        if state.waiting is None or timeout is None:  # pragma: no cover - built with one
            continue
        for other in _same_kind(workflow, t.target):
            waiting = replace(state.waiting, timeout=replace(timeout, to=other))
            model = _with_transition(workflow, t, replace(t, target=other, to=""))
            model = _with_state(model, replace(state, waiting=waiting))
            if not _sound(model):  # as for redirect
                continue
            yield Mutant(
                workflow.name,
                "retarget_timeout",
                other,
                f"the timeout of '{state.name}' leads to '{other}' instead of '{timeout.to}'",
                timeout.location,
                model,
                transition=t,
                state=state.name,
            )


def widen_from(workflow: Workflow) -> Iterator[Mutant]:
    for t in _declared(workflow):
        if t.event.startswith(DONE_EVENT_PREFIX):
            continue  # raised in a done state only: from any other state it could never fire
        for name, state in workflow.states.items():
            # a done state is left at once by its compound state's done event (or, in a
            # parallel state, by a region's); a configuration that refuses the event in a
            # leaf's words never takes it (the loader checks leaves, not configurations, so the
            # mutant would not be rejected but never differ)
            if (
                state.is_final
                or state.done
                or name in t.sources
                or (PARALLEL_JOIN in name and t.event in state.refuses)
                or left_at_once(workflow, name)
            ):
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
