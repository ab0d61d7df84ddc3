"""Stage four of loading for parallel states: the regions' leaves joined into configurations.

A parallel state (`parallel: true`) has regions, each a compound state; all are active at once.
The runtime keeps one state per instance, so the loader joins the regions' leaves: every
combination of one leaf per region is one state of the workflow, named by its leaves in the
regions' document order joined by `+` (`onboarding.documents.collecting+onboarding.equipment.
ordered`). Every tool that reads one state (the store, explore, coverage, mutate) then works on
the configurations unchanged: the instance's `state` stays a string, and
`linkflow.language.model.active_leaves` splits it.

The rules, SCXML's and XState v5's for the subset linkflow supports:
- An event is offered to the regions in document order; a transition declared inside a region
  moves that region only (the others keep their leaves). One event may be taken in one region
  only (a problem otherwise: a step takes one transition).
- A transition declared on the parallel state or around it applies in every configuration and
  is tried after the regions' own; one that leaves the parallel state exits every region; one
  that enters it (or re-enters it) starts every region not named in its target in its `initial`.
- The parallel state is done when every region is in its `final: done` child: entering that
  configuration raises `done.state.<parallel path>`.

Not supported yet, each refused with a located problem: entry and exit actions on the parallel
state and in it, waits and `refuses` in a region, a parallel state in a region, a transition
that crosses from one region into another, a region's own done event.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from math import prod

from linkflow.language.model import (
    DONE_EVENT_PREFIX,
    PARALLEL_JOIN,
    Compound,
    State,
    Transition,
    contains,
)
from linkflow.language.workflow_checks import state_doc_path
from linkflow.source import DocPath

#: The most configurations a parallel state may have (the product of its regions' leaves):
#: each one is a state of the workflow for every tool.
MAX_CONFIGURATIONS = 256

Report = Callable[..., None]


class _Parallel:
    """One parallel state: its regions, their leaves and their initial leaves."""

    def __init__(self, compound: Compound, leaves: Sequence[Sequence[str]], starts: Sequence[str]):
        self.name = compound.name
        self.compound = compound
        self.regions = tuple(f"{compound.name}.{child}" for child in compound.children)
        self.leaves = tuple(tuple(r) for r in leaves)
        self.starts = tuple(starts)

    def region_of(self, leaf: str) -> int:
        return next((i for i, r in enumerate(self.regions) if contains(r, leaf)), -1)

    def configurations(self) -> list[str]:
        return [PARALLEL_JOIN.join(c) for c in itertools.product(*self.leaves)]

    def with_leaf(self, leaf: str, base: Sequence[str] | None = None) -> str:
        parts = list(base if base is not None else self.starts)
        parts[self.region_of(leaf)] = leaf
        return PARALLEL_JOIN.join(parts)


def flatten(
    problem: Report,
    compounds: Mapping[str, Compound],
    states: Mapping[str, State],
    transitions: Sequence[Transition],
    initial: str,
    leaf: Callable[[str], str | None],
) -> tuple[dict[str, State], list[Transition], str]:
    """The states, transitions and initial state with each parallel state's regions joined
    into configurations (unchanged when a problem stops that)."""
    found = _parallel_states(problem, compounds, states, leaf)
    if not found or not _supported(problem, found, compounds, states, transitions):
        return dict(states), list(transitions), initial
    owner = {name: p for p in found for region in p.leaves for name in region}
    out: dict[str, State] = {}
    for name, state in states.items():
        p = owner.get(name)
        if p is None:
            out[name] = state
        elif name == p.leaves[0][0]:
            for configuration in p.configurations():
                out[configuration] = _joined(configuration, p, states)

    def enter(target: str) -> str:
        p = owner.get(target)
        return p.with_leaf(target) if p is not None else target

    moved = [_lift(t, owner, out, enter) for t in transitions]
    return out, moved, enter(initial)


def _parallel_states(
    problem: Report,
    compounds: Mapping[str, Compound],
    states: Mapping[str, State],
    leaf: Callable[[str], str | None],
) -> list[_Parallel]:
    found = []
    for compound in compounds.values():
        if not compound.parallel:
            continue
        path = state_doc_path(compound.name)
        if len(compound.children) < 2:
            problem(
                (*path, "parallel"),
                f"parallel state '{compound.name}' needs two regions or more (it has "
                f"{len(compound.children)}): with one, make it a compound state with `initial`",
            )
            continue
        regions = [f"{compound.name}.{child}" for child in compound.children]
        flat = [r for r in regions if r not in compounds]
        for region in flat:
            problem(
                state_doc_path(region),
                f"region '{region}' of parallel state '{compound.name}' needs `states` and "
                "`initial`: each region is a compound state",
                key=True,
            )
        if flat:
            continue
        leaves = [[n for n in states if contains(r, n)] for r in regions]
        count = prod(len(r) for r in leaves)
        if count > MAX_CONFIGURATIONS:
            problem(
                (*path, "parallel"),
                f"parallel state '{compound.name}' has {count} configurations (one leaf per "
                f"region), more than the {MAX_CONFIGURATIONS} linkflow supports: split it",
            )
            continue
        starts = [leaf(r) or r for r in regions]
        found.append(_Parallel(compound, leaves, starts))
    return found


def _supported(
    problem: Report,
    found: Sequence[_Parallel],
    compounds: Mapping[str, Compound],
    states: Mapping[str, State],
    transitions: Sequence[Transition],
) -> bool:
    """Report what a parallel state cannot hold yet; whether nothing was reported."""
    before = _count(problem)
    for p in found:
        _state_problems(problem, p, compounds, states)
        for index, region in enumerate(p.regions):
            if not any(states[n].done for n in p.leaves[index]):
                done = [t for t in transitions if t.event == DONE_EVENT_PREFIX + p.name]
                if done:
                    problem(
                        (*_where(done[0]), "event"),
                        f"region '{region}' has no `final: done` child, so parallel state "
                        f"'{p.name}' is never done",
                    )
        _transition_problems(problem, p, transitions)
    return _count(problem) == before


def _state_problems(
    problem: Report, p: _Parallel, compounds: Mapping[str, Compound], states: Mapping[str, State]
) -> None:
    not_yet = "is not supported in a parallel state yet"
    for name, compound in compounds.items():
        if not contains(p.name, name):
            continue
        for key in ("entry", "exit"):
            if getattr(compound, key):
                problem((*state_doc_path(name), key), f"`{key}` {not_yet}", key=True)
        if compound.parallel and name != p.name:
            problem(
                (*state_doc_path(name), "parallel"),
                f"a parallel state inside parallel state '{p.name}' {not_yet}",
            )
    for leaves in p.leaves:
        for name in leaves:
            state = states[name]
            path = state_doc_path(name)
            for key, value in (
                ("entry", state.entry),
                ("exit", state.exit),
                ("waiting", state.waiting),
                ("refuses", state.refuses),
            ):
                if value:
                    problem((*path, key), f"`{key}` {not_yet}", key=True)


def _transition_problems(problem: Report, p: _Parallel, transitions: Sequence[Transition]) -> None:
    taken: dict[str, int] = {}
    for t in transitions:
        if t.event.startswith(DONE_EVENT_PREFIX) and t.event[len(DONE_EVENT_PREFIX) :] in (
            p.regions
        ):
            problem(
                (*_where(t), "event"),
                f"a region's done event ('{t.event}') is not supported yet: use "
                f"'{DONE_EVENT_PREFIX}{p.name}', raised when every region is done",
            )
            continue
        local = {p.region_of(s) for s in t.sources if _declared_inside(t, s, p)}
        if len(local) > 1:
            problem(
                (*_where(t), "from"),
                f"this transition leaves states in {len(local)} regions of parallel state "
                f"'{p.name}': declare one transition per region, or declare it on '{p.name}'",
            )
            continue
        if not local:
            continue
        region = local.pop()
        if contains(p.name, t.target) and p.region_of(t.target) != region:
            problem(
                (*_where(t), "to"),
                f"a transition inside region '{p.regions[region]}' cannot enter another region "
                f"of parallel state '{p.name}' (not supported yet)",
            )
        first = taken.setdefault(t.event, region)
        if first != region:
            problem(
                (*_where(t), "event"),
                f"event '{t.event}' is taken in regions '{p.regions[first]}' and "
                f"'{p.regions[region]}' of parallel state '{p.name}': one event moving "
                "several regions at once is not supported yet",
            )


def _declared_inside(t: Transition, source: str, p: _Parallel) -> bool:
    """Whether `t` is declared inside a region of `p` for `source` (not on `p` or around it)."""
    declared = t.declared_at(source)
    return bool(declared) and p.region_of(declared) >= 0 and contains(p.name, source)


def _lift(
    t: Transition,
    owner: Mapping[str, _Parallel],
    states: Mapping[str, State],
    enter: Callable[[str], str],
) -> Transition:
    """`t` with its sources and targets as configurations."""
    target = enter(t.target)
    sources: dict[str, str] = {}
    for source in t.sources:
        p = owner.get(source)
        if p is None:
            sources.setdefault(source, target)
            continue
        region = p.region_of(source)
        local = _declared_inside(t, source, p)
        for configuration in p.configurations():
            parts = configuration.split(PARALLEL_JOIN)
            if parts[region] != source:
                continue
            if t.event.startswith(DONE_EVENT_PREFIX) and not states[configuration].done:
                continue  # raised only where every region is done
            if local and contains(p.regions[region], t.target):
                sources.setdefault(configuration, p.with_leaf(t.target, parts))
            else:
                sources.setdefault(configuration, target)
    first = next(iter(sources.values()), target)
    # `declared` stays as written: `Transition.declared_at` finds a region's own source in a
    # configuration, so a leaf's transition is still tried before its region's, and both
    # before the parallel state's
    return replace(
        t,
        sources=tuple(sources),
        target=first,
        targets={s: v for s, v in sources.items() if v != first},
        written=t.label if tuple(sources) != t.sources or first != t.target else "",
    )


def _joined(configuration: str, p: _Parallel, states: Mapping[str, State]) -> State:
    """The state for one configuration: its leaves' words joined, done when all are."""
    parts = [states[leaf] for leaf in configuration.split(PARALLEL_JOIN)]

    def words(key: str, joint: str) -> str:
        return joint.join(text.strip() for s in parts if (text := getattr(s, key)))

    return State(
        name=configuration,
        location=p.compound.location,
        description=words("description", " "),  # sentences
        step=words("step", "; "),  # a step's words each
        rule=next((s.rule for s in parts if s.rule), ""),
        label=words("label", "; "),
        assumption=words("assumption", " "),
        done=all(s.done for s in parts),
    )


def _where(t: Transition) -> DocPath:
    return ("transitions", t.index) if not t.is_timeout else ("transitions",)


def _count(problem: Report) -> int:
    owner = getattr(problem, "__self__", None)
    return len(getattr(owner, "problems", ()))
