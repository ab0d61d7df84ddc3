"""The studio's request bodies: one reader, so every endpoint refuses a bad body the same way.

A bad body gets a 4xx with the reason in words and changes nothing; the body itself is never
echoed back or logged.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from linkflow.language import json_text
from linkflow.studio.playground import payload_size_ok


class BadRequest(Exception):
    """The request itself is malformed (not JSON, too big, wrong shape): a 400 or 413;
    `field` names the body's field at fault, when one is."""

    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field

    def answer(self) -> dict[str, str]:
        """The problem's JSON: the reason in words, and the field when there is one."""
        return {"error": str(self), **({"field": self.field} if self.field else {})}


async def read_json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not payload_size_ok(body):
        raise BadRequest("the request is too large", 413)
    try:
        value = json_text.read_json(body.decode("utf-8")) if body else {}
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 text") from None
    except json_text.JsonRefused as err:
        raise BadRequest(f"the request body is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise BadRequest("the request body must be a JSON object")
    return value
