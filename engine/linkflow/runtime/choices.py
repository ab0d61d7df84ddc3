"""Choices: the values a person is offered for a payload field, worked out from the world.

A list is worked out before the payload exists (from data and the bindings), so what a page
would show and what the engine accepts are one and the same list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from linkflow.language.expressions import ExpressionError, show_value
from linkflow.language.model import Choices
from linkflow.runtime.world import World, copy_json


@dataclass(frozen=True, slots=True)
class Choice:
    """One offered value and the words shown for it."""

    value: Any
    label: str

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label}


def offered(choices: Choices, activation: Mapping[str, Any], world: World) -> tuple[Choice, ...]:
    """The list as offered now; raises ExpressionError when it cannot be worked out."""
    raw = choices.values.evaluate(activation)
    if not isinstance(raw, list):
        raise ExpressionError(f"`{choices.values.source}` gave {type(raw).__name__}, not a list")
    out: list[Choice] = []
    for item in raw:
        if isinstance(item, dict) and "value" in item:
            value, label = item["value"], item.get("label", item["value"])
        else:
            value, label = item, item
        if choices.label is not None:
            scope = dict(activation, value=value)
            if choices.records:
                scope["record"] = world.get(choices.records, value)
            try:
                label = choices.label.evaluate(scope)
            except ExpressionError:
                label = value  # a label is a courtesy: the value itself still reads
        out.append(Choice(copy_json(value), show_value(label)))
    return tuple(out)


def match(choices: Choices, offers: tuple[Choice, ...], sent: Any) -> Choice | None:
    """The choice a sent value stands for, or None when it is not offered."""
    for choice in offers:
        if choice.value == sent and type(choice.value) is type(sent):
            return choice
    if choices.ignore_case and isinstance(sent, str):
        folded = sent.strip().casefold()
        for choice in offers:
            value = choice.value if isinstance(choice.value, str) else None
            if folded in (choice.label.casefold(), value.casefold() if value else None):
                return choice
    return None


def not_offered_message(
    choices: Choices, offers: tuple[Choice, ...], sent: Any, activation: Mapping[str, Any]
) -> str:
    """Why a value is refused, in words, listing what can be picked instead."""
    if choices.message is not None:
        labels = [c.label for c in offers]
        ids = [_named(c) for c in offers]
        return choices.message.render(dict(activation, value=sent, offered=labels, options=ids))
    what = choices.description.rstrip(".") or choices.field.replace("_", " ")
    shown = f"'{show_value(sent)}'" if isinstance(sent, str | int | float) else "that value"
    if not offers:
        return f"{shown} cannot be chosen: nothing is offered here ({what})."
    listed = ", ".join(_named(c) for c in offers)
    return f"{shown} is not the id of a choice offered ({what}). Send the id of one of: {listed}."


def _named(choice: Choice) -> str:
    """A choice as its words with the id to send: "Sign up (id 'sign_up')"; a choice whose
    words are its id is just that."""
    value = show_value(choice.value)
    if choice.label == value:
        return value
    shown = f"'{value}'" if isinstance(choice.value, str) else value
    return f"{choice.label} (id {shown})"
