"""The studio's request bodies: one reader, so every endpoint refuses a bad body the same way.

A bad body gets a 4xx with the reason in words and changes nothing; the body itself is never
echoed back or logged.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from linkflow.studio.playground import payload_size_ok


class BadRequest(Exception):
    """The request itself is malformed (not JSON, too big, wrong shape): a 400 or 413."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not payload_size_ok(body):
        raise BadRequest("the request is too large", 413)
    try:
        value = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("the request body is not valid JSON") from None
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None
    if not isinstance(value, dict):
        raise BadRequest("the request body must be a JSON object")
    return value
