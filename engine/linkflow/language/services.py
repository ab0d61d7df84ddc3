"""Services a workflow may call: declared once per project (a `services:` file), never with a
secret in them, and carried with each workflow that uses them.

A `Service` says where a call goes (base URL, method, a path template of CEL expressions over
the instance's data), how long it may take, how often it is tried again, where its secret is
read from (an environment variable or a file, read only by the process that makes the call),
and which fields of its JSON answer the workflow may read. The models are frozen values: the
runtime turns them into `EffectCall`s (runtime/effect_calls.py), the store writes those to its
outbox, and a worker performs them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from linkflow.source import SourceLocation

#: What a header value may hold: visible ASCII, spaces and tabs (no line break, no NUL). The
#: loader holds declared headers to it, the worker the secrets it reads.
HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failed attempt is tried again: exponential backoff with full jitter, capped.

    Only timeouts, connection errors, 5xx and 429 are tried again (a 429's or 503's
    `Retry-After` replaces the computed delay when it is longer); any other 4xx ends the call.
    """

    #: Attempts in all, the first included; 1 means never try again.
    attempts: int = 5
    #: Seconds before the second attempt; each later wait is `factor` times the one before.
    initial: float = 1.0
    factor: float = 2.0
    #: No wait is longer than this many seconds.
    max_delay: float = 60.0

    def delay(self, attempt: int) -> float:
        """The most to wait after failed attempt number `attempt` (1-based), before jitter."""
        return float(min(self.max_delay, self.initial * self.factor ** max(0, attempt - 1)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "initial": self.initial,
            "factor": self.factor,
            "max_delay": self.max_delay,
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> RetryPolicy:
        return cls(
            int(value.get("attempts", 5)),
            float(value.get("initial", 1.0)),
            float(value.get("factor", 2.0)),
            float(value.get("max_delay", 60.0)),
        )


@dataclass(frozen=True, slots=True)
class Auth:
    """Where a service's secret is found, never the secret itself.

    `scheme` is `bearer` (`Authorization: Bearer <secret>`) or `header` (`<header>: <secret>`).
    Exactly one of `env` (an environment variable's name) and `secret_file` (a file's path,
    relative to the services file's folder when not absolute) is set.
    """

    scheme: str = "bearer"
    env: str = ""
    secret_file: str = ""
    header: str = "Authorization"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"scheme": self.scheme, "header": self.header}
        if self.env:
            out["env"] = self.env
        if self.secret_file:
            out["secret_file"] = self.secret_file
        return out

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Auth:
        return cls(
            str(value.get("scheme", "bearer")),
            str(value.get("env", "")),
            str(value.get("secret_file", "")),
            str(value.get("header", "Authorization")),
        )


@dataclass(frozen=True, slots=True)
class Service:
    """One declared service (see the module docstring)."""

    name: str
    location: SourceLocation
    base_url: str
    method: str = "POST"
    #: The path after `base_url`; `{...}` holds a CEL expression over `data` (and `payload`).
    path: str = ""
    #: Headers sent as written (no secret may be written here: use `auth`).
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: Auth | None = None
    #: Seconds for one attempt, connecting included.
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: The fields of the JSON object answer that the workflow may read, each with its JSON
    #: Schema; they become the payload of the `<name>.done` event.
    response: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
