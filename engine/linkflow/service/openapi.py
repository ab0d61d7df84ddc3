"""The API described as an OpenAPI 3.1 document, served at /openapi.json.

The request schemas here are also the ones the service validates bodies with
(`validate_body`), so the document cannot drift from what is accepted; a test checks every
route of the app against the paths listed here, and the responses of a real server against
the response schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from linkflow.language.model import Event, Workflow
from linkflow.language.schema import describe
from linkflow.language.validators import explaining_validator, rust_validator, trusted_valid
from linkflow.language.workflow_builder import TIMEOUT_EVENT
from linkflow.language.yaml_loader import MAX_SAFE_INTEGER
from linkflow.service.problems import MEDIA_TYPE, TYPES, ServiceProblem

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
KEY_PATTERN = r"^[!-~]{1,200}$"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"
#: A page cursor: where the page before ended (its last instance's creation time and id).
CURSOR_PATTERN = (
    r"^-?[0-9]{1,17}(\.[0-9]{1,17})?(e[+-]?[0-9]{1,2})?~[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
)
#: A filter of the instance listing: 1 to 200 characters, no control character.
FILTER_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]{1,200}$"
#: The largest feed number a request may name (18 digits).
MAX_FEED_NUMBER = 10**18 - 1

_JSON_OBJECT: dict[str, Any] = {"type": "object"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


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
        "allOf": [_ref("Problem"), {"required": ["current_version"]}],
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
        "properties": {"workflows": {"type": "array", "items": _ref("WorkflowBrief")}},
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
            "state": {"type": "string"},
            "outcome": {"type": ["string", "null"]},
            "version": {"type": "integer", "description": "accepted steps so far (the ETag)"},
            "data": {"type": "object"},
            "created": {"type": "number"},
            "updated": {"type": "number"},
            "entered": {"type": "number"},
            "due": {"type": ["number", "null"], "description": "when its timeout fires"},
            "session": {"type": "string"},
            "available": {"type": "array", "items": _ref("EventOption")},
        },
    },
    "InstanceList": {
        "type": "object",
        "required": ["instances", "next_cursor"],
        "properties": {
            "instances": {"type": "array", "items": _ref("Instance")},
            "next_cursor": {
                "type": ["string", "null"],
                "pattern": CURSOR_PATTERN,
                "description": "opaque: pass it back as ?cursor= for the next page; null on "
                "the last page",
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
            "refusal": _ref("Refusal"),
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
                        "refusal": _ref("Refusal"),
                        "event_id": {"type": "string"},
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
        "required": ["entries", "last"],
        "properties": {
            "entries": {"type": "array", "items": _ref("FeedEntry")},
            "last": {"type": "integer", "description": "pass as ?after= to read on"},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}, "store": {"type": ["string", "null"]}},
    },
}

PROBLEM = {MEDIA_TYPE: {"schema": _ref("Problem")}}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": PROBLEM}


def _name_param() -> dict[str, Any]:
    return {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": NAME_PATTERN},
    }


PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "operationId": "healthz",
            "summary": "The process is alive",
            "security": [],
            "responses": {"200": _json("Health", "alive")},
        }
    },
    "/readyz": {
        "get": {
            "operationId": "readyz",
            "summary": "The store is reachable and its migrations applied",
            "security": [],
            "responses": {
                "200": _json("Health", "ready"),
                "503": _problem("the store cannot be reached"),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}
            },
        }
    },
    "/workflows": {
        "get": {
            "operationId": "listWorkflows",
            "summary": "The workflows this service runs",
            "responses": {"200": _json("WorkflowList", "the workflows, by name")},
        }
    },
    "/workflows/{name}": {
        "get": {
            "operationId": "getWorkflow",
            "summary": "One workflow: states, events with payload schemas, guards, transitions",
            "parameters": [_name_param()],
            "responses": {
                "200": _json("Workflow", "the workflow"),
                "404": _problem("no workflow by that name"),
            },
        }
    },
    "/workflows/{name}/diagram.svg": {
        "get": {
            "operationId": "getDiagram",
            "summary": "The workflow's diagram; with ?instance=ID the instance's path is drawn",
            "parameters": [
                _name_param(),
                {
                    "name": "instance",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "pattern": ID_PATTERN},
                },
            ],
            "responses": {
                "200": {"description": "SVG", "content": {"image/svg+xml": {}}},
                "404": _problem("no workflow (or instance) by that name"),
            },
        }
    },
}

#: `GET /metrics` (linkflow.service.metrics): this process's counters, for Prometheus.
PATHS["/metrics"] = {
    "get": {
        "operationId": "getMetrics",
        "summary": "This process's metrics, in the Prometheus text format",
        "description": "Requests by route template and status, event latency, group-commit "
        "batch sizes and queue depth, timers fired and how late, store errors and retries; "
        "see docs/operations.md. With several workers, each answers with its own.",
        "responses": {
            "200": {
                "description": "Prometheus text exposition format 0.0.4",
                "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}},
            }
        },
    }
}


def _id_param() -> dict[str, Any]:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": ID_PATTERN},
    }


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        **({"description": description} if description else {}),
    }


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


_LIMIT = {"type": "integer", "minimum": 1, "maximum": 500}
_FEED_NUMBER = {"type": "integer", "minimum": 0, "maximum": MAX_FEED_NUMBER}
#: From an instance just started (or found again) to what can be done with it.
INSTANCE_LINKS: dict[str, Any] = {
    "GetInstance": {"operationId": "getInstance", "parameters": {"id": "$response.body#/id"}},
    "SendEvent": {"operationId": "sendEvent", "parameters": {"id": "$response.body#/id"}},
    "GetHistory": {"operationId": "getHistory", "parameters": {"id": "$response.body#/id"}},
    "GetDiagram": {
        "operationId": "getDiagram",
        "parameters": {"name": "$response.body#/workflow", "instance": "$response.body#/id"},
    },
}
_FILTER = {"type": "string", "pattern": FILTER_PATTERN}

PATHS.update(
    {
        "/instances": {
            "post": {
                "operationId": "startInstance",
                "summary": "Start an instance (idempotent on `id`)",
                "requestBody": _body("StartRequest"),
                "responses": {
                    "201": {**_json("Instance", "started"), "links": INSTANCE_LINKS},
                    "200": {
                        **_json("Instance", "an instance with this id and data already exists"),
                        "links": INSTANCE_LINKS,
                    },
                    "404": _problem("no workflow by that name"),
                    "409": _problem("the id is taken by an instance with other start data"),
                    "422": _problem("a data field the workflow does not declare"),
                },
            },
            "get": {
                "operationId": "listInstances",
                "summary": "Instances, newest first, a page at a time",
                "parameters": [
                    _query("workflow", _FILTER),
                    _query("state", _FILTER),
                    _query("outcome", _FILTER),
                    _query("limit", _LIMIT, "page size (default 50)"),
                    _query(
                        "cursor",
                        {"type": "string", "pattern": CURSOR_PATTERN},
                        "opaque: the next_cursor of the page before, as given",
                    ),
                ],
                "responses": {"200": _json("InstanceList", "one page")},
            },
        },
        "/instances/{id}": {
            "get": {
                "operationId": "getInstance",
                "summary": "State, data, outcome, version and the events available now",
                "parameters": [_id_param()],
                "responses": {
                    "200": _json("Instance", "the instance; ETag is its version"),
                    "404": _problem("no instance by that id"),
                },
            }
        },
        "/instances/{id}/events": {
            "post": {
                "operationId": "sendEvent",
                "summary": "Send an event. A refusal is an answer: 200 with accepted false",
                "description": "When the instance handed off, the event goes to the current "
                "instance of its chain (the newest of its session); the answer's "
                "`instance` names the instance that took it, and If-Match is that instance's "
                "version. An Idempotency-Key already used on the instance named replays there.",
                "parameters": [
                    _id_param(),
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": KEY_PATTERN},
                        "description": "the event id: the same key again returns the first "
                        "answer and applies nothing",
                    },
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": r'^"[0-9]{1,18}"$'},
                        "description": "the version the client saw, in quotes",
                    },
                ],
                "requestBody": _body("EventRequest"),
                "responses": {
                    "200": _json("Step", "the step taken, or the refusal"),
                    "404": _problem("no instance by that id"),
                    "409": _problem("the Idempotency-Key was used for another event or payload"),
                    "412": {
                        "description": "If-Match is stale: another step came first",
                        "content": {MEDIA_TYPE: {"schema": _ref("VersionMismatch")}},
                    },
                    "422": _problem("an unknown event, or a payload that fails its schema"),
                },
            }
        },
        "/instances/{id}/history": {
            "get": {
                "operationId": "getHistory",
                "summary": "Every event the instance received, accepted or refused (no secrets)",
                "parameters": [_id_param()],
                "responses": {
                    "200": _json("History", "oldest first"),
                    "404": _problem("no instance by that id"),
                },
            }
        },
        "/feed": {
            "get": {
                "operationId": "readFeed",
                "summary": "Accepted steps of every instance, numbered in commit order",
                "parameters": [
                    _query("after", _FEED_NUMBER, "feed number to read after (default 0)"),
                    _query("limit", _LIMIT, "entries at most (default 50)"),
                ],
                "responses": {"200": _json("Feed", "the entries after `after`")},
            }
        },
        "/feed/stream": {
            "get": {
                "operationId": "streamFeed",
                "summary": "The feed as server-sent events; reconnect with Last-Event-ID",
                "parameters": [
                    _query("after", _FEED_NUMBER, "taken when Last-Event-ID is absent"),
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^([0-9]{1,18})?$"},
                        "description": "the last feed number received; taken before `after` "
                        "(empty: as if not sent)",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "events `step`, each with id = feed number",
                        "content": {"text/event-stream": {}},
                    }
                },
            }
        },
    }
)

COMMON_RESPONSES = {
    "400": "malformed JSON, a body nested too deeply, a request of the wrong form (an id is "
    "checked whole: no newline or control character), or a query parameter or header of the "
    "wrong form, named in `detail` (numbers are ASCII digits 0-9 only)",
    "401": "a bearer token is required and was missing or wrong",
    "408": "the request's headers, or its body, did not arrive within the read timeout "
    "(`--read-timeout`); the connection is closed",
    "413": "the body is larger than the limit (with Expect: 100-continue, answered before the "
    "body is sent)",
    "415": "the body is not application/json",
    "431": "the request line and headers are larger than the limit; the connection is closed",
    "503": "too many requests in flight (see Retry-After) or the store is down",
}


INFO: dict[str, Any] = {
    "title": "linkflow",
    "version": "1",
    "description": "Start workflow instances, send them events, follow the change feed. "
    "Errors are RFC 9457 problem documents (application/problem+json) with a stable "
    "`type`. A token is required when the service listens beyond the loopback "
    "interface (the scheme name `Bearer` in any case). Cross-origin requests (CORS) "
    "are refused unless the service is started with `--cors-origin URL` (repeatable): "
    "a preflight (OPTIONS with Origin and Access-Control-Request-Method) from a listed "
    "origin for GET or POST, with the headers Authorization, Content-Type, "
    "Idempotency-Key, If-Match or Last-Event-ID, is answered 200 with the "
    "Access-Control-Allow-* headers; any other preflight is a 403 problem "
    "(`cors-refused`). Answers to a listed origin carry Access-Control-Allow-Origin "
    "and expose ETag, Location and Retry-After.",
}


#: Integers in a request body are refused beyond this, either way (MAX_SAFE_INTEGER).
_JSON_VALUE: dict[str, Any] = {
    "description": "any JSON value; integers within -9007199254740991 to 9007199254740991 "
    "(a body nests at most 32 levels deep)",
    "anyOf": [
        {"type": ["string", "boolean", "null"]},
        {"type": "number", "minimum": -MAX_SAFE_INTEGER, "maximum": MAX_SAFE_INTEGER},
        {"type": "array", "items": _ref("JsonValue")},
        {"type": "object", "additionalProperties": _ref("JsonValue")},
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
        return {**out, **_ref("JsonValue")}
    if kinds & _NUMBERS:
        if "maximum" not in out and "exclusiveMaximum" not in out:
            out["maximum"] = MAX_SAFE_INTEGER
        if "minimum" not in out and "exclusiveMinimum" not in out:
            out["minimum"] = -MAX_SAFE_INTEGER
    if "array" in kinds and "items" not in out and "prefixItems" not in out:
        out["items"] = _ref("JsonValue")
    if "object" in kinds and "additionalProperties" not in out:
        out["additionalProperties"] = _ref("JsonValue")
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


def workflow_schemas(workflows: Mapping[str, Workflow]) -> dict[str, Any]:
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
                "data": _ref(_component("Data", name)),
                "id": SCHEMAS["StartRequest"]["properties"]["id"],
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


def _exact(paths: dict[str, Any], workflows: Mapping[str, Workflow]) -> None:
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
                    "oneOf": [_ref(_component("Start", n)) for n in names],
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
                    "anyOf": [_ref(_component("Event", n)) for n in names],
                }
            }
        },
    }


def build_document(
    *, secured: bool, workflows: Mapping[str, Workflow] | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of a service: bearer security only when it has a token, and,
    given its workflows, their names, data fields, events and payloads as schemas."""
    paths: dict[str, Any] = {}
    for path, operations in PATHS.items():
        paths[path] = {}
        for method, operation in operations.items():
            responses = dict(operation["responses"])
            for status, description in COMMON_RESPONSES.items():
                if status == "401" and (not secured or operation.get("security") == []):
                    continue
                responses.setdefault(status, _problem(description))
            exact = {**operation, "responses": responses}
            if not secured:
                exact.pop("security", None)
            paths[path][method] = exact
    components: dict[str, Any] = {"schemas": dict(SCHEMAS)}
    if workflows:
        components["schemas"].update(workflow_schemas(workflows))
        _exact(paths, workflows)
    document: dict[str, Any] = {"openapi": "3.1.0", "info": INFO}
    if secured:
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"bearer": []}]
    return {**document, "components": components, "paths": paths}


@cache
def document() -> dict[str, Any]:
    """The document of a service with a token, for any workflows (built once)."""
    return build_document(secured=True)


def _schema(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", "components": {"schemas": SCHEMAS}}


@cache
def _validators(name: str) -> tuple[Any | None, Any]:
    """jsonschema-rs for the common case, a body that fits (it only answers "valid?", about
    100x faster), and jsonschema, which says why a body does not fit."""
    schema = _schema(name)
    return rust_validator(schema), explaining_validator(schema)


def validate_body(name: str, value: Any) -> None:
    """Raise an `invalid-request` problem naming the first misfit; values are never echoed."""
    fast, explaining = _validators(name)
    if trusted_valid(fast, value):
        return
    errors = sorted(explaining.iter_errors(value), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    first = errors[0]
    where = ".".join(str(p) for p in first.absolute_path)
    subject = f"field '{where}'" if where else "the body"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise ServiceProblem("invalid-request", f"{subject} {describe(first, secret_safe=True)}{more}")
