"""Reading a JSON request body with bounds: media type, size, then the one strict JSON reader
(linkflow.language.json_text: depth, duplicate keys, numbers, surrogates).

Each bound is checked before the body reaches the engine, so a hostile request costs little and
changes nothing. Messages name the bound and where in the body, never the content.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from linkflow.language import json_text
from linkflow.service.limits import BODY_KEY
from linkflow.service.problems import ServiceProblem

JSON_TYPES = ("application/json",)


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def _is_json(header: str) -> bool:
    media = _media_type(header)
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit` bytes; the body the load
    shedder already read (`ConcurrencyLimit`) when there is one, else read from the stream."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise ServiceProblem("invalid-parameter", "Content-Length must be a number of bytes")
        if len(declared) > 18 or int(declared) > limit:  # int() refuses over 4,300 digits
            raise ServiceProblem(
                "body-too-large", f"the body is larger than {limit} bytes", limit=limit
            )
    read = request.scope.get(BODY_KEY)
    if isinstance(read, bytes):  # read whole already, within its limit and deadline
        if len(read) > limit:
            raise ServiceProblem(
                "body-too-large", f"the body is larger than {limit} bytes", limit=limit
            )
        return read
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ServiceProblem(
                "body-too-large", f"the body is larger than {limit} bytes", limit=limit
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, *, limit: int, max_depth: int) -> Any:
    """The parsed JSON body, or a ServiceProblem saying which bound it broke."""
    content_type = request.headers.get("content-type", "")
    if not _is_json(content_type):
        got = "no Content-Type" if not content_type.strip() else "another media type"
        raise ServiceProblem(
            "unsupported-media-type",
            f"send the body as application/json (got {got})",
            headers={"Accept-Post": "application/json"},
        )
    raw = await read_body(request, limit)
    if not raw.strip():
        raise ServiceProblem("malformed-json", "the body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceProblem("malformed-json", "the body is not UTF-8 text") from None
    try:
        return json_text.read_json(text, max_depth=max_depth)
    except json_text.JsonRefused as err:
        if err.kind == "too-deep":
            raise ServiceProblem(
                "json-too-deep", f"the body nests deeper than {max_depth} levels", limit=max_depth
            ) from None
        raise ServiceProblem("malformed-json", f"the body is not valid JSON: {err}") from None
