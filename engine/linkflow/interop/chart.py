"""One description of a workflow's machine for every export format: a tree of state nodes.

A node is the root (the workflow), an atomic state or a final state; a compound state will be
a node with `children` and an `initial`, a parallel state a node with `parallel` set, so the
writers, which walk the tree, take nesting without changing their shape. Transitions sit on the
node they leave, in the order linkflow tries them (definition order), which is also the order
XState and SCXML try a state's transitions in: the first one whose guards hold is taken.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkflow.language.model import Action, GuardUse, Outcome, Transition, Workflow


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
    #: For nesting to come: every child region active at once.
    parallel: bool = False


def _edge(transition: Transition, source: str) -> Edge:
    return Edge(
        event=transition.event,
        target=transition.target,
        guards=transition.guards,
        actions=transition.actions,
        description=transition.description,
        index=transition.index,
        reenters=transition.target == source,
    )


def chart(workflow: Workflow) -> Node:
    """The workflow as a tree: the root holds every state, each state its outgoing edges."""
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


def condition(guards: tuple[GuardUse, ...]) -> str:
    """`a && !b`: the guards a transition lists, by name, all of which must hold."""
    return " && ".join(g.label for g in guards)
