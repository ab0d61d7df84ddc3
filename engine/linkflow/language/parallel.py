"""Stage four of loading for parallel states: the regions' leaves joined into configurations.

A parallel state (`parallel: true`) has regions, each a compound state; all are active at once.
The runtime keeps one state per instance, so the loader joins the regions' leaves: every
combination of one leaf per region is one state of the workflow, named by its leaves in the
regions' document order joined by `+` (`onboarding.documents.collecting+onboarding.equipment.
ordered`). Every tool that reads one state (the store, explore, coverage, mutate) then works on
the configurations unchanged: the instance's `state` stays a string, and
`linkflow.language.model.active_leaves` splits it.

The rules, SCXML's and XState v5's for the subset linkflow supports:
- An event is offered to every region; a transition declared inside a region moves that region
  only (the others keep their leaves). Each region takes its first transition whose guards
  hold (its leaf's own first, then its compound states' outwards); when several regions take
  the event, the step takes them all at once (`joint_routes`): every guard is checked against
  the data before the step, then the exits of all, their actions in document order, the
  entries of all. A region transition that leaves its region (and so the parallel state) is
  taken alone when it is the first region's choice, and preempted otherwise (SCXML's conflict
  rule: the earlier region in document order wins).
- A transition from one region into another leaves the parallel state and enters it again
  (SCXML's rule: a transition's domain is never a parallel state): the target's region starts
  in the target, every other region in its `initial`.
- A transition declared on the parallel state or around it applies in every configuration and
  is tried after the regions' own; one that leaves the parallel state exits every region; one
  that enters it (or re-enters it) starts every region not named in its target in its `initial`.
- A region is done when it is in its `final: done` child: entering it raises
  `done.state.<region path>`. The parallel state is done when every region is: entering that
  configuration raises `done.state.<parallel path>` after the regions' own.
- Entry and exit actions of the regions and their states run as for any nested state (see
  linkflow.language.nesting): exits in reverse document order, entries in document order.

- A leaf's `waiting` (without a timeout) and `refuses` hold in every configuration it is in:
  the configuration waits for what its leaves wait for; a leaf's `refuses` explains an event
  no region takes there (another region may still take it).

- A parallel state may sit inside a region (at any depth). It is joined first: its
  configurations are the states of the region holding it, so the outer configuration lists
  every active leaf, at every depth, in document order. The rules hold at every level: a
  region holding a parallel state chooses among that state's regions first (their joint
  transitions are its choices), then among what is declared on it or around it inside the
  region; a transition between its regions leaves and re-enters it only; it is done (and
  raises its own done event after its last region's) when its regions are, while the region
  holding it is done only in its own `final: done` child. `MAX_CONFIGURATIONS` counts every
  depth.

Not supported yet, refused with a located problem: a timeout in a region (it would count
from its leaf's entry, but an instance keeps one entry time, which any region's step
restarts).
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
    Waiting,
    ancestors_of,
    contains,
    parent_of,
)
from linkflow.language.parallel_routes import region_taking
from linkflow.language.workflow_checks import state_doc_path
from linkflow.source import DocPath

#: The most configurations a parallel state may have (the product of its regions' leaves):
#: each one is a state of the workflow for every tool.
MAX_CONFIGURATIONS = 256

Report = Callable[..., None]


class _Parallel:
    """One parallel state: its regions, their leaves as written and, once the parallel states
    inside it are joined, their elements (a leaf, or a configuration of a parallel state
    inside the region) and the element each region starts in."""

    def __init__(self, compound: Compound, leaves: Sequence[Sequence[str]]):
        self.name = compound.name
        self.compound = compound
        self.regions = tuple(f"{compound.name}.{child}" for child in compound.children)
        self.leaves = tuple(tuple(r) for r in leaves)
        self.elements: tuple[tuple[str, ...], ...] = ()
        self.starts: tuple[str, ...] = ()

    def region_of(self, leaf: str) -> int:
        return next((i for i, r in enumerate(self.regions) if contains(r, leaf)), -1)

    def combinations(self) -> list[tuple[str, ...]]:
        """Every configuration as one element per region."""
        return list(itertools.product(*self.elements))

    def with_leaf(self, element: str, base: Sequence[str] | None = None) -> str:
        parts = list(base if base is not None else self.starts)
        parts[self.region_of(element)] = element
        return PARALLEL_JOIN.join(parts)

    def region_done(self, index: int, element: str, states: Mapping[str, State]) -> bool:
        """Whether region `index` is done with `element` active in it: the element is the
        region's own `final: done` child (a parallel state inside it is never its end)."""
        return (
            PARALLEL_JOIN not in element
            and states[element].done
            and parent_of(element) == self.regions[index]
        )


