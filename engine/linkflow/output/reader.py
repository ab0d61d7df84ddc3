"""The reader view of a workflow: what a person sees and does, for people learning the flow.

Drawn from the same workflow as the engineer view (linkflow.output.diagram), with less on it:
- nodes carry the state's `label` (else its step, else its name in words); no ids, no rule ids;
- edges carry the event's `label` (the button a person clicks), no guards and no actions; an
  edge whose words would repeat the node it leads to is left bare;
- a transition from many states is drawn once, from the first of them in walking order (the
  rest are the same move, repeated), and one from every state (`*`, typically closing) is a
  sentence under the title instead of an edge;
- waits that run out say after how long; what the source does not say (`assumption:`) is drawn
  dashed purple and the legend says so;
- a legend names every colour and shape the picture uses;
- an entry workflow that hands off to others is drawn top to bottom, so its branches sit side
  by side and the picture stays narrow.
"""

from __future__ import annotations

from dataclasses import replace

from linkflow.language.durations import duration
from linkflow.language.graph import is_from_any, walking_order
from linkflow.language.model import State, Transition, Workflow
from linkflow.output.diagram import state_node
from linkflow.output.diagram_model import (
    START,
    Diagram,
    Edge,
    EdgeRole,
    LegendItem,
    Node,
    Role,
    View,
)
from linkflow.output.diagram_text import state_tooltip, transition_tooltip

#: Label width for the reader view (characters per line).
READER_WIDTH = 20

_ROLE_WORDS = {
    Role.STATE: "a step the person takes",
    Role.WAITING: "waiting for someone else (dashed border)",
    Role.COMPLETED: "done",
    Role.CANCELLED: "closed before the end: nothing changes",
    Role.REFUSED: "refused: a step was blocked",
    Role.DECLINED: "declined: someone said no",
    Role.FAILED: "failed",
    Role.TIMED_OUT: "timed out: nobody answered in time",
}
_HANDOFF_WORDS = "goes on: see its page"


def words(name: str) -> str:
    """An identifier as words: `choose_log_in` -> `Choose log in`."""
    return name.replace("_", " ").capitalize()


def state_words(state: State) -> str:
    return state.label or state.step or words(state.name)


def event_words(workflow: Workflow, transition: Transition) -> str:
    event = workflow.events.get(transition.event)
    return event.label if event is not None and event.label else words(transition.event)


def _edge_title(workflow: Workflow, transition: Transition) -> str:
    if transition.is_timeout:
        state = workflow.states[transition.sources[0]]
        timeout = state.waiting.timeout if state.waiting else None
        return f"no answer for {duration(timeout.seconds)}" if timeout else "no answer"
    return event_words(workflow, transition)


def reader_diagram(workflow: Workflow) -> Diagram:
    """The reader view of one workflow."""
    order = walking_order(workflow)
    position = {name: i for i, name in enumerate(order)}
    hands_off = any(s.handoff for s in workflow.states.values())
    nodes = [Node(START, "", Role.START, tooltip="starts here")]
    titles: dict[str, str] = {}
    for name in order:
        state = workflow.states[name]
        title = state_words(state)
        titles[name] = title
        engineer = state_node(workflow, state)
        extra = (_HANDOFF_WORDS,) if state.handoff else ()
        nodes.append(Node(name, title, engineer.role, extra, state_tooltip(state)))
    edges = [Edge(START, workflow.initial, "", EdgeRole.START)]
    notes: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    ordered = sorted(
        workflow.transitions,
        key=lambda t: (min(position[s] for s in t.sources), t.is_timeout, t.index),
    )
    assumed = False
    for transition in ordered:
        title = _edge_title(workflow, transition)
        if is_from_any(workflow, transition):
            target = titles[transition.target]
            notes.append(f"{title} at any step: {target[0].lower()}{target[1:]}.")
            continue
        source = min(transition.sources, key=lambda s: position[s])
        key = (source, transition.target, title)
        if key in seen:
            continue
        seen.add(key)
        role = EdgeRole.TIMEOUT if transition.is_timeout else EdgeRole.STEP
        lines: tuple[str, ...] = ()
        if transition.assumption:
            assumed = True
            lines = ("assumed",)
            role = EdgeRole.ASSUMED
        shown = "" if title == titles[transition.target] else title
        edges.append(
            Edge(
                source,
                transition.target,
                shown,
                role,
                lines,
                transition_tooltip(transition),
                index=transition.index,
            )
        )
    # one event leading to several places (a pick from a list): the places say which
    titled: dict[tuple[str, str], int] = {}
    for edge in edges:
        titled[(edge.source, edge.title)] = titled.get((edge.source, edge.title), 0) + 1
    edges = [
        replace(e, title="") if e.title and titled[(e.source, e.title)] > 1 else e for e in edges
    ]
    for guard in workflow.guards.values():
        if guard.assumption:
            assumed = True
            notes.append(f"Assumed (not in the source): {guard.assumption.strip()}")
    linked = {e.source for e in edges} | {e.target for e in edges}
    nodes = [n for n in nodes if n.id in linked]
    used = {n.role for n in nodes}
    legend = [LegendItem(_ROLE_WORDS[r], role=r) for r in _ROLE_WORDS if r in used]
    legend.append(LegendItem("double border: the flow ends there"))
    if any(e.role is EdgeRole.TIMEOUT for e in edges):
        legend.append(LegendItem("a wait that runs out", edge=EdgeRole.TIMEOUT))
    if assumed:
        legend.append(LegendItem("assumed: not in the source", edge=EdgeRole.ASSUMED))
    return Diagram(
        f"{workflow.name}.reader",
        workflow.title or words(workflow.name),
        workflow.description.strip() or workflow.title or workflow.name,
        tuple(nodes),
        tuple(edges),
        direction="TB" if hands_off else "LR",
        view=View.READER,
        legend=tuple(legend),
        notes=tuple(notes),
    )


__all__ = ["READER_WIDTH", "event_words", "reader_diagram", "state_words", "words"]
