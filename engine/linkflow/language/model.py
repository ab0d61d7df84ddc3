"""Frozen definitions of a workflow: what the loader builds and the runtime only reads.

The compiled expressions hang off these objects, so a workflow is compiled exactly once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from linkflow.language.effect_specs import EffectSpec
from linkflow.language.expressions import Expression, Template
from linkflow.language.services import Service
from linkflow.source import SourceLocation


def content_hash(text: str) -> str:
    """The sha256 (hex) of a workflow's text: the key the store keeps that version under."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Outcome(StrEnum):
    """How a final state ends the workflow."""

    COMPLETED = "completed"
    CANCELLED = "cancelled"
    #: A step was blocked (a guard refused it) and the flow cannot go on.
    REFUSED = "refused"
    #: Someone asked to agree said no; nothing was blocked.
    DECLINED = "declined"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True, slots=True)
class Timeout:
    seconds: float
    to: str
    description: str
    location: SourceLocation
    #: What the source does not say and the workflow assumes ("" when the source says it).
    assumption: str = ""


@dataclass(frozen=True, slots=True)
class Waiting:
    """A state where the flow waits for an answer it cannot give itself."""

    awaits: str
    timeout: Timeout | None
    #: The person of the flow answers (in a window the flow opened), not someone else.
    by_actor: bool = False


@dataclass(frozen=True, slots=True)
class State:
    name: str
    location: SourceLocation
    description: str = ""
    step: str = ""
    rule: str = ""
    final: Outcome | None = None
    waiting: Waiting | None = None
    #: The workflow that takes over when this final state is reached.
    handoff: str = ""
    #: A few words for the reader diagram ("" means: use the step).
    label: str = ""
    assumption: str = ""
    #: Events this state does not take, each with the explanation a person gets: (message, rule).
    refuses: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: Actions run when the state is entered and when it is left (see `Compound`).
    entry: tuple[Action, ...] = ()
    exit: tuple[Action, ...] = ()
    #: `final: done`: the child that finishes its compound state (raises `done.state.<parent>`).
    done: bool = False

    @property
    def is_final(self) -> bool:
        return self.final is not None

    @property
    def parent(self) -> str:
        """The compound state this state is in ("" at the top level)."""
        return parent_of(self.name)


#: The event a compound state raises when its `final: done` child is entered.
DONE_EVENT_PREFIX = "done.state."


#: Joins the active leaves of a parallel state's regions, in document order, into the one name
#: of the instance's state (`p.a.x+p.b.y`): every tool that reads one state keeps working.
PARALLEL_JOIN = "+"


def parent_of(path: str) -> str:
    """The path of the state that holds the state at `path` ("" at the top level); for the
    leaves of a parallel state's regions joined by `+`, the parallel state."""
    if PARALLEL_JOIN in path:
        parts = [leaf.split(".") for leaf in path.split(PARALLEL_JOIN)]
        common: list[str] = []
        for segments in zip(*parts, strict=False):
            if len(set(segments)) > 1:
                break
            common.append(segments[0])
        return ".".join(common)
    return path.rpartition(".")[0]


def active_leaves(state: str) -> tuple[str, ...]:
    """The leaves an instance in `state` is in: one, or one per region of a parallel state."""
    return tuple(state.split(PARALLEL_JOIN))


def is_active(state: str, name: str) -> bool:
    """Whether the state at path `name` (a leaf or a state around one) is active in `state`."""
    return state == name or any(contains(name, leaf) for leaf in active_leaves(state))


def ancestors_of(path: str) -> tuple[str, ...]:
    """The compound states that hold the state at `path`, innermost first."""
    out = []
    while path := parent_of(path):
        out.append(path)
    return tuple(out)


def contains(outer: str, path: str) -> bool:
    """Whether the state at `path` is `outer` or nested in it ("" holds everything); leaves
    joined by `+` are in `outer` when every one of them is."""
    if PARALLEL_JOIN in path and outer and path != outer:
        return all(contains(outer, leaf) for leaf in path.split(PARALLEL_JOIN))
    return not outer or path == outer or path.startswith(outer + ".")


