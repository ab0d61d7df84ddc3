"""The guard logic of an exploration: guards as free booleans, assumed and forgotten per path.

The model is described in linkflow.analysis.explore; this module is the one place that decides
which guard outcomes are consistent, which ways an event can go under some assumptions, and
which assumptions a transition's writes forget. The decision table and the reachability search
both ask it, so they agree on what a possible run is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from itertools import product

from linkflow.language.model import DONE_EVENT_PREFIX, GuardUse, Transition, Workflow
from linkflow.language.nesting import with_entry_exit
from linkflow.language.parallel_routes import joint_routes, region_done_event

#: A set of assumptions: (guard name, value) pairs.
Assumptions = frozenset[tuple[str, bool]]


class GuardLogic:
    """What one workflow's guards can be, computed once so every search step is a lookup."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.positions = {id(t): n for n, t in enumerate(workflow.transitions)}
        bindings = set(workflow.bindings)
        self.fresh = {n for n, g in workflow.guards.items() if "payload" in g.when.names}
        #: the data fields each guard reads, itself or through a binding's key; "*" for all
        self.data_fields: dict[str, set[str]] = {}
        for n, g in workflow.guards.items():
            sources = [g.when.source] if "data" in g.when.names else []
            sources += [workflow.bindings[b].key.source for b in g.when.names & bindings]
            fields = self.data_fields.setdefault(n, set())
            for source in sources:
                fields |= _data_fields(source)
        self.reads_collection: dict[str, set[str]] = {}
        for n, g in workflow.guards.items():
            for b in g.when.names & bindings:
                self.reads_collection.setdefault(workflow.bindings[b].collection, set()).add(n)
        #: events accepted per state, in definition order (Workflow.events_from scans all)
        self.events: dict[str, list[str]] = {}
        for t in workflow.transitions:
            for source in t.sources:
                accepted = self.events.setdefault(source, [])
                if t.event not in accepted:
                    accepted.append(t.event)
        for state in workflow.states.values():
            done = DONE_EVENT_PREFIX + state.parent
            automatic = workflow.by_source.get((state.name, done), ())
            if state.done and automatic and not any(t.guards for t in automatic):
                # the compound state is done: its done event is taken at once, nothing else
                self.events[state.name] = [done]
        for name in workflow.states:
            # in a parallel state, a region in its `final: done` raises its own done event
            # first (linkflow.runtime.compiled): with a transition for it, taken at once
            region_done = region_done_event(workflow, name)
            if region_done:
                self.events[name] = [region_done]
        #: one event taken in several regions at once: the joint transitions, tried first
        self.joint = joint_routes(workflow)
        joined = {id(t): t for route in self.joint.values() for t in route if t.parts}
        self.forgets: dict[int, frozenset[str]] = {}
        for t in (*workflow.transitions, *joined.values()):
            # with the entry and exit actions of the nested states it leaves and enters
            steps = [with_entry_exit(workflow, t, leaf) for leaf in t.sources]
            self.forgets[id(t)] = frozenset(g for step in steps for g in self._forgets(step))

    def _forgets(self, transition: Transition) -> set[str]:
        out: set[str] = set()
        for action in transition.actions:
            root = action.target.root
            if root == "data":
                written = action.target.steps[0].name or "*"
                out |= {
                    g
                    for g, fields in self.data_fields.items()
                    if written in fields or "*" in fields or (written == "*" and fields)
                }
            elif root == "world":
                first = action.target.steps[0].name or ""
                out |= self.reads_collection.get(first, set())
            else:
                collection = self.workflow.bindings[root].collection
                out |= self.reads_collection.get(collection, set())
        return out

    def consistent(self, values: Mapping[str, bool]) -> bool:
        for group in self.workflow.exclusive:
            if sum(1 for g in group if values.get(g) is True) > 1:
                return False
        return True

    def assume(
        self, known: Mapping[str, bool], uses: list[tuple[GuardUse, bool]]
    ) -> dict[str, bool] | None:
        """`known` plus each use's guard having the outcome that makes the use pass (True) or
        fail (False); None when that contradicts."""
        values = dict(known)
        for use, passes in uses:
            value = passes != use.negated
            name = use.guard.name
            if values.get(name, value) != value:
                return None
            values[name] = value
        return values if self.consistent(values) else None

    def branches(
        self, state: str, event: str, known: Assumptions
    ) -> Iterator[tuple[Transition | None, list[tuple[GuardUse, bool]], dict[str, bool]]]:
        """Each way `event` can go in `state`: (transition taken or None for a refusal, the
        guard checks made in order, the values assumed)."""
        base = dict(known)
        candidates = self.joint.get((state, event)) or self.workflow.by_source.get(
            (state, event), ()
        )
        for i, transition in enumerate(candidates):
            # candidates declared on one state are pairwise exclusive (the loader checks it), so
            # when this one passes, the earlier ones there fail whatever their other guards do;
            # one declared on a state nested deeper is tried first, so it must fail first, as
            # must every joint transition (several regions' choices) tried before
            level = transition.declared_at(state)
            deeper = [c for c in candidates[:i] if c.declared_at(state) != level or c.parts]
            for fails in product(*(_failures(c) for c in deeper)):
                uses = [u for f in fails for u in f] + [(u, True) for u in transition.guards]
                values = self.assume(base, uses)
                if values is not None:
                    yield transition, uses, values
        for fails in product(*(_failures(c) for c in candidates)):
            uses = [u for f in fails for u in f]
            values = self.assume(base, uses)
            if values is not None:
                yield None, uses, values

    def after(self, transition: Transition, values: Mapping[str, bool]) -> Assumptions:
        forget = self.forgets[id(transition)] | self.fresh
        return frozenset((g, v) for g, v in values.items() if g not in forget)


def _data_fields(source: str) -> set[str]:
    """The `data.<field>` names an expression reads; "*" when it uses `data` otherwise."""
    fields: set[str] = set()
    for match in re.finditer(r"\bdata\b(\s*\.\s*([A-Za-z_]\w*))?", source):
        fields.add(match.group(2) or "*")
    return fields


def _failures(transition: Transition) -> list[list[tuple[GuardUse, bool]]]:
    """Each way a transition's guards can fail: the ones before hold, then one fails."""
    uses = transition.guards
    return [[(u, True) for u in uses[:j]] + [(uses[j], False)] for j in range(len(uses))]
