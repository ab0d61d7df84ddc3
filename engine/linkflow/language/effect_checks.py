"""Checks of a workflow's calls that need the whole built workflow (run by `validate`).

An invoke's answer is an event like any other, but only the state that invoked can take it:
a transition on `<name>.done` or `<name>.failed` from a state where no invoke named `<name>`
is active could never be taken, and a state that invokes without a transition for each answer
leaves an instance stuck when that answer comes (a call fails sooner or later).
"""

from __future__ import annotations

import re

from linkflow.errors import Problem
from linkflow.language.effect_specs import done_event, failed_event_name
from linkflow.language.model import Workflow, active_leaves, ancestors_of, is_active
from linkflow.language.workflow_checks import suggest


def _invoker(workflow: Workflow, leaf: str, name: str) -> str:
    """The state invoking `name` that `leaf` is in ("" when none is); in a parallel state,
    `leaf` is a configuration, and the invoking state may be active in any region."""
    return next(
        (
            s
            for active in active_leaves(leaf)
            for s in (active, *ancestors_of(active))
            if s in workflow.invokes and workflow.invokes[s].name == name
        ),
        "",
    )


def notify_payload_problems(workflow: Workflow) -> list[Problem]:
    """`payload.field` in a notify's body that the transition's event does not declare."""
    problems: list[Problem] = []
    by_index = {t.index: t for t in workflow.transitions}
    for index, specs in workflow.notifies.items():
        transition = by_index.get(index)
        event = workflow.events.get(transition.event) if transition is not None else None
        schema = event.payload_schema if event is not None else None
        props = (schema or {}).get("properties", {}) if event is not None else {}
        if not isinstance(props, dict) or transition is None:
            continue
        for spec in specs:
            for key, expr in spec.body:
                for name in _payload_reads(expr.source):
                    if name not in props:
                        problems.append(
                            Problem(
                                spec.location,
                                f"`with:` value '{key}' reads 'payload.{name}', which event "
                                f"'{transition.event}' does not declare{suggest(name, props)}",
                            )
                        )
    return problems


def _payload_reads(source: str) -> list[str]:
    text = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "''", source)
    return re.findall(r"(?<![\w.])payload\s*\.\s*([A-Za-z_]\w*)", text)


def effect_problems(workflow: Workflow) -> list[Problem]:
    """Answers taken where nothing was invoked, invoking states that cannot take one, and
    notify bodies that read payload fields their event lacks."""
    problems: list[Problem] = notify_payload_problems(workflow) if workflow.notifies else []
    if not workflow.invokes:
        return problems
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
        leaves = [leaf for leaf in workflow.states if is_active(leaf, state)]
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
