"""Checks of a workflow's calls that need the whole built workflow (run by `validate`).

An invoke's answer is an event like any other, but only the state that invoked can take it:
a transition on `<name>.done` or `<name>.failed` from a state where no invoke named `<name>`
is active could never be taken, and a state that invokes without a transition for each answer
leaves an instance stuck when that answer comes (a call fails sooner or later).
"""

from __future__ import annotations

from linkflow.errors import Problem
from linkflow.language.effect_specs import done_event, failed_event_name
from linkflow.language.model import Workflow, ancestors_of, contains


def _invoker(workflow: Workflow, leaf: str, name: str) -> str:
    """The state invoking `name` that `leaf` is in ("" when none is)."""
    return next(
        (
            s
            for s in (leaf, *ancestors_of(leaf))
            if s in workflow.invokes and workflow.invokes[s].name == name
        ),
        "",
    )


def effect_problems(workflow: Workflow) -> list[Problem]:
    """Answers taken where nothing was invoked, and invoking states that cannot take one."""
    if not workflow.invokes:
        return []
    problems: list[Problem] = []
    names = {spec.name for spec in workflow.invokes.values()}
    for transition in workflow.transitions:
        name, dot, end = transition.event.rpartition(".")
        if not dot or end not in ("done", "failed") or name not in names:
            continue
        stray = [s for s in transition.sources if not _invoker(workflow, s, name)]
        if stray:
            problems.append(
                Problem(
                    transition.location,
                    f"'{transition.event}' is taken from {', '.join(repr(s) for s in stray)}, "
                    f"where no invoke named '{name}' is active: only the state that invoked "
                    "receives its answer",
                )
            )
    for state, spec in workflow.invokes.items():
        leaves = [leaf for leaf in workflow.states if contains(state, leaf)]
        for event in (done_event(spec.name), failed_event_name(spec.name)):
            stuck = [
                leaf
                for leaf in leaves
                if not workflow.states[leaf].is_final and (leaf, event) not in workflow.by_source
            ]
            if stuck:
                where = "" if stuck == [state] else f" (in {', '.join(stuck)})"
                problems.append(
                    Problem(
                        spec.location,
                        f"state '{state}' invokes '{spec.name}' but takes no '{event}'{where}: "
                        "when that answer comes the instance would be stuck; add a transition "
                        f"from '{state}' on '{event}'",
                    )
                )
    return problems
