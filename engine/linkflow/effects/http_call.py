"""One attempt of one effect: an HTTP call with httpx, and how it ended (`Attempt`).

Kept apart from the worker (worker.py) so that what a call sends and how its end is classified
can be read, and tested, on its own:

- headers: those the call declares, `Idempotency-Key` (the same on every attempt), and the
  service's secret, read at call time from the environment variable or file its `Auth` names;
  the secret is put in the request only, never in an error, a log line or a stored result;
- the whole attempt (connect, send, answer) is bounded by the call's `timeout`;
- answers are asked for uncompressed (`Accept-Encoding: identity`), and a compressed one is
  unreadable, never unpacked;
- at most `MAX_BODY` bytes of an answer are read: a longer one ends the attempt as a failure
  with a reason, not as memory spent;
- an answer's body is read by the engine's strict JSON reader: text that is not UTF-8, not
  JSON, nested deeper than the engine takes, with NaN, duplicate keys or a lone surrogate is
  no JSON (`Attempt.unreadable` says why), never an error of the worker;
- timeouts, connection errors, 5xx and 429 may be tried again (`retry`), with the answer's
  `Retry-After` (seconds or an HTTP date) when it gives one; any other answer is final.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from linkflow.language.json_text import JsonRefused, read_json
from linkflow.language.services import HEADER_VALUE, Auth
from linkflow.runtime.effect_calls import EffectCall

#: The most of an answer's body read (1 MiB): more is a failure, not a memory blow-up.
MAX_BODY = 1 << 20
#: A Retry-After longer than this is cut to it (a server asking for a day is not obeyed).
MAX_RETRY_AFTER = 3600.0
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: What kind of failure an attempt met (`Attempt.failure`): none ("", an answer was read),
#: no answer in time, no connection, a status that may be retried (5xx, 429), an answer too
#: long, a secret missing, a request that cannot be sent as it is.
TIMEOUT, CONNECTION, STATUS, TOO_LONG, SECRET, REFUSED = (
    "timeout",
    "connection",
    "status",
    "too_long",
    "secret",
    "refused",
)


class SecretMissing(Exception):
    """The secret a call needs cannot be read; the message says where it was looked for,
    never what a secret is."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one attempt ended."""

    #: The answer's HTTP status, None when no answer came (or none could be sent).
    status: int | None
    #: The answer's JSON body (None when empty or not JSON).
    body: Any = None
    #: Why it failed, in words ("" when an answer was read); never holds a secret.
    error: str = ""
    #: Whether trying again may help (timeouts, connection errors, 5xx, 429).
    retry: bool = False
    #: Seconds the answer's Retry-After asked for, if it did.
    retry_after: float | None = None
    #: Bytes of body read.
    size: int = 0
    #: The kind of failure (TIMEOUT, CONNECTION, STATUS, TOO_LONG, SECRET, REFUSED), "" for
    #: none.
    failure: str = ""
    #: Why a body that is not empty is not JSON ("" when it is, or is empty); never a value.
    unreadable: str = ""

    @property
    def answered(self) -> bool:
        """An answer was read in full (any status)."""
        return self.status is not None and not self.error


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None; at most
    `MAX_RETRY_AFTER`."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def read_secret(auth: Auth, service: str) -> str:
    """The secret `auth` names, read now (a rotated file or variable takes effect at the next
    call); SecretMissing when it is unset, empty or unreadable."""
    if auth.env:
        value = os.environ.get(auth.env, "").strip()
        if not value:
            raise SecretMissing(
                f"the secret of service '{service}' is missing: environment variable "
                f"{auth.env} is not set or empty"
            )
        return _sendable(value, service, f"environment variable {auth.env}")
    if auth.secret_file:
        path = Path(auth.secret_file).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise SecretMissing(
                f"the secret of service '{service}' is missing: cannot read {path} ({err.strerror})"
            ) from None
        except UnicodeDecodeError:
            raise SecretMissing(f"the secret file {path} of '{service}' is not text") from None
        if not value:
            raise SecretMissing(f"the secret of service '{service}' is missing: {path} is empty")
        return _sendable(value, service, str(path))
    raise SecretMissing(f"service '{service}' names no environment variable or secret file")