def flatten(
    problem: Report,
    compounds: Mapping[str, Compound],
    states: Mapping[str, State],
    transitions: Sequence[Transition],
    initial: str,
    leaf: Callable[[str], str | None],
) -> tuple[dict[str, State], list[Transition], str]:
    """The states, transitions and initial state with each parallel state's regions joined
    into configurations (unchanged when a problem stops that).

    A parallel state inside a region is joined first (innermost first): its configurations
    are then the elements of the region holding it, so a configuration of the outer one
    lists every active leaf, at every depth, in document order."""
    found = _parallel_states(problem, compounds, states, leaf)
    if not found or not _supported(problem, found, compounds, states, transitions):
        return dict(states), list(transitions), initial
    now: dict[str, State] = dict(states)
    moved = list(transitions)
    entered: list[Callable[[str], str]] = []

    def enter_all(target: str) -> str:
        for enter in entered:
            target = enter(target)
        return target

    for p in sorted(found, key=lambda p: -p.name.count(".")):
        p.elements = tuple(tuple(n for n in now if contains(r, n)) for r in p.regions)
        p.starts = tuple(enter_all(leaf(r) or r) for r in p.regions)
        owner = frozenset(name for region in p.elements for name in region)
        combinations = p.combinations()
        out: dict[str, State] = {}
        for name, state in now.items():
            if name not in owner:
                out[name] = state
            elif name == p.elements[0][0]:
                for parts in combinations:
                    out[PARALLEL_JOIN.join(parts)] = _joined(parts, p, now)

        def enter(target: str, p: _Parallel = p, owner: frozenset[str] = owner) -> str:
            return p.with_leaf(target) if target in owner else target

        moved = [_lift(t, p, owner, combinations, out, now, enter) for t in moved]
        entered.append(enter)
        now = out
    return _explained(now, moved, compounds), moved, enter_all(initial)


def _configurations(name: str, compounds: Mapping[str, Compound]) -> int:
    """How many configurations the state at `name` may be in: a leaf one, a compound state
    the sum of its children's, a parallel state the product of its regions'."""
    compound = compounds.get(name)
    if compound is None:
        return 1
    counts = [_configurations(f"{name}.{child}", compounds) for child in compound.children]
    return prod(counts) if compound.parallel else sum(counts)


def _parallel_states(
    problem: Report,
    compounds: Mapping[str, Compound],
    states: Mapping[str, State],
    leaf: Callable[[str], str | None],
) -> list[_Parallel]:
    found = []
    too_many = {
        c.name
        for c in compounds.values()
        if c.parallel and _configurations(c.name, compounds) > MAX_CONFIGURATIONS
    }
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
        if compound.name in too_many:
            # reported on the innermost parallel state that has too many (the ones around it
            # have more still)
            if not any(n != compound.name and contains(compound.name, n) for n in too_many):
                count = _configurations(compound.name, compounds)
                problem(
                    (*path, "parallel"),
                    f"parallel state '{compound.name}' has {count} configurations (one leaf "
                    f"per region), more than the {MAX_CONFIGURATIONS} "
                    "linkflow supports: split it",
                )
            continue
        leaves = [[n for n in states if contains(r, n)] for r in regions]
        found.append(_Parallel(compound, leaves))
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
            if not any(states[n].done and parent_of(n) == region for n in p.leaves[index]):
                for done in [t for t in transitions if t.event == DONE_EVENT_PREFIX + p.name][:1]:
                    problem(
                        (*_where(done), "event"),
                        f"region '{region}' has no `final: done` child, so parallel state "
                        f"'{p.name}' is never done",
                    )
                for done in [t for t in transitions if t.event == DONE_EVENT_PREFIX + region][:1]:
                    problem(
                        (*_where(done), "event"),
                        f"region '{region}' has no `final: done` child, so it is never done",
                    )
        _transition_problems(problem, p, transitions)
    return _count(problem) == before


def _innermost_parallel(name: str, compounds: Mapping[str, Compound]) -> str:
    return next((a for a in ancestors_of(name) if a in compounds and compounds[a].parallel), "")


def _state_problems(
    problem: Report, p: _Parallel, compounds: Mapping[str, Compound], states: Mapping[str, State]
) -> None:
    not_yet = "is not supported in a parallel state yet"
    for leaves in p.leaves:
        for name in leaves:
            state = states[name]
            if _innermost_parallel(name, compounds) != p.name:
                continue  # reported for the parallel state nearest to it
            if state.waiting is not None and state.waiting.timeout is not None:
                problem(
                    (*state_doc_path(name), "waiting", "timeout"),
                    f"a timeout {not_yet}: it would count from when '{name}' was entered, "
                    "and an instance keeps one time, its last step's, which any region's "
                    "step restarts",
                    key=True,
                )


