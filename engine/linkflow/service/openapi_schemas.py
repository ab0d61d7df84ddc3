"""The OpenAPI document's fixed component schemas and the patterns the service checks with:
one place for each, so the document and the checks cannot disagree (`openapi.py` builds the
paths and the per-service document from them)."""

from __future__ import annotations

from typing import Any

from linkflow.service.openapi_parts import ref
from linkflow.service.openapi_webhooks import WEBHOOK_SCHEMAS
from linkflow.service.problems import TYPES

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
KEY_PATTERN = r"^[!-~]{1,200}$"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"
#: A page cursor: where the page before ended (its last instance's creation time and id).
CURSOR_PATTERN = (
    r"^-?[0-9]{1,17}(\.[0-9]{1,17})?(e[+-]?[0-9]{1,2})?~[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
)
#: A filter of the instance listing: 1 to 200 characters, no control character.
FILTER_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]{1,200}$"
#: A data filter of the instance listing: FIELD=VALUE, FIELD a dotted path of names
#: (store/listing.py), VALUE read as a JSON scalar when it is one, else as text.
DATA_FILTER_PATTERN = (
    r"^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}"
    r"=[^\x00-\x1f\x7f-\x9f]{0,200}$"
)
DATA_RULE = (
    "a data filter is FIELD=VALUE: FIELD names of letters, digits and _ joined by dots, "
    "VALUE up to 200 characters without control characters"
)
#: A time in seconds since the epoch, as a query parameter: a decimal number.
NUMBER_PATTERN = r"^-?[0-9]{1,17}(\.[0-9]{1,17})?([eE][+-]?[0-9]{1,2})?$"
#: Who does an operator action: 1 to 200 characters, no control character, not only spaces.
OPERATOR_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
#: The largest feed number a request may name (18 digits).
MAX_FEED_NUMBER = 10**18 - 1

_JSON_OBJECT: dict[str, Any] = {"type": "object"}


SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; branch on `type`, a stable URN.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "enum": sorted(t.uri for t in TYPES.values())},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "limit": {
                "type": "integer",
                "description": "the bound passed: bytes for body-too-large, levels for "
                "json-too-deep",
            },
            "event": {"type": "string", "description": "invalid-payload: the event sent"},
            "current_version": {
                "type": "integer",
                "description": "version-mismatch: the instance's version now (its ETag)",
            },
        },
        "additionalProperties": False,
    },
    "VersionMismatch": {
        "description": "A stale If-Match: `current_version` is the version to read again at.",
        "allOf": [ref("Problem"), {"required": ["current_version"]}],
    },
    "WorkflowBrief": {
        "type": "object",
        "required": ["name", "title", "initial", "states", "events"],
        "properties": {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "initial": {"type": "string"},
            "states": {"type": "integer"},
            "events": {"type": "integer"},
        },
    },
    "WorkflowList": {
        "type": "object",
        "required": ["workflows"],
        "properties": {"workflows": {"type": "array", "items": ref("WorkflowBrief")}},
    },
    "Workflow": {
        "type": "object",
        "required": ["name", "title", "initial", "states", "events", "guards", "transitions"],
        "properties": {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "initial": {"type": "string"},
            "rules": {"type": "array", "items": {"type": "string"}},
            "data": {"type": "array", "items": {"type": "string"}},
            "states": {"type": "array", "items": _JSON_OBJECT},
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "payload", "secret", "schema"],
                    "properties": {
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "payload": {"type": "array", "items": {"type": "string"}},
                        "secret": {"type": "array", "items": {"type": "string"}},
                        "schema": {"type": ["object", "null"]},
                    },
                },
            },
            "guards": {"type": "array", "items": _JSON_OBJECT},
            "transitions": {"type": "array", "items": _JSON_OBJECT},
        },
    },
    "StartRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["workflow"],
        "properties": {
            "workflow": {"type": "string", "pattern": NAME_PATTERN},
            "data": {"type": "object", "description": "values for the workflow's data fields"},
            "id": {
                "type": "string",
                "pattern": ID_PATTERN,
                "description": "starting again with the same id and data returns the instance",
            },
        },
    },
    "EventRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["event"],
        "properties": {
            "event": {"type": "string", "minLength": 1, "maxLength": 100},
            "payload": {"type": "object"},
        },
    },
    "OperatorRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["operator"],
        "properties": {
            "operator": {
                "type": "string",
                "pattern": OPERATOR_PATTERN,
                "maxLength": 200,
                "description": "who does it: recorded in the instance's history",
            },
            "reason": {
                "type": "string",
                "maxLength": 200,
                "description": "terminate: why (recorded in history); cancel ignores it",
            },
        },
    },
    "EventOption": {
        "type": "object",
        "required": ["event", "available", "reason", "rule"],
        "properties": {
            "event": {"type": "string"},
            "available": {
                "type": ["boolean", "null"],
                "description": "null when it depends on the payload",
            },
            "reason": {"type": "string"},
            "rule": {"type": "string"},
        },
    },
    "Instance": {
        "type": "object",
        "required": ["id", "workflow", "definition", "state", "outcome", "version", "data"],
        "properties": {
            "id": {"type": "string"},
            "workflow": {"type": "string"},
            "definition": {"type": "string", "description": "the definition version it runs"},
            "state": {
                "type": "string",
                "description": "the active state: a leaf's path (`parent.child`); in a "
                "parallel state, its regions' leaves joined by `+`",
            },
            "outcome": {"type": ["string", "null"]},
            "version": {"type": "integer", "description": "accepted steps so far (the ETag)"},
            "data": {"type": "object"},
            "created": {"type": "number"},
            "updated": {"type": "number"},
            "entered": {"type": "number"},
            "due": {"type": ["number", "null"], "description": "when its timeout fires"},
            "session": {"type": "string"},
            "available": {"type": "array", "items": ref("EventOption")},
        },
    },
    "InstanceList": {
        "type": "object",
        "required": ["instances", "next_cursor"],
        "properties": {
            "instances": {"type": "array", "items": ref("Instance")},
            "next_cursor": {
                "type": ["string", "null"],
                "pattern": CURSOR_PATTERN,
                "description": "opaque: pass it back as ?cursor= for the next page; null on "
                "the last page. A page with a data filter may be short (even empty) although "
                "more remain: page on while this is not null",
            },
        },
    },
    "Refusal": {
        "type": "object",
        "required": ["kind", "message"],
        "properties": {
            "kind": {"type": "string"},
            "message": {"type": "string"},
            "guard": {"type": "string"},
            "rule": {"type": "string"},
            "also": {"type": "array", "items": _JSON_OBJECT},
        },
    },
    "Step": {
        "type": "object",
        "required": ["instance", "event", "accepted", "from", "to", "version", "replayed"],
        "properties": {
            "instance": {"type": "string"},
            "workflow": {"type": "string"},
            "event": {"type": "string"},
            "accepted": {"type": "boolean"},
            "from": {"type": "string"},
            "to": {"type": "string"},
            "description": {"type": "string"},
            "refusal": ref("Refusal"),
            "version": {"type": "integer"},
            "outcome": {"type": ["string", "null"]},
            "replayed": {
                "type": "boolean",
                "description": "true when the Idempotency-Key was seen: nothing was applied "
                "again, and the answer is the one first given (version, outcome, to, "
                "handed_to and feed_seq as they were right after the step, not as they are "
                "now; feed_seq is null for a key recorded by a store before schema version 3)",
            },
            "handed_to": {
                "type": ["string", "null"],
                "description": "the instance a final state handed off to, started by this step",
            },
            "feed_seq": {
                "type": ["integer", "null"],
                "description": "the step's feed number (null for a refusal)",
            },
        },
    },
    "History": {
        "type": "object",
        "required": ["instance", "history"],
        "properties": {
            "instance": {"type": "string"},
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["seq", "time", "event", "from", "to", "accepted"],
                    "properties": {
                        "seq": {"type": "integer"},
                        "time": {"type": "number"},
                        "event": {"type": "string"},
                        "from": {"type": "string"},
                        "to": {"type": "string"},
                        "accepted": {"type": "boolean"},
                        "payload": {"type": "object"},
                        "refusal": ref("Refusal"),
                        "event_id": {"type": "string"},
                        "operator": {
                            "type": "object",
                            "description": "an operator action: which, who, from where",
                            "required": ["action", "by", "via"],
                            "properties": {
                                "action": {"enum": ["send", "cancel", "terminate"]},
                                "by": {"type": "string"},
                                "via": {"type": "string"},
                                "reason": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
    "FeedEntry": {
        "type": "object",
        "required": ["seq", "instance", "workflow", "event", "from", "to", "outcome", "time"],
        "properties": {
            "seq": {"type": "integer"},
            "instance": {"type": "string"},
            "workflow": {"type": "string"},
            "event": {"type": "string"},
            "from": {"type": "string"},
            "to": {"type": "string"},
            "outcome": {"type": ["string", "null"]},
            "time": {"type": "number"},
        },
    },
    "Feed": {
        "type": "object",
        "required": ["entries", "last", "more"],
        "properties": {
            "entries": {"type": "array", "items": ref("FeedEntry")},
            "last": {"type": "integer", "description": "pass as ?after= to read on"},
            "more": {
                "type": "boolean",
                "description": "whether entries remain after `last` (read on with ?after=last)",
            },
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}, "store": {"type": ["string", "null"]}},
    },
}

SCHEMAS.update(WEBHOOK_SCHEMAS)
