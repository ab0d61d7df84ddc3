"""One description of a workflow's machine for every export format: a tree of state nodes.

A node is the root (the workflow), an atomic state, a final state or a compound state (a node
with `children` and an `initial`; a parallel state is a node with `parallel` set), so the
writers walk one tree. A node's id is the state's dotted path (`parent.child`). Transitions sit
on the node they are declared on (`from: parent` on the parent, `*` on the root when the
workflow nests, else on every state), in the order linkflow tries them (definition order), which
is also the order XState and SCXML try a state's transitions in: the first one whose guards hold
is taken, a deeper state's before its parent's. A `done.state.<path>` transition sits on that
compound state's node as `done_edges`.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkflow.language.model import (
    DONE_EVENT_PREFIX,
    Action,
    GuardUse,
    Outcome,
    Transition,
    Workflow,
)


@dataclass(frozen=True, slots=True)
class Edge:
    """One transition as it leaves one state (a transition with several sources gives one edge
    per source)."""

    event: str
    target: str
    guards: tuple[GuardUse, ...]
    actions: tuple[Action, ...]
    description: str
    #: The transition's index in the workflow (so a reader can gather the edges again).
    index: int
    #: Whether its source is also its target: the state is left and entered again, so a timeout
    #: starts over (linkflow's rule; XState says `reenter: true`, SCXML's default is the same).
    reenters: bool
    #: The target as written: a compound state stands for its initial state, recursively.
    declared_target: str = ""


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    description: str = ""
    final: Outcome | None = None
    handoff: str = ""
    #: A waiting state's timeout: after so many seconds, go to `timeout_to`.
    timeout_seconds: float | None = None
    timeout_to: str = ""
    edges: tuple[Edge, ...] = ()
    children: tuple[Node, ...] = ()
    initial: str = ""
    #: A parallel state: every child region active at once (no `initial`).
    parallel: bool = False
    #: A compound state's `final: done` child (it finishes its parent, ends nothing).
    done: bool = False
    entry: tuple[Action, ...] = ()
    exit: tuple[Action, ...] = ()
    #: On a compound state: its `done.state.<path>` transitions.
    done_edges: tuple[Edge, ...] = ()


def _edge(transition: Transition, source: str) -> Edge:
    target = transition.to or transition.target
    return Edge(
        event=transition.event,
        target=transition.target,
        guards=transition.guards,
        actions=transition.actions,
        description=transition.description,
        index=transition.index,
        reenters=target == source,
        declared_target=target,
    )


def chart(workflow: Workflow) -> Node:
    """The workflow as a tree: the root holds every state, each state its outgoing edges (the
    regions of a parallel state as written, not the configurations the runtime joins)."""
    workflow = workflow.unjoined or workflow
    if workflow.compounds:
        return nested_chart(workflow)
    children = []
    for name, state in workflow.states.items():
        timeout = state.waiting.timeout if state.waiting else None
        edges = tuple(
            _edge(t, name) for t in workflow.transitions if name in t.sources and not t.is_timeout
        )
        children.append(
            Node(
                id=name,
                description=state.description,
                final=state.final,
                handoff=state.handoff,
                timeout_seconds=timeout.seconds if timeout else None,
                timeout_to=timeout.to if timeout else "",
                edges=edges,
            )
        )
    return Node(
        id=workflow.name,
        description=workflow.description,
        children=tuple(children),
        initial=workflow.initial,
    )


def nested_chart(workflow: Workflow) -> Node:
    """The tree of a workflow with compound states: each transition on the state it is declared
    on (`*`: the root)."""
    on: dict[str, list[Edge]] = {}
    done: dict[str, list[Edge]] = {}
    for t in workflow.transitions:
        if t.is_timeout:
            continue
        if t.event.startswith(DONE_EVENT_PREFIX):
            parent = t.event.removeprefix(DONE_EVENT_PREFIX)
            done.setdefault(parent, []).append(_edge(t, parent))
            continue
        for where in t.declared or t.sources:
            on.setdefault(where, []).append(_edge(t, where))
    top: dict[str, None] = {}
    for name in workflow.states:
        top.setdefault(name.split(".")[0], None)

    def node(name: str) -> Node:
        compound = workflow.compounds.get(name)
        if compound is not None:
            return Node(
                id=name,
                description=compound.description,
                edges=tuple(on.get(name, ())),
                children=tuple(node(f"{name}.{child}") for child in compound.children),
                initial=compound.initial,
                parallel=compound.parallel,
                entry=compound.entry,
                exit=compound.exit,
                done_edges=tuple(done.get(name, ())),
            )
        state = workflow.states[name]
        timeout = state.waiting.timeout if state.waiting else None
        return Node(
            id=name,
            description=state.description,
            final=state.final,
            handoff=state.handoff,
            timeout_seconds=timeout.seconds if timeout else None,
            timeout_to=timeout.to if timeout else "",
            edges=tuple(on.get(name, ())),
            done=state.done,
            entry=state.entry,
            exit=state.exit,
        )

    return Node(
        id=workflow.name,
        description=workflow.description,
        edges=tuple(on.get("", ())),
        children=tuple(node(name) for name in top),
        initial=workflow.initial.split(".")[0],
    )


def condition(guards: tuple[GuardUse, ...]) -> str:
    """`a && !b`: the guards a transition lists, by name, all of which must hold."""
    return " && ".join(g.label for g in guards)
