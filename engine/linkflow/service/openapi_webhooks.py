"""The `/webhooks` routes in the API document: their paths and schemas (merged into the
document's by openapi.py and openapi_schemas.py). The request schema is also what the service
checks bodies with."""

from __future__ import annotations

from typing import Any

from linkflow.service.openapi_parts import COUNT, json_response, problem_response, ref

#: A subscriber's id (`wh_` and 16 hex digits, store/webhooks.py).
WEBHOOK_ID_PATTERN = r"^wh_[0-9a-f]{16}$"
#: An event pattern: `*`, `workflow:GLOB`, `event:GLOB`, `outcome:GLOB` or a bare GLOB (the
#: event name); no control character.
EVENT_PATTERN = (
    r"^((workflow|event|outcome):[^\x00-\x1f\x7f-\x9f]{1,200}|[^:\x00-\x1f\x7f-\x9f]{1,200})$"
)


WEBHOOK_SCHEMAS: dict[str, Any] = {
    "WebhookRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["url", "events", "secret_file"],
        "properties": {
            "url": {
                "type": "string",
                "pattern": r"^https?://[^\x00-\x20\x7f-\x9f]{1,2000}$",
                "description": "where feed entries are POSTed",
            },
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": {"type": "string", "pattern": EVENT_PATTERN},
                "description": "'*', workflow:GLOB, event:GLOB, outcome:GLOB or a bare GLOB "
                "(the event name); an entry matching any is sent",
            },
            "secret_file": {
                "type": "string",
                "pattern": r"^/[^\x00-\x1f\x7f-\x9f]{1,1000}$",
                "description": "absolute path, on the service's host, of a file holding the "
                "signing secret ('whsec_' + base64); the store keeps the path, never the "
                "secret",
            },
            "after": {
                "type": "integer",
                "minimum": 0,
                "maximum": 2**53 - 1,  # the JSON reader's largest integer
                "description": "send the entries after this feed number (default: from now)",
            },
        },
    },
    "Webhook": {
        "type": "object",
        "required": ["id", "url", "events", "secret_file", "delivered", "pending", "dead"],
        "properties": {
            "id": {"type": "string", "pattern": WEBHOOK_ID_PATTERN},
            "url": {"type": "string"},
            "events": {"type": "array", "items": {"type": "string"}},
            "secret_file": {"type": "string", "description": "the path only"},
            "created": {"type": "number"},
            "scanned": {**COUNT, "description": "the feed number read up to"},
            "delivered": COUNT,
            "last_delivered": {"type": ["integer", "null"]},
            "pending": {**COUNT, "description": "waiting for their first attempt"},
            "retrying": {**COUNT, "description": "failed, to be tried again"},
            "dead": {**COUNT, "description": "given up; POST .../retry requeues them"},
            "failures": {**COUNT, "description": "failed attempts so far"},
            "last_error": {"type": ["string", "null"]},
        },
    },
    "WebhookList": {
        "type": "object",
        "required": ["webhooks"],
        "properties": {"webhooks": {"type": "array", "items": ref("Webhook")}},
    },
    "WebhookRequeued": {
        "type": "object",
        "required": ["id", "requeued"],
        "properties": {
            "id": {"type": "string", "pattern": WEBHOOK_ID_PATTERN},
            "requeued": COUNT,
        },
    },
}

_ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": WEBHOOK_ID_PATTERN},
}

WEBHOOK_PATHS: dict[str, Any] = {
    "/webhooks": {
        "get": {
            "operationId": "listWebhooks",
            "summary": "Webhook subscribers with their delivery state",
            "responses": {"200": json_response("WebhookList", "every subscriber")},
        },
        "post": {
            "operationId": "addWebhook",
            "summary": "Add a subscriber: matching feed entries are POSTed to it, signed",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("WebhookRequest")}},
            },
            "responses": {
                "201": {
                    **json_response("Webhook", "added"),
                    "links": {
                        "RemoveWebhook": {
                            "operationId": "removeWebhook",
                            "parameters": {"id": "$response.body#/id"},
                        },
                        "RetryWebhook": {
                            "operationId": "retryWebhook",
                            "parameters": {"id": "$response.body#/id"},
                        },
                    },
                },
                "422": problem_response(
                    "the secret file cannot be read or holds no webhook secret"
                ),
            },
        },
    },
    "/webhooks/{id}": {
        "delete": {
            "operationId": "removeWebhook",
            "summary": "Remove a subscriber and its pending and dead deliveries",
            "parameters": [_ID_PARAM],
            "responses": {
                "204": {"description": "removed"},
                "404": problem_response("no subscriber by that id"),
            },
        }
    },
    "/webhooks/{id}/retry": {
        "post": {
            "operationId": "retryWebhook",
            "summary": "Requeue the subscriber's dead deliveries",
            "parameters": [_ID_PARAM],
            "responses": {
                "200": json_response("WebhookRequeued", "how many were requeued"),
                "404": problem_response("no subscriber by that id"),
            },
        }
    },
}
