"""Reading a JSON request body with bounds: media type, size, depth, duplicate keys.

Each bound is checked before the body reaches the engine, so a hostile request costs little and
changes nothing. Messages name the bound, never the content.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from linkflow.service.problems import ServiceProblem

JSON_TYPES = ("application/json",)


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def _is_json(header: str) -> bool:
    media = _media_type(header)
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("a key appears twice in one object")
        out[key] = value
    return out


def depth_of(value: Any, limit: int) -> int:
    """How deeply `value` nests (a scalar is 0), counting no further than `limit` + 1.

    Iterative, so a deep document cannot exhaust the interpreter's stack.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ServiceProblem("invalid-parameter", "Content-Length must be a number of bytes")
        if int(declared) > limit:
            raise ServiceProblem(
                "body-too-large", f"the body is larger than {limit} bytes", limit=limit
            )
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
        shown = _media_type(content_type) or "none"
        if not shown.isprintable() or len(shown) > 100:
            shown = "an unreadable media type"
        raise ServiceProblem(
            "unsupported-media-type",
            f"send the body as application/json (got {shown})",
            headers={"Accept-Post": "application/json"},
        )
    raw = await read_body(request, limit)
    if not raw.strip():
        raise ServiceProblem("malformed-json", "the body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ServiceProblem("malformed-json", "the body is not UTF-8 text") from None
    except RecursionError:
        raise ServiceProblem(
            "json-too-deep", f"the body nests deeper than {max_depth} levels", limit=max_depth
        ) from None
    except json.JSONDecodeError as err:
        raise ServiceProblem(
            "malformed-json",
            f"the body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}",
        ) from None
    except ValueError as err:
        raise ServiceProblem("malformed-json", f"the body is not valid JSON: {err}") from None
    if depth_of(value, max_depth) > max_depth:
        raise ServiceProblem(
            "json-too-deep", f"the body nests deeper than {max_depth} levels", limit=max_depth
        )
    return value
