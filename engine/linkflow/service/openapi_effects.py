"""The `/effects` routes in the API document: their paths and schemas (merged into the
document's by openapi.py and openapi_schemas.py)."""

from __future__ import annotations

from typing import Any

from linkflow.service.openapi_parts import COUNT, json_response, problem_response, ref
from linkflow.service.openapi_schemas import CURSOR_PATTERN, ID_PATTERN

#: An effect's id (`ef_` and 16 hex digits, store/outbox.py).
EFFECT_ID_PATTERN = r"^ef_[0-9a-f]{16}$"
#: Every status an effect may have (store/outbox.py says what each means).
EFFECT_STATUSES = ("pending", "running", "done", "failed", "late", "dead", "cancelled")


EFFECT_SCHEMAS: dict[str, Any] = {
    "Effect": {
        "type": "object",
        "required": ["id", "instance", "kind", "name", "status", "attempts", "idempotency_key"],
        "properties": {
            "id": {"type": "string", "pattern": EFFECT_ID_PATTERN},
            "instance": {"type": "string"},
            "version": {**COUNT, "description": "the instance's version after the step"},
            "index": {**COUNT, "description": "the effect's place among the step's"},
            "kind": {"type": "string", "enum": ["invoke", "notify", "compensate"]},
            "name": {"type": "string"},
            "service": {"type": "string"},
            "method": {"type": "string"},
            "url": {"type": "string"},
            "state": {"type": "string", "description": "the state that invoked ('' if none)"},
            "status": {"type": "string", "enum": list(EFFECT_STATUSES)},
            "attempts": COUNT,
            "max_attempts": COUNT,
            "due": {"type": "number", "description": "when a pending one is attempted next"},
            "last_error": {"type": ["string", "null"]},
            "result": {
                "type": ["object", "null"],
                "description": "the outcome in brief: HTTP status, bytes read, the event an "
                "invoke's answer became, and `late`",
            },
            "idempotency_key": {
                "type": "string",
                "description": "sent as Idempotency-Key on every attempt",
            },
            "created": {"type": "number"},
            "updated": {"type": "number"},
        },
    },
    "EffectPage": {
        "type": "object",
        "required": ["effects", "next_cursor"],
        "properties": {
            "effects": {"type": "array", "items": ref("Effect")},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "pass as `cursor` for the next page; null on the last",
            },
        },
    },
    "InstanceEffects": {
        "type": "object",
        "required": ["instance", "effects"],
        "properties": {
            "instance": {"type": "string"},
            "effects": {"type": "array", "items": ref("Effect")},
        },
    },
}

EFFECT_PATHS: dict[str, Any] = {
    "/effects": {
        "get": {
            "operationId": "listEffects",
            "summary": "The calls steps caused (the outbox), newest first",
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(EFFECT_STATUSES)},
                },
                {
                    "name": "instance",
                    "in": "query",
                    "schema": {"type": "string", "pattern": ID_PATTERN},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "schema": {"type": "string", "pattern": CURSOR_PATTERN},
                },
            ],
            "responses": {
                "200": json_response("EffectPage", "one page"),
                "400": problem_response("a query parameter has a wrong value"),
            },
        }
    },
    "/effects/{id}/retry": {
        "post": {
            "operationId": "retryEffect",
            "summary": "Put a dead or failed effect back to pending (attempts start over)",
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": EFFECT_ID_PATTERN},
                }
            ],
            "responses": {
                "200": json_response("Effect", "pending again"),
                "400": problem_response("not an effect id"),
                "404": problem_response("no effect by that id"),
                "409": problem_response("the effect is neither dead nor failed"),
            },
        }
    },
    "/instances/{id}/effects": {
        "get": {
            "operationId": "instanceEffects",
            "summary": "An instance's effects, in the order its steps caused them",
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": ID_PATTERN},
                }
            ],
            "responses": {
                "200": json_response("InstanceEffects", "its effects"),
                "400": problem_response("not an instance id"),
                "404": problem_response("no instance by that id"),
            },
        }
    },
}
