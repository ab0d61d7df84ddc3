"""The short texts and tooltips of diagrams, also used by the generated docs and pages.

One place for the wording, so a state or guard reads the same in a drawing and in prose.
"""

from __future__ import annotations

import textwrap

from linkflow.language.durations import duration
from linkflow.language.model import Action, Outcome, State, Transition

LABEL_WIDTH = 30

#: An outcome in words, as diagrams and docs say it.
OUTCOME_WORDS = {
    Outcome.COMPLETED: "completed",
    Outcome.CANCELLED: "cancelled",
    Outcome.REFUSED: "refused",
    Outcome.DECLINED: "declined",
    Outcome.FAILED: "failed",
    Outcome.TIMED_OUT: "timed out",
}


def wrap(text: str, width: int = LABEL_WIDTH) -> tuple[str, ...]:
    """Text as short lines for a label; whitespace (newlines included) is normalised."""
    flat = " ".join(text.split())
    return tuple(textwrap.wrap(flat, width, break_on_hyphens=False, break_long_words=False))


def short_path(text: str) -> str:
    """`data.approvals` -> `approvals`; `world.documents[data.document].status` ->
    `documents[…].status`: enough to say what changes."""
    out: list[str] = []
    depth = 0
    for char in text:
        if char == "[":
            if depth == 0:
                out.append("[…]")
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(char)
    short = "".join(out)
    for prefix in ("data.", "world."):
        if short.startswith(prefix):
            return short[len(prefix) :]
    return short


def action_short(action: Action) -> str:
    return f"{action.kind.value} {short_path(action.target.text)}"


def action_long(action: Action) -> str:
    value = f" = {action.value.source}" if action.value is not None else ""
    each = " (each)" if action.each else ""
    loop = ""
    if action.for_item and action.for_in is not None:
        loop = f" for each {action.for_item} in {action.for_in.source}"
    return f"{action.kind.value} {action.target.text}{value}{each}{loop}"


def guard_words(transition: Transition) -> tuple[str, ...]:
    """Each guard as `name R19` (or `!name R19`)."""
    return tuple(
        f"{use.label} {use.guard.rule}".strip() if use.guard.rule else use.label
        for use in transition.guards
    )


def state_tooltip(state: State) -> str:
    parts: list[str] = []
    if state.step:
        parts.append(f"Step: {state.step.strip()}")
    if state.description:
        parts.append(state.description.strip())
    if state.waiting is not None:
        wait = f"Waits for {state.waiting.awaits}"
        if state.waiting.timeout is not None:
            timeout = state.waiting.timeout
            wait += f"; after {duration(timeout.seconds)} goes to '{timeout.to}'"
        parts.append(wait)
    if state.handoff:
        parts.append(f"Hands off to the workflow '{state.handoff}'")
    if state.assumption:
        parts.append(f"Assumed: {state.assumption.strip()}")
    if state.rule:
        parts.append(f"Rule {state.rule}")
    return "\n".join(parts) or state.name


def transition_tooltip(transition: Transition) -> str:
    parts: list[str] = []
    if transition.description:
        parts.append(transition.description.strip())
    for use in transition.guards:
        guard = use.guard
        rule = f" ({guard.rule})" if guard.rule else ""
        words = guard.description.strip() or guard.when.source
        message = guard.message_when_true if use.negated else guard.message
        refuses = f" (else: {message.source})" if message is not None else ""
        parts.append(f"Guard {use.label}{rule}: {words}{refuses}")
    for action in transition.actions:
        parts.append(f"Action: {action_long(action)}")
    if transition.assumption:
        parts.append(f"Assumed: {transition.assumption.strip()}")
    if transition.rule:
        parts.append(f"Rule {transition.rule}")
    return "\n".join(parts) or transition.label


def rule_key(rule: str) -> tuple[str, int]:
    """Sorts R2 before R19."""
    head = rule.rstrip("0123456789")
    tail = rule[len(head) :]
    return head, int(tail) if tail else 0