@dataclass(frozen=True, slots=True)
class Compound:
    """A state that holds child states. It is never the instance's state itself: entering it
    enters its `initial` child (recursively), and the instance's state is the active leaf's
    path (`parent.child`). Its `entry` actions run after those of the states around it, its
    `exit` actions after those of the states in it."""

    name: str
    location: SourceLocation
    initial: str
    children: tuple[str, ...]
    description: str = ""
    step: str = ""
    label: str = ""
    rule: str = ""
    assumption: str = ""
    entry: tuple[Action, ...] = ()
    exit: tuple[Action, ...] = ()
    #: `parallel: true`: the children are regions, all active at once (see
    #: linkflow.language.parallel); `initial` is then the first region.
    parallel: bool = False


@dataclass(frozen=True, slots=True)
class Binding:
    """A named lookup of world records by key, so guards never see the whole world."""

    name: str
    collection: str
    key: Expression
    many: bool
    description: str
    location: SourceLocation


@dataclass(frozen=True, slots=True)
class Choices:
    """What a person is offered for one payload field, worked out from the world before sending.

    `values` gives a list of values, or of `{value, label}` maps. With `records` (a collection),
    each value is a record id and `label` may read that record as `record`. A value sent
    outside the list is refused with `rule`.
    """

    event: str
    field: str
    values: Expression
    label: Expression | None
    records: str
    rule: str
    description: str
    ignore_case: bool
    location: SourceLocation
    #: The refusal for a value outside the list; it sees `value`, `offered` (the labels) and
    #: `options` (each label with the id to send, as "Label (id 'x')").
    message: Template | None = None


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    description: str
    payload_schema: Mapping[str, Any] | None
    secret_fields: frozenset[str]
    location: SourceLocation
    #: The payload fields whose values are picked from a list, by field name.
    choices: Mapping[str, Choices] = field(default_factory=dict)
    #: The words a person sees for it (a button), and what they do, in their words.
    label: str = ""
    step: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        """The payload fields it takes, sorted; a field declared only so that sending it is
        refused (schema `false` or `not: {}`) is no input and is left out."""
        props = (self.payload_schema or {}).get("properties", {})
        return tuple(
            sorted(
                name
                for name, spec in props.items()
                if spec is not False and not (isinstance(spec, dict) and spec.get("not") == {})
            )
        )


@dataclass(frozen=True, slots=True)
class Guard:
    name: str
    when: Expression
    message: Template
    message_when_true: Template | None
    rule: str
    description: str
    location: SourceLocation
    assumption: str = ""


@dataclass(frozen=True, slots=True)
class GuardUse:
    """A guard as a transition lists it: possibly negated (`!name`)."""

    guard: Guard
    negated: bool
    #: Where the transition lists it (so a report can point at `!name` itself).
    location: SourceLocation | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return f"!{self.guard.name}" if self.negated else self.guard.name


class ActionKind(StrEnum):
    SET = "set"
    APPEND = "append"
    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class PathStep:
    """One step of an action's target path: a fixed field name or a computed key."""

    name: str | None = None
    key: Expression | None = None

    def __str__(self) -> str:
        return (
            f".{self.name}" if self.name is not None else f"[{self.key.source if self.key else ''}]"
        )


