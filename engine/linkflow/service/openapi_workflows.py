"""The parts of the OpenAPI document that depend on the served workflows: each workflow's
start data, start request and events as component schemas, and the operations narrowed to
them, so a client (or a generator such as Schemathesis) sees the names and fields that exist.

Apart from `openapi.py` so that module keeps the fixed paths and schemas, and this one the
per-project ones; numbers are bounded as the service bounds a body (MAX_SAFE_INTEGER).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from linkflow.language.model import Event, Workflow
from linkflow.language.workflow_builder import TIMEOUT_EVENT
from linkflow.language.yaml_loader import MAX_SAFE_INTEGER
from linkflow.service.openapi_parts import ref

#: Integers in a request body are refused beyond this, either way (MAX_SAFE_INTEGER).
_JSON_VALUE: dict[str, Any] = {
    "description": "any JSON value; integers within -9007199254740991 to 9007199254740991 "
    "(a body nests at most 32 levels deep)",
    "anyOf": [
        {"type": ["string", "boolean", "null"]},
        {"type": "number", "minimum": -MAX_SAFE_INTEGER, "maximum": MAX_SAFE_INTEGER},
        {"type": "array", "items": ref("JsonValue")},
        {"type": "object", "additionalProperties": ref("JsonValue")},
    ],
}
_NUMBERS = {"integer", "number"}
_COMBINATORS = ("anyOf", "oneOf", "allOf", "not", "$ref", "const", "enum")


def _bounded(schema: Any) -> Any:
    """A workflow's JSON Schema as the service applies it to a body: numbers within the safe
    range, and containers whose items are left open made of JSON values (same bounds)."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "$defs"):
            out[key] = {name: _bounded(sub) for name, sub in value.items()}
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            out[key] = [_bounded(sub) for sub in value]
        elif key in ("items", "additionalProperties", "not", "contains"):
            out[key] = _bounded(value)
        else:
            out[key] = value
    kinds = out.get("type")
    kinds = {kinds} if isinstance(kinds, str) else set(kinds or ())
    if not kinds and not any(key in out for key in _COMBINATORS):
        return {**out, **ref("JsonValue")}
    if kinds & _NUMBERS:
        if "maximum" not in out and "exclusiveMaximum" not in out:
            out["maximum"] = MAX_SAFE_INTEGER
        if "minimum" not in out and "exclusiveMinimum" not in out:
            out["minimum"] = -MAX_SAFE_INTEGER
    if "array" in kinds and "items" not in out and "prefixItems" not in out:
        out["items"] = ref("JsonValue")
    if "object" in kinds and "additionalProperties" not in out:
        out["additionalProperties"] = ref("JsonValue")
    return out


def _component(prefix: str, name: str) -> str:
    return f"{prefix}.{name}"


def _payload_schema(event: Event) -> tuple[dict[str, Any], bool]:
    """The `payload` an event takes, and whether it must be sent (an event without a schema
    takes none; one whose schema requires fields cannot do without)."""
    if event.payload_schema is None:
        return {"type": "object", "maxProperties": 0, "description": "takes no payload"}, False
    schema = _bounded(dict(event.payload_schema))
    return schema, bool(schema.get("required")) or bool(schema.get("minProperties"))


def workflow_schemas(
    workflows: Mapping[str, Workflow], start_id: Mapping[str, Any]
) -> dict[str, Any]:
    """Per served workflow: the start data it takes (`Data.<name>`), its start request
    (`Start.<name>`) and the event requests it takes (`Event.<name>`)."""
    schemas: dict[str, Any] = {"JsonValue": _JSON_VALUE}
    for name in sorted(workflows):
        workflow = workflows[name]
        schemas[_component("Data", name)] = {
            "type": "object",
            "additionalProperties": False,
            "description": f"the data fields of '{name}' (all optional)",
            "properties": {
                field: _bounded(dict(workflow.data_types.get(field, {})))
                for field in sorted(workflow.data)
            },
        }
        schemas[_component("Start", name)] = {
            "type": "object",
            "additionalProperties": False,
            "required": ["workflow"],
            "properties": {
                "workflow": {"const": name},
                "data": ref(_component("Data", name)),
                "id": dict(start_id),
            },
        }
        variants = []
        for event in workflow.events.values():
            if event.name == TIMEOUT_EVENT:
                continue
            payload, needed = _payload_schema(event)
            variants.append(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["event", "payload"] if needed else ["event"],
                    "properties": {"event": {"const": event.name}, "payload": payload},
                }
            )
        schemas[_component("Event", name)] = {
            "description": f"an event of '{name}', sent to one of its instances",
            **({"anyOf": variants} if variants else {"not": {}}),
        }
    return schemas


def narrow_paths(paths: dict[str, Any], workflows: Mapping[str, Workflow]) -> None:
    """Narrow the operations that name a workflow or carry its data to the served ones."""
    names = sorted(workflows)
    for path in ("/workflows/{name}", "/workflows/{name}/diagram.svg"):
        operation = paths[path]["get"]
        operation["parameters"] = [
            {**p, "schema": {"type": "string", "enum": names}} if p["name"] == "name" else p
            for p in operation["parameters"]
        ]
    start = paths["/instances"]["post"]
    start["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [ref(_component("Start", n)) for n in names],
                    "discriminator": {
                        "propertyName": "workflow",
                        "mapping": {
                            n: f"#/components/schemas/{_component('Start', n)}" for n in names
                        },
                    },
                }
            }
        },
    }
    send = paths["/instances/{id}/events"]["post"]
    send["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "description": "an event of the instance's workflow (another workflow's "
                    "event is a 422)",
                    "anyOf": [ref(_component("Event", n)) for n in names],
                }
            }
        },
    }
