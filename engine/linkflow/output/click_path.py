"""The click path of a workflow: what a person does, in their words, as one numbered list.

A workflow that another hands off to starts with the path through that one (from its initial
state to the handoff), so a method's page reads from the first click. Each item is the step of
the state the person is in; a state without a step of its own (a menu of options) gives the
step of the transition taken there instead (else of its event). The path is the shortest one
that completes, skipping moves that are assumptions (the source does not describe them) and
timeouts.
"""

from __future__ import annotations

from collections.abc import Mapping

from linkflow.language.graph import is_from_any
from linkflow.language.model import Outcome, Transition, Workflow
from linkflow.output.reader import event_words, state_words


def shortest_path(workflow: Workflow, goal: str) -> list[tuple[str, Transition]] | None:
    """(state, transition taken) from the initial state to `goal`, or None when unreachable."""
    before: dict[str, tuple[str, Transition] | None] = {workflow.initial: None}
    frontier = [workflow.initial]
    while frontier and goal not in before:
        following: list[str] = []
        for name in frontier:
            for transition in workflow.transitions:
                if name not in transition.sources or transition.is_timeout:
                    continue
                if transition.assumption or is_from_any(workflow, transition):
                    continue
                if transition.target not in before:
                    before[transition.target] = (name, transition)
                    following.append(transition.target)
        frontier = following
    if goal not in before:
        return None
    path: list[tuple[str, Transition]] = []
    here = goal
    while (came := before[here]) is not None:
        path.append(came)
        here = came[0]
    return path[::-1]


def completion(workflow: Workflow) -> list[tuple[str, Transition]] | None:
    """The shortest path to a completed final state that hands off to nothing."""
    best: list[tuple[str, Transition]] | None = None
    for name, state in workflow.states.items():
        if state.final is not Outcome.COMPLETED or state.handoff:
            continue
        path = shortest_path(workflow, name)
        if path is not None and (best is None or len(path) < len(best)):
            best = path
    return best


def _items(workflow: Workflow, path: list[tuple[str, Transition]]) -> list[str]:
    items: list[str] = []
    for name, transition in path:
        state = workflow.states[name]
        event = workflow.events.get(transition.event)
        text = (
            state.step
            or transition.step
            or (event.step if event is not None else "")
            or transition.description
        )
        if text and (not items or items[-1] != text):
            items.append(" ".join(text.split()))
    return items


def lead_in(
    workflows: Mapping[str, Workflow], name: str, seen: frozenset[str] = frozenset()
) -> list[str]:
    """The steps before `name` starts: through the first workflow (by name) that hands off to
    it, and through whatever hands off to that one."""
    for other in sorted(workflows):
        if other in seen or other == name:
            continue
        workflow = workflows[other]
        for state in workflow.states.values():
            if state.handoff != name:
                continue
            path = shortest_path(workflow, state.name)
            if path is None:
                continue
            before = lead_in(workflows, other, seen | {name})
            return before + _items(workflow, path)
    return []


def click_path(workflows: Mapping[str, Workflow], name: str) -> list[str]:
    """Every step from the first click to the end of workflow `name`."""
    workflow = workflows[name]
    path = completion(workflow) or []
    items = lead_in(workflows, name) + _items(workflow, path)
    if path:
        end = workflow.states[path[-1][1].target]
        if end.step:
            items.append(" ".join(end.step.split()))
    return items


def handoff_paths(workflows: Mapping[str, Workflow], name: str) -> dict[str, list[str]]:
    """For a workflow that hands off: per handoff state, the steps that lead to it."""
    workflow = workflows[name]
    out: dict[str, list[str]] = {}
    for state in workflow.states.values():
        if not state.handoff:
            continue
        path = shortest_path(workflow, state.name)
        if path is not None:
            out[state.name] = lead_in(workflows, name) + _items(workflow, path)
    return out


def event_path(workflow: Workflow, goal: str) -> list[str]:
    """The button words along the shortest path to `goal` (`Submit for review → Approve`);
    a pick from an offered list is named by where it leads."""
    words: list[str] = []
    for _, transition in shortest_path(workflow, goal) or []:
        event = workflow.events.get(transition.event)
        if event is not None and event.choices:
            words.append(state_words(workflow.states[transition.target]))
        else:
            words.append(event_words(workflow, transition))
    return words
