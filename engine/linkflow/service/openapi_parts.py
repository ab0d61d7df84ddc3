"""The small pieces every part of the API document is written with: a reference to a
component schema, a JSON or problem+json response, a count. One module, imported by the route
modules and the schemas alike, so none imports another for a helper."""

from __future__ import annotations

from typing import Any

from linkflow.service.problems import MEDIA_TYPE

#: A non-negative integer.
COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema `name`."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: str, description: str) -> dict[str, Any]:
    """A response whose JSON body is the component schema `schema`."""
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def problem_response(description: str) -> dict[str, Any]:
    """A response whose body is an RFC 9457 problem."""
    return {"description": description, "content": {MEDIA_TYPE: {"schema": ref("Problem")}}}