def _sendable(secret: str, service: str, where: str) -> str:
    """The secret, when a header can carry it: one line of visible ASCII. Else SecretMissing
    (a line break would end the header and start another one; httpx or h11 refuse it at send
    time, which would read as a connection failure tried again and again)."""
    if HEADER_VALUE.fullmatch(secret):
        return secret
    raise SecretMissing(
        f"the secret of service '{service}' ({where}) is not one line of visible ASCII: it "
        "cannot be sent in a header"
    )


def request_headers(call: EffectCall, key: str) -> dict[str, str]:
    """What one attempt sends as headers (SecretMissing when its secret cannot be read)."""
    headers = dict(call.headers)
    headers[IDEMPOTENCY_HEADER] = key
    # The body is read as it comes (`aiter_raw`, bounded by MAX_BODY): an answer compressed
    # because the client offered it (httpx offers gzip and deflate) would be unreadable, and
    # could unpack to far more than it weighs.
    headers["Accept-Encoding"] = "identity"
    if call.body is not None:
        headers.setdefault("Content-Type", "application/json")
    if call.auth is not None:
        secret = read_secret(call.auth, call.service)
        if call.auth.scheme == "bearer":
            headers["Authorization"] = f"Bearer {secret}"
        else:
            headers[call.auth.header] = secret
    return headers


async def _read_body(answer: httpx.Response) -> tuple[bytes, bool]:
    """The answer's body, at most MAX_BODY bytes; True when it was longer."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in answer.aiter_raw():
        size += len(chunk)
        if size > MAX_BODY:
            return b"", True
        chunks.append(chunk)
    return b"".join(chunks), False


def _json(raw: bytes) -> tuple[Any, str]:
    """An answer's JSON value (None when empty or not JSON), and why it is not JSON."""
    if not raw.strip():
        return None, ""
    try:
        return read_json(raw.decode("utf-8")), ""
    except UnicodeDecodeError:
        return None, "it is not UTF-8 text"
    except JsonRefused as err:
        return None, err.reason if err.kind != "syntax" else "it is not JSON"


async def perform(  # noqa: PLR0911 - a return per way an attempt ends
    client: httpx.AsyncClient, call: EffectCall, key: str
) -> Attempt:
    """Make one attempt of `call` with `key` as its Idempotency-Key."""
    try:
        headers = request_headers(call, key)
    except SecretMissing as err:
        return Attempt(None, error=str(err), failure=SECRET)
    try:
        content = None if call.body is None else json.dumps(call.body).encode("utf-8")
        request = client.build_request(
            call.method, call.url, headers=headers, content=content, timeout=call.timeout
        )
    except (ValueError, httpx.InvalidURL) as err:  # UnicodeEncodeError is a ValueError
        # a header the secret makes unsendable (a line break, non-ASCII), a URL httpx refuses
        error = f"the request cannot be sent ({type(err).__name__})"
        return Attempt(None, error=error, failure=REFUSED)
    try:
        async with asyncio.timeout(call.timeout):
            answer = await client.send(request, stream=True)
            try:
                raw, too_long = await _read_body(answer)
            finally:
                await answer.aclose()
    except (TimeoutError, httpx.TimeoutException):
        error = f"no answer within {call.timeout:g} s"
        return Attempt(None, error=error, retry=True, failure=TIMEOUT)
    except httpx.HTTPError as err:
        error = f"connection failed ({type(err).__name__})"
        return Attempt(None, error=error, retry=True, failure=CONNECTION)
    status = answer.status_code
    if too_long:
        error = f"the answer is longer than {MAX_BODY} bytes"
        return Attempt(status, error=error, failure=TOO_LONG)
    if answer.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        body, unreadable = (
            None,
            "it is compressed (Content-Encoding), though the worker asked for none",
        )
    else:
        body, unreadable = _json(raw)
    if status == 429 or status >= 500:
        wait = retry_after(answer.headers.get("retry-after"), datetime.now(UTC))
        return Attempt(
            status,
            body,
            f"the service answered HTTP {status}",
            retry=True,
            retry_after=wait,
            size=len(raw),
            failure=STATUS,
            unreadable=unreadable,
        )
    return Attempt(status, body, size=len(raw), unreadable=unreadable)
