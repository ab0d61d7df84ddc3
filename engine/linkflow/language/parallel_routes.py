"""The steps of a parallel state's configurations, worked out from a loaded workflow (see
linkflow.language.parallel for the joining and the rules): one event taken in several regions
at once (`joint_routes`), the done events a configuration raises (`newly_done`,
`region_done_event`), and a history entry's transitions found again (`taken_between`). Each is
empty, and costs nothing, for a workflow without parallel states.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from linkflow.language.model import (
    DONE_EVENT_PREFIX,
    PARALLEL_JOIN,
    Compound,
    Transition,
    Workflow,
    active_leaves,
    contains,
    parent_of,
)
from linkflow.language.nesting import parallel_free_domain


def joint_routes(workflow: Workflow) -> dict[tuple[str, str], tuple[Transition, ...]]:
    """Per (configuration, event) that two regions or more may take: every transition the
    event may take there, in the order they are tried, with one joint transition per choice
    of one transition (or none) per region, as `Transition.parts`.

    Each region takes its first transition whose guards hold, so the choices are listed
    region by region in the order each region tries its own, "none" last: the first whose
    guards all hold is the combination SCXML takes. The transitions declared on the parallel
    state or around it come after them (a region's choice preempts them). A region holding
    a parallel state chooses the same way among that state's regions first (its joint
    transitions are the region's choices), then among what is declared on it or around it
    inside the region. Worked out when a workflow is compiled or explored, from `by_source`:
    a mutant's changed transitions are joined as they are. Empty for a workflow without
    parallel states, which pays nothing."""
    if workflow.unjoined is None:
        return {}
    out: dict[tuple[str, str], tuple[Transition, ...]] = {}
    number = itertools.count(len(workflow.transitions))
    for (state, event), candidates in workflow.by_source.items():
        if PARALLEL_JOIN not in state or len(candidates) < 2:
            continue
        options = _options(workflow, state, active_leaves(state), candidates, number)
        if options is not None:
            out[(state, event)] = options
    return out


def _scope(compounds: Mapping[str, Compound], leaves: Sequence[str]) -> tuple[str, ...]:
    """The regions of the parallel state `leaves` (two or more) are the active leaves of."""
    scope = parent_of(PARALLEL_JOIN.join(leaves))
    compound = compounds.get(scope)
    return tuple(f"{scope}.{c}" for c in compound.children) if compound is not None else ()


def region_taking(compounds: Mapping[str, Compound], t: Transition, state: str) -> int:
    """The index of the region of configuration `state` that declares `t`, or -1 when it is
    declared on the parallel state or around it."""
    declared = t.declared_at(state)
    regions = _scope(compounds, active_leaves(state))
    return next((i for i, r in enumerate(regions) if declared and contains(r, declared)), -1)


def _options(
    workflow: Workflow,
    state: str,
    leaves: Sequence[str],
    candidates: Sequence[Transition],
    number: Iterator[int],
) -> tuple[Transition, ...] | None:
    """The choices `leaves` (the active leaves of one parallel state in configuration
    `state`) make among `candidates`, joint ones first, in the order they are tried; None
    when no two regions, at any depth, have a choice."""
    regions = _scope(workflow.compounds, leaves)
    by_region: dict[int, list[Transition]] = {}
    outer: list[Transition] = []
    for t in candidates:
        declared = t.declared_at(state)
        region = next((i for i, r in enumerate(regions) if declared and contains(r, declared)), -1)
        (by_region.setdefault(region, []) if region >= 0 else outer).append(t)
    nested = False
    for region, choices in by_region.items():
        inside = [leaf for leaf in leaves if contains(regions[region], leaf)]
        if len(inside) > 1 and len(choices) > 1:
            found = _options(workflow, state, inside, choices, number)
            if found is not None:
                by_region[region] = list(found)
                nested = True
    if len(by_region) < 2:
        return (*next(iter(by_region.values())), *outer) if nested else None
    joint = _joint(workflow, state, regions, by_region, number)
    return (*joint, *outer)


def _stays_in_region(workflow: Workflow, t: Transition, state: str, region: str) -> bool:
    """Whether `t` from `state` moves region `region` only: its domain is inside that region
    (a transition into another region, or out, leaves the parallel state). A joint
    transition stays when every one of its parts does."""
    for part in t.parts or (t,):
        top = parallel_free_domain(
            workflow, part.declared_at(state) or state, part.to or part.target_from(state)
        )
        if not top or not contains(region, top):
            return False
    return True


def _joint(
    workflow: Workflow,
    state: str,
    regions: Sequence[str],
    by_region: Mapping[int, Sequence[Transition]],
    number: Iterator[int],
) -> list[Transition]:
    order = sorted(by_region)
    out: list[Transition] = []
    seen: set[int] = set()
    leaves = active_leaves(state)
    for combo in itertools.product(*([*by_region[r], None] for r in order)):
        chosen = [(r, t) for r, t in zip(order, combo, strict=True) if t is not None]
        if not chosen:
            continue
        first_region, first = chosen[0]
        if len(chosen) == 1 or not _stays_in_region(workflow, first, state, regions[first_region]):
            # alone, or leaving the parallel state first: the others' choices do not matter
            if id(first) not in seen:
                seen.add(id(first))
                out.append(first)
            continue
        # a later region's choice that leaves its region is preempted by the first one's;
        # its guards are still checked, as that region's choice
        kept = [(r, t) for r, t in chosen if _stays_in_region(workflow, t, state, regions[r])]
        moved = {r: active_leaves(t.target_from(state)) for r, t in kept}
        after: list[str] = []  # in document order: each region's leaves are written together
        for leaf in leaves:
            region = next((i for i, r in enumerate(regions) if contains(r, leaf)), -1)
            if region not in moved:
                after.append(leaf)  # a region that stays, or a leaf around the parallel state
            elif not any(contains(regions[region], x) for x in after):
                after.extend(x for x in moved[region] if contains(regions[region], x))
        out.append(
            replace(
                first,
                sources=(state,),
                target=PARALLEL_JOIN.join(after),
                targets={},
                guards=tuple(u for _, t in chosen for u in t.guards),
                owners=tuple(
                    o for _, t in chosen for o in (t.owners or (t.index,) * len(t.guards))
                ),
                actions=tuple(a for _, t in kept for a in t.actions),
                description=" ".join(t.description for _, t in kept if t.description),
                index=next(number),
                check_all_guards=False,
                parts=tuple(part for _, t in kept for part in (t.parts or (t,))),
                declared=(),
                to="",
                written="; ".join(t.label for _, t in kept),
            )
        )
    return out


def _done_events(
    workflow: Workflow, state: str, before: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """The done events configuration `state` raises, in document order: each region in its
    `final: done` child (not already in `before`) raises `done.state.<region>`, and a
    parallel state inside a region whose regions are all done raises its own after its last
    region's. The outermost parallel state's own is not among them: its configuration is
    `done` (see `CompiledWorkflow._done`)."""
    written = workflow.unjoined.states if workflow.unjoined is not None else workflow.states
    leaves = active_leaves(state)
    top = parent_of(state)
    newly = [leaf for leaf in leaves if leaf not in before and written[leaf].done]
    out: list[str] = []
    for index, leaf in enumerate(newly):
        region = parent_of(leaf)
        out.append(DONE_EVENT_PREFIX + region)
        around = parent_of(region)
        compound = workflow.compounds.get(around)
        if (
            compound is None
            or not compound.parallel
            or around == top
            or any(contains(around, later) for later in newly[index + 1 :])
        ):
            continue
        ends = {parent_of(x) for x in leaves if written[x].done and contains(around, x)}
        if all(f"{around}.{child}" in ends for child in compound.children):
            out.append(DONE_EVENT_PREFIX + around)
    return tuple(out)


def newly_done(
    workflow: Workflow, routes: Mapping[tuple[str, str], Sequence[tuple[Transition, object]]]
) -> dict[tuple[str, str], tuple[str, ...]]:
    """Per (state, configuration entered) of the transitions in `routes`: the
    `done.state.<region>` events raised by the regions whose `final: done` child the move
    enters, in document order (a region already done raises nothing again), and those of the
    parallel states inside regions that the move finishes. Empty for a workflow without
    parallel states."""
    if workflow.unjoined is None:
        return {}
    out: dict[tuple[str, str], tuple[str, ...]] = {}
    for (source, _), candidates in routes.items():
        before = frozenset(active_leaves(source))
        for transition, _change in candidates:
            target = transition.target_from(source)
            if PARALLEL_JOIN not in target or (source, target) in out:
                continue
            out[(source, target)] = _done_events(workflow, target, before)
    return {key: raised for key, raised in out.items() if raised}


def region_done_event(workflow: Workflow, state: str) -> str:
    """The done event that leaves configuration `state` at once, or "": a region is in its
    `final: done` child (or a parallel state inside a region is done) and a transition
    without guards takes that done event there (the first such in document order). Explore
    and mutate treat such a configuration as passed through, never rested in."""
    if workflow.unjoined is None or PARALLEL_JOIN not in state:
        return ""
    for event in _done_events(workflow, state):
        taken = workflow.by_source.get((state, event), ())
        if taken and not any(t.guards for t in taken):
            return event
    return ""


def left_at_once(workflow: Workflow, state: str) -> bool:
    """Whether configuration `state` is left in the step that enters it (`region_done_event`)."""
    return bool(region_done_event(workflow, state))


def taken_between(
    workflow: Workflow, source: str, event: str, target: str
) -> tuple[Transition, ...]:
    """The declared transitions a history entry (`event` from `source` into `target`) took,
    found again (history keeps no transition): the first whose target from `source` is
    `target`, or, for one event taken in several regions at once, each region's. Empty when
    none matches (a done event taken in the same step moved the instance on)."""
    for transition in workflow.by_source.get((source, event), ()):
        if transition.target_from(source) == target:
            return (transition,)
    if PARALLEL_JOIN in source:
        for transition in joint_routes(workflow).get((source, event), ()):
            if transition.parts and transition.target == target:
                return transition.parts
    return ()
