"""A workflow in words, for `linkflow show` (text) and tools (a JSON-ready summary)."""

from __future__ import annotations

from typing import Any

from linkflow.language.durations import duration
from linkflow.language.model import Action, Choices, State, Workflow
from linkflow.output.diagram_text import action_long


def choices_words(choices: Choices) -> str:
    """A list of choices in words: what is offered, from where, under which rule."""
    rule = f" [{choices.rule}]" if choices.rule else ""
    about = choices.description or f"the values of `{choices.values.source}`"
    return f"{choices.field} is picked from a list{rule}: {about}"


def choices_summary(choices: Choices) -> dict[str, Any]:
    return {
        "values": choices.values.source,
        "label": choices.label.source if choices.label else None,
        "records": choices.records or None,
        "rule": choices.rule,
        "description": choices.description,
        "ignore_case": choices.ignore_case,
    }


def _state_kind(workflow: Workflow, state: State) -> str:
    if state.name == workflow.initial:
        return "initial"
    if state.done:
        return f"final: done, raises done.state.{state.parent}"
    if state.final is not None:
        return f"final: {state.final.value}"
    if state.waiting is not None:
        wait = f"waits for {state.waiting.awaits}"
        if state.waiting.timeout:
            timeout = state.waiting.timeout
            wait += f"; after {duration(timeout.seconds)} goes to '{timeout.to}'"
        return wait
    return ""


def workflow_summary(workflow: Workflow) -> dict[str, Any]:
    return {
        "workflow": workflow.name,
        "title": workflow.title,
        "file": workflow.file,
        "description": workflow.description,
        "initial": workflow.initial,
        "rules": sorted(workflow.rule_ids()),
        "states": [
            {
                "name": s.name,
                "kind": _state_kind(workflow, s),
                "description": s.description,
                "final": s.final.value if s.final else None,
                "waiting": s.waiting is not None,
                "entry": [action_long(a) for a in s.entry],
                "exit": [action_long(a) for a in s.exit],
            }
            for s in workflow.states.values()
        ],
        "compound_states": [
            {
                "name": c.name,
                "initial": f"{c.name}.{c.initial}",
                "states": [f"{c.name}.{child}" for child in c.children],
                "description": c.description,
                "entry": [action_long(a) for a in c.entry],
                "exit": [action_long(a) for a in c.exit],
            }
            for c in workflow.compounds.values()
        ],
        "events": [
            {
                "name": e.name,
                "description": e.description,
                "payload": list(e.fields),
                "secret": sorted(set(e.secret_fields) & set(e.fields)),
                "choices": {f: choices_summary(c) for f, c in e.choices.items()},
            }
            for e in workflow.events.values()
        ],
        "guards": [
            {
                "name": g.name,
                "rule": g.rule,
                "when": g.when.source,
                "description": g.description,
                "message": g.message.source,
            }
            for g in workflow.guards.values()
        ],
        "transitions": [
            {
                "event": t.event,
                "from": list(t.sources),
                "declared_from": list(t.declared),
                "to": t.target,
                "guards": [u.label for u in t.guards],
                "actions": [action_long(a) for a in t.actions],
                "description": t.description,
                "line": t.location.line,
            }
            for t in workflow.transitions
        ],
    }


def _entry_exit(entry: tuple[Action, ...], exit_: tuple[Action, ...]) -> list[str]:
    return [f"      on entry: {action_long(a)}" for a in entry] + [
        f"      on exit: {action_long(a)}" for a in exit_
    ]


def describe_workflow(workflow: Workflow) -> str:
    lines = [f"{workflow.title} ({workflow.name}, {workflow.file})"]
    if workflow.description:
        lines.append(f"  {workflow.description.strip()}")
    joined = " (in a parallel state: one leaf per region, joined by +)" if workflow.parallel else ""
    lines += ["", f"States{joined}:"]
    for state in workflow.states.values():
        kind = _state_kind(workflow, state)
        detail = f" [{kind}]" if kind else ""
        about = f" - {state.description}" if state.description else ""
        lines.append(f"  {state.name}{detail}{about}")
        for refused, (words, rule) in state.refuses.items():
            lines.append(f"      refuses {refused}{f' [{rule}]' if rule else ''}: {words}")
        lines.extend(_entry_exit(state.entry, state.exit))
    if workflow.compounds:
        lines += ["", "Compound states (the states in them are listed above by path):"]
        for c in workflow.compounds.values():
            about = f" - {c.description}" if c.description else ""
            children = ", ".join(c.children)
            holds = (
                f"parallel: regions {children}, all active at once"
                if c.parallel
                else f"holds {children}; starts in {c.initial}"
            )
            lines.append(f"  {c.name} [{holds}]{about}")
            lines.extend(_entry_exit(c.entry, c.exit))
    lines += ["", "Events:"]
    for event in workflow.events.values():
        fields = event.fields
        shown = [f"{f} (secret)" if f in event.secret_fields else f for f in fields]
        payload = f" payload: {', '.join(shown)}" if shown else ""
        about = f" - {event.description}" if event.description else ""
        lines.append(f"  {event.name}{about}{payload}")
        lines.extend(f"      {choices_words(c)}" for c in event.choices.values())
    if workflow.guards:
        lines += ["", "Guards:"]
        for guard in workflow.guards.values():
            rule = f" [{guard.rule}]" if guard.rule else ""
            about = guard.description or guard.when.source
            lines.append(f"  {guard.name}{rule}: {about}")
            lines.append(f"      refuses with: {guard.message.source}")
    lines += ["", "Transitions:"]
    for t in workflow.transitions:
        guards = f" if {' and '.join(u.label for u in t.guards)}" if t.guards else ""
        about = f" - {t.description}" if t.description else ""
        sources = ", ".join(t.sources) if len(t.sources) < 4 else f"any of {len(t.sources)} states"
        if t.declared:
            sources = ", ".join(d or "*" for d in t.declared) + f" ({sources})"
        lines.append(f"  {t.event}: {sources} -> {t.target}{guards}{about}")
        lines.extend(f"      then: {action_long(action)}" for action in t.actions)
    return "\n".join(lines)
