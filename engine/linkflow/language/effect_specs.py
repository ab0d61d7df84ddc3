"""What a workflow says about the calls it makes, as written: a state's `invoke` and a
transition's `notify`, each naming a declared service (language/services.py) and the JSON body
to send, every value a compiled CEL expression.

They are kept apart from the states and transitions they belong to (`Workflow.invokes` by state
path, `Workflow.notifies` by transition index): a workflow that calls nothing carries two empty
mappings, and nothing on the event path looks at them (runtime/effect_plans.py plans the calls
once per definition).
"""

from __future__ import annotations

from dataclasses import dataclass

from linkflow.language.expressions import Expression
from linkflow.source import SourceLocation

#: The payload of `<name>.failed`: the HTTP status (null when no answer came) and why, in words.
FAILED_PAYLOAD_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": ["integer", "null"]},
        "reason": {"type": "string"},
    },
    "required": ["status", "reason"],
    "additionalProperties": False,
}


@dataclass(frozen=True, slots=True)
class EffectSpec:
    """One call as the workflow writes it: which service, under which name, with which body."""

    service: str
    #: For an invoke, the name of its result events (`<name>.done`, `<name>.failed`); for a
    #: notify, the service's name.
    name: str
    #: The body's fields, in the order written, each with the expression that gives its value.
    body: tuple[tuple[str, Expression], ...]
    location: SourceLocation
    #: False when the workflow writes no `with:` (the call then sends no body).
    has_body: bool = False


def done_event(name: str) -> str:
    """The event an invoke named `name` answers with when its call succeeded."""
    return f"{name}.done"


def failed_event_name(name: str) -> str:
    """The event an invoke named `name` answers with when its call did not succeed."""
    return f"{name}.failed"


def done_payload_schema(response: dict[str, dict[str, object]]) -> dict[str, object]:
    """The payload schema of `<name>.done`: the declared response fields and `status`."""
    return {
        "type": "object",
        "properties": {**response, "status": {"type": "integer"}},
        "required": [*response, "status"],
        "additionalProperties": False,
    }
