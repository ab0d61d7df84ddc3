"""What an event leaves behind, as frozen values: the `Step` it took or the `Refusal` that
stopped it, the `HistoryEntry` an instance keeps, and the `EventOption`s offered next.

They hold no engine and no instance, so the store, the service and the studio can keep, send
and compare them without running anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from typing import Any, TypeVar

from linkflow.language.model import Transition
from linkflow.runtime.choices import Choice
from linkflow.runtime.effect_calls import EffectCall
from linkflow.runtime.json_values import compact_json, json_problem
from linkflow.runtime.world import copy_json

#: The most of a payload one history entry keeps (the fields that are not secret).
MAX_HISTORY_PAYLOAD_BYTES = 4 * 1024


#: What history and steps show for an event name that is not a name at all.
UNREADABLE_EVENT = "(not an event name)"

_Record = TypeVar("_Record")


class _Factory:
    """The default shown for a field with a default factory (as dataclasses shows it)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _quick_init(cls: type[_Record]) -> type[_Record]:
    """Give a frozen, slotted dataclass an `__init__` that sets each slot through its own
    descriptor: the same parameters, defaults and result as the generated one, which calls
    `object.__setattr__(self, name, value)` per field (a name look-up each time). An event
    builds a Step, a HistoryEntry and, when refused, a Refusal: this halves what that costs."""
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    params: list[str] = []
    body: list[str] = []
    for spec in fields(cls):  # type: ignore[arg-type]
        name = spec.name
        namespace[f"_set_{name}"] = vars(cls)[name].__set__
        value = name
        if spec.default is not MISSING:
            namespace[f"_default_{name}"] = spec.default
            params.append(f"{name}=_default_{name}")
        elif spec.default_factory is not MISSING:
            namespace[f"_factory_{name}"] = spec.default_factory
            params.append(f"{name}=_FACTORY")
            value = f"_factory_{name}() if {name} is _FACTORY else {name}"
        else:
            params.append(name)
        body.append(f"    _set_{name}(self, {value})")
    text = f"def __init__(self, {', '.join(params)}) -> None:\n" + "\n".join(body) + "\n"
    exec(text, namespace)  # our own text, as dataclasses builds its __init__
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    type.__setattr__(cls, "__init__", init)
    return cls


class RefusalKind(StrEnum):
    """Why an event was refused, as a word a program can act on (the message is for people)."""

    GUARD = "guard"
    WRONG_STATE = "wrong_state"
    UNKNOWN_EVENT = "unknown_event"
    INVALID_PAYLOAD = "invalid_payload"
    ACTION_FAILED = "action_failed"
    FINISHED = "finished"
    NOT_OFFERED = "not_offered"


@_quick_init
@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an event was not taken, in words, with the guard and rule when one refused."""

    kind: RefusalKind
    message: str
    guard: str = ""
    rule: str = ""
    also: tuple[Refusal, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "message": self.message}
        if self.guard:
            out["guard"] = self.guard
        if self.rule:
            out["rule"] = self.rule
        if self.also:
            out["also"] = [r.as_dict() for r in self.also]
        return out


@_quick_init
@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one event: the transition taken, or the refusal."""

    event: str
    source: str
    target: str
    transition: Transition | None = None
    refusal: Refusal | None = None
    #: Every guard checked on the way, as (transition index, guard label, held).
    checks: tuple[tuple[int, str, bool], ...] = ()
    #: The `done.state.<path>` transitions taken after `transition` in the same step, each
    #: with the state it left (a compound state's `final: done` child).
    chained: tuple[tuple[Transition, str], ...] = ()
    #: The calls this step causes (an entered state's `invoke`, a transition's `notify`),
    #: performed after it is kept, never during it (effect_calls.py).
    effects: tuple[EffectCall, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.refusal is None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event": self.event,
            "accepted": self.accepted,
            "from": self.source,
            "to": self.target,
        }
        if self.transition is not None and self.transition.description:
            out["description"] = self.transition.description
        if self.chained:  # a compound state's done events, taken in the same step
            out["then"] = [
                {"event": t.event, "from": left, "to": t.target} for t, left in self.chained
            ]
        if self.refusal is not None:
            out["refusal"] = self.refusal.as_dict()
        return out


@_quick_init
@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of an instance's history; payloads are kept without their secret fields."""

    time: float
    event: str
    source: str
    target: str
    accepted: bool
    payload: Mapping[str, Any] = field(default_factory=dict)
    refusal: Refusal | None = None
    #: Why the payload was left out, when it was (too large, or not JSON data).
    payload_omitted: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": self.time,
            "event": self.event,
            "from": self.source,
            "to": self.target,
            "accepted": self.accepted,
        }
        if self.payload:
            out["payload"] = copy_json(dict(self.payload))
        if self.refusal is not None:
            out["refusal"] = self.refusal.as_dict()
        if self.payload_omitted:
            out["payload_omitted"] = self.payload_omitted
        return out


def history_payload(
    public: Mapping[str, Any], checked: bool = False
) -> tuple[Mapping[str, Any], str]:
    """The payload as history keeps it, or nothing and why: an entry never holds more than
    MAX_HISTORY_PAYLOAD_BYTES (a refused 10 MB payload is not kept 10 MB large).

    `checked`: the payload already passed `check_payload` (strict JSON within the limits), so
    it is not walked a second time."""
    if not public:
        return public, ""
    if not checked and json_problem(public):
        return {}, "not plain JSON data"
    if _json_chars_at_most(public) <= MAX_HISTORY_PAYLOAD_BYTES:
        return public, ""
    size = len(compact_json(public))
    if size > MAX_HISTORY_PAYLOAD_BYTES:
        return {}, f"larger than {MAX_HISTORY_PAYLOAD_BYTES // 1024} KiB"
    return public, ""


#: The longest JSON text of an integer within the safe range, and of any float.
_NUMBER_CHARS = 24


def _json_chars_at_most(fields: Mapping[str, Any]) -> float:
    """An upper bound on the compact JSON length of a flat mapping of text, numbers, booleans
    and nulls (a character takes at most 6 in JSON: `\\u0000`); infinite for anything else,
    which is then measured by writing it."""
    total = 2
    for key, value in fields.items():
        kind = type(value)
        if kind is str:
            total += 6 * len(value) + 3
        elif value is None or kind is bool or kind is int or kind is float:
            total += _NUMBER_CHARS
        else:
            return math.inf
        total += 6 * len(key) + 4
    return total


@_quick_init
@dataclass(frozen=True, slots=True)
class EventOption:
    """An event and whether it can be sent now; `available` is None when it hangs on the payload."""

    event: str
    available: bool | None
    reason: str = ""
    rule: str = ""
    #: What the person may pick for each payload field that offers choices.
    choices: Mapping[str, tuple[Choice, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.event, "available": self.available}
        if self.reason:
            out["reason"] = self.reason
        if self.rule:
            out["rule"] = self.rule
        if self.choices:
            out["choices"] = {f: [c.as_dict() for c in cs] for f, cs in self.choices.items()}
        return out