def _transition_problems(problem: Report, p: _Parallel, transitions: Sequence[Transition]) -> None:
    for t in transitions:
        local = {p.region_of(s) for s in t.sources if _declared_inside(t, s, p)}
        if len(local) > 1:
            problem(
                (*_where(t), "from"),
                f"this transition leaves states in {len(local)} regions of parallel state "
                f"'{p.name}': declare one transition per region, or declare it on '{p.name}'",
            )


def _declared_inside(t: Transition, source: str, p: _Parallel) -> bool:
    """Whether `t` is declared inside a region of `p` for `source` (not on `p` or around it)."""
    declared = t.declared_at(source)
    return bool(declared) and p.region_of(declared) >= 0 and contains(p.name, source)


def _lift(
    t: Transition,
    p: _Parallel,
    owner: frozenset[str],
    combinations: Sequence[tuple[str, ...]],
    states: Mapping[str, State],
    elements: Mapping[str, State],
    enter: Callable[[str], str],
) -> Transition:
    """`t` with its sources and targets as configurations of `p` (`states`: the joined ones,
    `elements`: the regions' leaves, or configurations of the parallel states inside them)."""
    raised_by = t.event[len(DONE_EVENT_PREFIX) :] if t.event.startswith(DONE_EVENT_PREFIX) else ""
    sources: dict[str, str] = {}
    for source in t.sources:
        goes_to = t.target_from(source)
        if source not in owner:
            sources.setdefault(source, enter(goes_to))
            continue
        region = p.region_of(source)
        local = _declared_inside(t, source, p)
        for parts in combinations:
            if parts[region] != source:
                continue
            configuration = PARALLEL_JOIN.join(parts)
            if raised_by == p.name and not states[configuration].done:
                continue  # raised only where every region is done
            if raised_by in p.regions:
                done = p.regions.index(raised_by)
                if not p.region_done(done, parts[done], elements):
                    continue  # raised only where that region is done
            if local and contains(p.regions[region], goes_to):
                sources.setdefault(configuration, p.with_leaf(goes_to, parts))
            else:
                sources.setdefault(configuration, enter(goes_to))
    target = enter(t.target)
    first = next(iter(sources.values()), target)
    # `declared` stays as written: `Transition.declared_at` finds a region's own source in a
    # configuration, so a leaf's transition is still tried before its region's, and both
    # before the parallel state's
    lifted = tuple(sources) != t.sources or first != t.target
    return replace(
        t,
        sources=tuple(sources),
        target=first,
        targets={s: v for s, v in sources.items() if v != first},
        written=t.written or (t.label if lifted else ""),
        # as written, so that `declared_at` finds the region a configuration takes it in and
        # the nesting rules see the states it leaves and enters
        declared=t.declared or (t.sources if lifted else ()),
        to=t.to or (t.target if lifted else ""),
    )


def _explained(
    states: dict[str, State], transitions: Sequence[Transition], compounds: Mapping[str, Compound]
) -> dict[str, State]:
    """`states` with each configuration's `refuses` kept only for the events no region takes
    there: a leaf's refusal speaks for its own region (and what is declared around it), while
    another region may still take the event; when none does, the leaf's words explain why."""
    taken = {
        (source, t.event)
        for t in transitions
        for source in t.sources
        if PARALLEL_JOIN in source and region_taking(compounds, t, source) >= 0
    }
    return {
        name: replace(
            state, refuses={e: why for e, why in state.refuses.items() if (name, e) not in taken}
        )
        if state.refuses and PARALLEL_JOIN in name
        else state
        for name, state in states.items()
    }


def _joined(parts: Sequence[str], p: _Parallel, states: Mapping[str, State]) -> State:
    """The state for one configuration (one element per region): its elements' words
    joined, done when every region is; what the leaves wait for (none with a timeout), and
    the events they refuse (a region's words first when two refuse the same event)."""
    elements = [states[element] for element in parts]
    waits = [s.waiting for s in elements if s.waiting is not None]
    refuses: dict[str, tuple[str, str]] = {}
    for s in elements:
        for event, why in s.refuses.items():
            refuses.setdefault(event, why)

    def words(key: str, joint: str) -> str:
        return joint.join(text.strip() for s in elements if (text := getattr(s, key)))

    return State(
        name=PARALLEL_JOIN.join(parts),
        location=p.compound.location,
        description=words("description", " "),  # sentences
        step=words("step", "; "),  # a step's words each
        rule=next((s.rule for s in elements if s.rule), ""),
        label=words("label", "; "),
        assumption=words("assumption", " "),
        done=all(p.region_done(i, element, states) for i, element in enumerate(parts)),
        waiting=Waiting(" and ".join(w.awaits for w in waits), None, all(w.by_actor for w in waits))
        if waits
        else None,
        refuses=refuses,
    )


def _where(t: Transition) -> DocPath:
    return ("transitions", t.index) if not t.is_timeout else ("transitions",)


def _count(problem: Report) -> int:
    owner = getattr(problem, "__self__", None)
    return len(getattr(owner, "problems", ()))