@dataclass(frozen=True, slots=True)
class TargetPath:
    """Where an action writes: a root (data, world or a binding) and the steps below it."""

    root: str
    steps: tuple[PathStep, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    target: TargetPath
    value: Expression | None
    each: bool
    for_item: str | None
    for_in: Expression | None
    location: SourceLocation


@dataclass(frozen=True, slots=True)
class Transition:
    event: str
    sources: tuple[str, ...]
    target: str
    guards: tuple[GuardUse, ...]
    actions: tuple[Action, ...]
    description: str
    rule: str
    location: SourceLocation
    index: int
    #: True for the transition a waiting state's timeout creates.
    is_timeout: bool = False
    assumption: str = ""
    #: What the person does to take it, in their words ("" means: the event's step).
    step: str = ""
    #: When refused, check every guard and report each one that fails, not only the first.
    check_all_guards: bool = False
    #: The sources as written ("" for `*`), when a source is a compound state standing for the
    #: states in it (empty: `sources` as written); `target` is always a leaf, `to` as written.
    declared: tuple[str, ...] = ()
    to: str = ""
    #: The target from a source when it is not `target`: a transition inside one region of a
    #: parallel state keeps the other regions' leaves, so its target depends on the source.
    targets: Mapping[str, str] = field(default_factory=dict)

    def target_from(self, source: str) -> str:
        """The state this transition enters when taken from `source`."""
        return self.targets.get(source, self.target) if self.targets else self.target

    def declared_at(self, leaf: str) -> str:
        """The source as written that takes `leaf` in: `leaf` itself, a compound state around
        it, or "" (`*`). Deeper ones are tried first: a child's own transition wins."""
        if not self.declared:
            return leaf
        # in a parallel state, `leaf` is the regions' leaves joined: a source written on a
        # region (or inside one) takes in the configurations where that region is active
        parts = leaf.split(PARALLEL_JOIN)
        return max(
            (d for d in self.declared if any(contains(d, part) for part in parts)),
            key=len,
            default=leaf,
        )

    #: Its label as written, for a transition whose sources and targets are a parallel
    #: state's configurations ("" otherwise): `go: p.a.x -> p.a.y`, not every combination.
    written: str = ""
    #: For one event taken in several regions of a parallel state at once: the region
    #: transitions it joins, in document order (see linkflow.language.parallel_routes.joint_routes),
    #: and for each of its guards the index of the transition that lists it. Empty for a
    #: transition as declared.
    parts: tuple[Transition, ...] = ()
    owners: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        if self.written:
            return self.written
        return f"{self.event}: {', '.join(self.sources)} -> {self.target}"


class InvariantKind(StrEnum):
    """The kinds of invariant a workflow can declare (see linkflow.language.invariants)."""

    REQUIRES = "requires"
    NEVER_STORES = "never_stores"
    NO_WRITES_ON = "no_writes_on"
    IDEMPOTENT = "idempotent"


@dataclass(frozen=True, slots=True)
class Invariant:
    """A safety property checked on every path from the initial state, across handoffs."""

    name: str
    kind: InvariantKind
    location: SourceLocation
    description: str = ""
    rule: str = ""
    #: requires: a path pattern the selected transitions write to (`world.coll[*].field`).
    writes: str = ""
    #: requires: the event of the selected transitions; idempotent: the repeated event.
    event: str = ""
    #: requires: the target state of the selected transitions.
    to: str = ""
    #: requires: guard labels (`g` or `!g`) every path must pass before or on the selection.
    guards: tuple[str, ...] = ()
    #: never_stores: payload fields that must never reach data or the world.
    fields: tuple[str, ...] = ()
    #: no_writes_on: final outcomes after which the world must be as it was.
    outcomes: tuple[Outcome, ...] = ()


@dataclass(frozen=True, slots=True)
class Note:
    """A short fact for readers besides the steps (such as "refresh after every method")."""

    title: str
    text: str
    rule: str = ""


@dataclass(frozen=True, eq=False)
class Workflow:
    """A compiled workflow; compared and hashed by identity (it is built once per file)."""

    name: str
    title: str
    description: str
    rules: tuple[str, ...]
    initial: str
    data: Mapping[str, Any]
    bindings: Mapping[str, Binding]
    states: Mapping[str, State]
    events: Mapping[str, Event]
    guards: Mapping[str, Guard]
    exclusive: tuple[frozenset[str], ...]
    transitions: tuple[Transition, ...]
    location: SourceLocation
    #: transitions by (state, event), in the order they are tried.
    by_source: Mapping[tuple[str, str], tuple[Transition, ...]] = field(repr=False)
    #: safety properties, by name; checked by linkflow.language.invariants.
    invariants: Mapping[str, Invariant] = field(default_factory=dict, repr=False)
    #: For readers: when to pick this workflow, the source's reason for it, words and notes.
    use_when: str = ""
    why: str = ""
    glossary: Mapping[str, str] = field(default_factory=dict, repr=False)
    notes: tuple[Note, ...] = ()
    #: Each data field's JSON Schema (declared, or inferred from its default).
    data_types: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    #: The compound states, by path: `states` holds only the leaves, by path (`parent.child`).
    compounds: Mapping[str, Compound] = field(default_factory=dict, repr=False)
    #: The text it was loaded from and its sha256 (hex), set by the loader from the one read
    #: of the file: the store keeps this text under this hash, so it never reads the file again.
    source: str = field(default="", repr=False)
    source_hash: str = field(default="", repr=False)
    #: The declared services it calls (language/services.py), by name, and their declaration
    #: as text ("" when it calls none): the store keeps that text beside `source`, and the
    #: hash covers both.
    services: Mapping[str, Service] = field(default_factory=dict, repr=False)
    services_source: str = field(default="", repr=False)
    #: The calls it makes (language/effect_specs.py): a state's `invoke`, by the state's path
    #: (a leaf or a compound state), and a transition's `notify`, by the transition's index.
    invokes: Mapping[str, EffectSpec] = field(default_factory=dict, repr=False)
    notifies: Mapping[int, tuple[EffectSpec, ...]] = field(default_factory=dict, repr=False)
    #: The call that undoes an invoke (`compensate`), by the invoking state's path.
    compensations: Mapping[str, EffectSpec] = field(default_factory=dict, repr=False)
    #: With parallel states: the workflow before their regions' leaves were joined into
    #: configurations (the states and transitions as written), for the tools that draw or
    #: export the chart; None without parallel states.
    unjoined: Workflow | None = field(default=None, repr=False)

    @property
    def file(self) -> str:
        return self.location.file

    @property
    def region_leaves(self) -> tuple[str, ...]:
        """The leaves of parallel states' regions, which are active together (each state of
        the workflow in a parallel state is their `+`-joined names)."""
        found = {leaf: None for s in self.states if PARALLEL_JOIN in s for leaf in active_leaves(s)}
        return tuple(found)

    @property
    def parallel(self) -> tuple[Compound, ...]:
        """Its parallel states (`parallel: true`), in document order."""
        return tuple(c for c in self.compounds.values() if c.parallel)

    def events_from(self, state: str) -> tuple[str, ...]:
        """The events some transition accepts in `state`, in definition order."""
        seen: dict[str, None] = {}
        for transition in self.transitions:
            if state in transition.sources:
                seen.setdefault(transition.event, None)
        return tuple(seen)

    def state_actions(self) -> tuple[Action, ...]:
        """The entry and exit actions of every state, leaves and compound states."""
        holders: list[State | Compound] = [*self.states.values(), *self.compounds.values()]
        return tuple(a for h in holders for a in (*h.entry, *h.exit))

    def rule_ids(self) -> frozenset[str]:
        """Every rule id the workflow names anywhere."""
        ids = set(self.rules)
        ids.update(g.rule for g in self.guards.values() if g.rule)
        ids.update(t.rule for t in self.transitions if t.rule)
        ids.update(s.rule for s in self.states.values() if s.rule)
        ids.update(n.rule for n in self.notes if n.rule)
        return frozenset(ids)

    def assumptions(self) -> tuple[str, ...]:
        """Everything the workflow marks as assumed, in definition order, each once."""
        found: dict[str, None] = {}
        for state in self.states.values():
            timeout = state.waiting.timeout if state.waiting else None
            for text in (state.assumption, timeout.assumption if timeout else ""):
                if text:
                    found.setdefault(text, None)
        for guard in self.guards.values():
            if guard.assumption:
                found.setdefault(guard.assumption, None)
        for transition in self.transitions:
            if transition.assumption:
                found.setdefault(transition.assumption, None)
        return tuple(found)


def transitions_by_source(
    transitions: tuple[Transition, ...],
) -> dict[tuple[str, str], tuple[Transition, ...]]:
    """`Workflow.by_source` for these transitions: per (state, event), in the order tried: the
    ones declared on the state itself first, then on the compound state around it, outwards
    (SCXML's and XState's rule), each level in definition order."""
    out: dict[tuple[str, str], list[Transition]] = {}
    for transition in transitions:
        for source in transition.sources:
            out.setdefault((source, transition.event), []).append(transition)
    return {
        key: tuple(sorted(found, key=lambda t: -len(t.declared_at(key[0]))))
        for key, found in out.items()
    }
