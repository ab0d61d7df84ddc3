"""What a step asks of the outside world: `EffectCall`s, frozen and free of secrets.

A step never performs a call. It returns the calls it causes (`Step.effects`); a durable store
writes them to its outbox in the step's own transaction, and a worker performs them later,
sending the answer back as an event through the same exactly-once path as any other event:

- an `invoke` (a state calling a service when it is entered) answers with `<name>.done`, whose
  payload holds the answer's declared fields and `status`, or `<name>.failed`, whose payload
  holds `status` (null when no answer came) and `reason`;
- a `notify` (fired by a transition) and a `compensate` (run when a state that invoked is left
  by cancelling after its call succeeded) need no answer: their outcome is recorded only.

`result_event` is the one place where an answer becomes an event, so scenario stubs and the
worker agree on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from linkflow.language.schema import describe, fragment_validator
from linkflow.language.services import Auth, RetryPolicy

#: The kinds of effect (see the module docstring).
INVOKE, NOTIFY, COMPENSATE = "invoke", "notify", "compensate"

DONE_SUFFIX = ".done"
FAILED_SUFFIX = ".failed"

#: The reasons of a `.failed` that came with no answer, once the attempts are used up: the
#: worker and the scenario stubs (`fail: timeout`, `fail: connection`) give the same words.
TIMEOUT_REASON = "no answer within the service's timeout"
CONNECTION_REASON = "the service could not be reached"

_JSON_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


@dataclass(frozen=True, slots=True)
class EffectCall:
    """One call, resolved from the instance's data when the step was taken."""

    kind: str
    #: The invoke's name (result events are `<name>.done` and `<name>.failed`); for a notify
    #: or compensate, a name for people and logs.
    name: str
    service: str
    method: str
    url: str
    #: Headers as declared (never a secret: `auth` says where the worker reads that).
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The JSON body, or None for none (never a secret field).
    body: Any = None
    #: The state whose entry invoked (a late answer, after it was left, is ignored).
    state: str = ""
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    auth: Auth | None = None
    #: The declared fields of the answer, each with its JSON Schema.
    response: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def answers(self) -> bool:
        """Whether the answer comes back to the instance as an event (invoke only)."""
        return self.kind == INVOKE

    def as_dict(self) -> dict[str, Any]:
        """The outbox's JSON form (`from_dict` reads it back)."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "service": self.service,
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
            "body": self.body,
            "state": self.state,
            "timeout": self.timeout,
            "retry": self.retry.as_dict(),
            "response": {k: dict(v) for k, v in self.response.items()},
        }
        if self.auth is not None:
            out["auth"] = self.auth.as_dict()
        return out

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> EffectCall:
        auth = value.get("auth")
        return cls(
            kind=str(value["kind"]),
            name=str(value["name"]),
            service=str(value["service"]),
            method=str(value["method"]),
            url=str(value["url"]),
            headers=dict(value.get("headers") or {}),
            body=value.get("body"),
            state=str(value.get("state", "")),
            timeout=float(value.get("timeout", 10.0)),
            retry=RetryPolicy.from_dict(value.get("retry") or {}),
            auth=None if auth is None else Auth.from_dict(auth),
            response=dict(value.get("response") or {}),
        )


def failed_event(call: EffectCall, status: int | None, reason: str) -> tuple[str, dict[str, Any]]:
    """The event of an invoke that ended without a usable answer."""
    return call.name + FAILED_SUFFIX, {"status": status, "reason": reason}


def result_event(call: EffectCall, status: int, body: Any) -> tuple[str, dict[str, Any]]:
    """The event an invoke's final HTTP answer becomes: `<name>.done` for a 2xx whose JSON
    body is an object holding every declared field, each valid against its declared JSON
    Schema (only those fields are kept, with `status`), else `<name>.failed` with the status
    and the reason in words. The reason never repeats a value of the answer: it is kept in
    history and may be shown to anyone who reads the instance."""
    if not 200 <= status < 300:
        return failed_event(call, status, f"the service answered HTTP {status}")
    if not call.response:
        return call.name + DONE_SUFFIX, {"status": status}
    if not isinstance(body, dict):
        return failed_event(call, status, "the answer is not a JSON object")
    payload: dict[str, Any] = {}
    for name, schema in call.response.items():
        if name not in body:
            return failed_event(call, status, f"the answer has no field '{name}'")
        value = body[name]
        problem = _field_problem(schema, value)
        if problem:
            return failed_event(call, status, f"the answer's field '{name}' {problem}")
        payload[name] = value
    payload["status"] = status
    return call.name + DONE_SUFFIX, payload


def _field_problem(schema: Mapping[str, Any], value: Any) -> str:
    """Why `value` does not hold to a declared response field's schema, or ''."""
    wanted = schema.get("type")
    kinds = _JSON_TYPES.get(wanted) if isinstance(wanted, str) else None
    if kinds is not None and (
        not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)
    ):
        return f"is not {wanted}"
    if set(schema) <= {"type", "description"}:  # the short form: the type said it all
        return ""
    errors = sorted(
        _validator(json.dumps(schema, sort_keys=True)).iter_errors(value),
        key=lambda e: list(e.absolute_path),
    )
    return describe(errors[0], secret_safe=True) if errors else ""


@cache
def _validator(schema_text: str) -> Any:
    """The explaining validator of a response field's schema, built once per schema."""
    return fragment_validator(json.loads(schema_text))
