"""The entry and exit actions a transition runs when it leaves and enters nested states.

The runtime flattens compound states to their leaves (the instance's state is a leaf's path,
`parent.child`): each transition is compiled per source leaf, and what it exits and enters is
worked out here, once. The rule is SCXML's and XState v5's default (`reenter: false`): the
transition's domain is the state it is declared on when the target is inside that state (the
state is not left), else the innermost state holding both the source and the target. Every
state from the active leaf up to the domain is exited, innermost first; every state from the
domain down to the target leaf is entered, outermost first. A transition to its own leaf exits
and re-enters it. `*` counts as declared on the leaf itself.

The exit actions, the transition's own actions and the entry actions run in that order as one
all-or-nothing step: as for any transition, every value is worked out against the state before
the step, then everything is written.
"""

from __future__ import annotations

from dataclasses import replace

from linkflow.language.model import (
    Action,
    Transition,
    Workflow,
    ancestors_of,
    contains,
)

#: The most `done.state.<path>` events one step may take in a row (each finishes a compound
#: state around the last, so a workflow nested this deep would need more).
MAX_DONE_CHAIN = 32


def domain(workflow: Workflow, transition: Transition, leaf: str) -> str:
    """The state a transition from `leaf` stays inside ("" for the top level)."""
    source = transition.declared_at(leaf) or leaf
    target = transition.to or transition.target_from(leaf)
    if source in workflow.compounds and target != source and contains(source, target):
        return source
    return next((a for a in ancestors_of(source) if a != target and contains(a, target)), "")


def path_between(outer: str, leaf: str) -> tuple[str, ...]:
    """The states from `leaf` up to, not including, `outer`, innermost first."""
    return tuple(s for s in (leaf, *ancestors_of(leaf)) if s != outer and contains(outer, s))


def exits_and_entries(
    workflow: Workflow, transition: Transition, leaf: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The states a transition from `leaf` exits (innermost first) and enters (outermost
    first)."""
    top = domain(workflow, transition, leaf)
    return path_between(top, leaf), tuple(reversed(path_between(top, transition.target_from(leaf))))


def _actions_of(workflow: Workflow, name: str, kind: str) -> tuple[Action, ...]:
    holder = workflow.states.get(name) or workflow.compounds.get(name)
    if holder is None:
        return ()
    found: tuple[Action, ...] = getattr(holder, kind)
    return found


def with_entry_exit(workflow: Workflow, transition: Transition, leaf: str) -> Transition:
    """`transition` taken from `leaf` with the exit and entry actions of the states it leaves
    and enters joined to its own (the transition itself when there are none)."""
    if not workflow.compounds and not any(s.entry or s.exit for s in workflow.states.values()):
        return transition
    exits, entries = exits_and_entries(workflow, transition, leaf)
    before = tuple(a for name in exits for a in _actions_of(workflow, name, "exit"))
    after = tuple(a for name in entries for a in _actions_of(workflow, name, "entry"))
    if not before and not after:
        return transition
    return replace(transition, actions=(*before, *transition.actions, *after))
