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

In a parallel state the instance's state is a configuration (leaves joined by `+`, see
linkflow.language.parallel): the states exited are then every active state inside the domain,
in reverse document order (a later region's before an earlier one's, each innermost first),
and the states entered every state of the new configuration inside the domain, in document
order. A domain is never a parallel state itself (SCXML's rule): a transition from one region
into another leaves the parallel state. One event taken in several regions at once exits the
states all of them leave, runs their actions in document order, then enters the states all of
them enter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from linkflow.language.model import (
    PARALLEL_JOIN,
    Action,
    Compound,
    State,
    Transition,
    Workflow,
    active_leaves,
    ancestors_of,
    contains,
    parent_of,
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
    if transition.parts or PARALLEL_JOIN in leaf or PARALLEL_JOIN in transition.target_from(leaf):
        return _configuration_exits_and_entries(workflow, transition, leaf)
    top = domain(workflow, transition, leaf)
    return path_between(top, leaf), tuple(reversed(path_between(top, transition.target_from(leaf))))


def _configuration_exits_and_entries(
    workflow: Workflow, transition: Transition, state: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`exits_and_entries` where `state` or the target is a parallel state's configuration,
    or for a joint transition (its parts' exits and entries, together)."""
    after = transition.target_from(state)
    before_active, after_active = _active(state), _active(after)
    exits: set[str] = set()
    entries: set[str] = set()
    for part in transition.parts or (transition,):
        source = part.declared_at(state) or state
        target = part.to or part.target_from(state)
        top = parallel_free_domain(workflow, source, target)
        exits |= {s for s in before_active if s != top and contains(top, s)}
        entries |= {s for s in after_active if s != top and contains(top, s)}
    order = _document_order(workflow)
    return (
        tuple(sorted(exits, key=order, reverse=True)),
        tuple(sorted(entries, key=order)),
    )


def _active(state: str) -> set[str]:
    """Every state active in `state`: its leaves and every state around them."""
    return {s for leaf in active_leaves(state) for s in (leaf, *ancestors_of(leaf))}


def parallel_free_domain(workflow: Workflow, source: str, target: str) -> str:
    """The domain of a transition from `source` (as written) to `target` (see `domain`),
    never a parallel state: the innermost compound state, not parallel, holding both, or the
    compound source itself when it holds the target. A region's transition to the region
    itself restarts that region only (the loader keeps the other regions' leaves for it): its
    domain is the region."""
    compound = workflow.compounds.get(source)
    region = (
        parent_of(source) in workflow.compounds and workflow.compounds[parent_of(source)].parallel
    )
    if (
        compound is not None
        and not compound.parallel
        and (target != source or region)
        and contains(source, target)
    ):
        return source
    for outer in ancestors_of(source):
        found = workflow.compounds.get(outer)
        if outer != target and contains(outer, target) and not (found and found.parallel):
            return outer
    return ""


def _document_order(workflow: Workflow) -> Callable[[str], tuple[int, int]]:
    """A sort key: where a state (leaf or compound) is written in the file."""
    written = workflow.unjoined or workflow

    def where(name: str) -> tuple[int, int]:
        holder: State | Compound | None = written.states.get(name) or workflow.compounds.get(name)
        location = holder.location if holder is not None else None
        return (location.line, location.column) if location is not None else (0, 0)

    return where


def _actions_of(workflow: Workflow, name: str, kind: str) -> tuple[Action, ...]:
    written = workflow.unjoined or workflow  # a region's leaf, not a configuration
    holder = written.states.get(name) or workflow.compounds.get(name)
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
    if not before and not after and not transition.parts:
        return transition
    # a joint transition is always a step of its own: it is no transition as declared
    return replace(transition, actions=(*before, *transition.actions, *after))
