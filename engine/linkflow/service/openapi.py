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

from linkflow.language.model import Workflow
from linkflow.language.schema import describe
from linkflow.language.validators import explaining_validator, rust_validator, trusted_valid
from linkflow.service.openapi_effects import EFFECT_PATHS, EFFECT_SCHEMAS
from linkflow.service.openapi_parts import json_response, problem_response, ref
from linkflow.service.openapi_schemas import (
    CURSOR_PATTERN,
    DATA_FILTER_PATTERN,
    FILTER_PATTERN,
    ID_PATTERN,
    KEY_PATTERN,
    MAX_FEED_NUMBER,
    NAME_PATTERN,
    NUMBER_PATTERN,
    SCHEMAS,
)
from linkflow.service.openapi_webhooks import WEBHOOK_PATHS
from linkflow.service.openapi_workflows import narrow_paths, workflow_schemas
from linkflow.service.problems import MEDIA_TYPE, ServiceProblem


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
            "responses": {"200": json_response("Health", "alive")},
        }
    },
    "/readyz": {
        "get": {
            "operationId": "readyz",
            "summary": "The store is reachable and its migrations applied",
            "security": [],
            "responses": {
                "200": json_response("Health", "ready"),
                "503": problem_response("the store cannot be reached"),
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
            "responses": {"200": json_response("WorkflowList", "the workflows, by name")},
        }
    },
    "/workflows/{name}": {
        "get": {
            "operationId": "getWorkflow",
            "summary": "One workflow: states, events with payload schemas, guards, transitions",
            "parameters": [_name_param()],
            "responses": {
                "200": json_response("Workflow", "the workflow"),
                "404": problem_response("no workflow by that name"),
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
                "404": problem_response("no workflow (or instance) by that name"),
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
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


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
_TIME = {"type": "string", "pattern": NUMBER_PATTERN}
_DATA_FILTER = {"type": "string", "pattern": DATA_FILTER_PATTERN}
_TIME_PARAMS = {
    "created_from": "created at or after (seconds since the epoch)",
    "created_to": "created before",
    "updated_from": "last step at or after; the page is then ordered by update time",
    "updated_to": "last step before; the page is then ordered by update time",
}

PATHS.update(
    {
        "/instances": {
            "post": {
                "operationId": "startInstance",
                "summary": "Start an instance (idempotent on `id`)",
                "requestBody": _body("StartRequest"),
                "responses": {
                    "201": {**json_response("Instance", "started"), "links": INSTANCE_LINKS},
                    "200": {
                        **json_response(
                            "Instance", "an instance with this id and data already exists"
                        ),
                        "links": INSTANCE_LINKS,
                    },
                    "404": problem_response("no workflow by that name"),
                    "409": problem_response("the id is taken by an instance with other start data"),
                    "422": problem_response("a data field the workflow does not declare"),
                },
            },
            "get": {
                "operationId": "listInstances",
                "summary": "Instances, newest first, a page at a time",
                "parameters": [
                    _query("workflow", _FILTER),
                    _query(
                        "state",
                        _FILTER,
                        "The instances in this state, in a state inside it, or in a parallel "
                        "state's configuration holding it (`onboarding.equipment` finds "
                        "`onboarding.documents.signed+onboarding.equipment.shipped`); a whole "
                        "configuration (with `+`) is matched exactly.",
                    ),
                    _query("outcome", _FILTER),
                    *(
                        _query(name, _TIME, description)
                        for name, description in _TIME_PARAMS.items()
                    ),
                    _query(
                        "data",
                        {"type": "array", "items": _DATA_FILTER},
                        "FIELD=VALUE, repeatable: a data field equals VALUE (a JSON scalar, "
                        "else the text). Read by a bounded scan of at most 5,000 instances a "
                        "page",
                    ),
                    _query("limit", _LIMIT, "page size (default 50)"),
                    _query(
                        "cursor",
                        {"type": "string", "pattern": CURSOR_PATTERN},
                        "opaque: the next_cursor of the page before, as given",
                    ),
                ],
                "responses": {"200": json_response("InstanceList", "one page")},
            },
        },
        "/instances/{id}": {
            "get": {
                "operationId": "getInstance",
                "summary": "State, data, outcome, version and the events available now",
                "parameters": [_id_param()],
                "responses": {
                    "200": json_response("Instance", "the instance; ETag is its version"),
                    "404": problem_response("no instance by that id"),
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
                    "200": json_response("Step", "the step taken, or the refusal"),
                    "404": problem_response("no instance by that id"),
                    "409": problem_response(
                        "the Idempotency-Key was used for another event or payload"
                    ),
                    "412": {
                        "description": "If-Match is stale: another step came first",
                        "content": {MEDIA_TYPE: {"schema": ref("VersionMismatch")}},
                    },
                    "422": problem_response("an unknown event, or a payload that fails its schema"),
                },
            }
        },
        **{
            f"/instances/{{id}}/{action}": {
                "post": {
                    "operationId": f"{action}Instance",
                    "summary": summary,
                    "parameters": [
                        _id_param(),
                        {
                            "name": "If-Match",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "pattern": r'^"[0-9]{1,18}"$'},
                            "description": "the version the operator saw, in quotes",
                        },
                    ],
                    "requestBody": _body("OperatorRequest"),
                    "responses": {
                        "200": json_response(
                            "Step", "done, or (cancel) refused by a guard: a refusal"
                        ),
                        "404": problem_response("no instance by that id"),
                        "409": problem_response(
                            "not allowed now (already ended; cancel: no cancel path from here)"
                        ),
                        "412": {
                            "description": "If-Match is stale: another step came first",
                            "content": {MEDIA_TYPE: {"schema": ref("VersionMismatch")}},
                        },
                    },
                }
            }
            for action, summary in (
                (
                    "cancel",
                    "Cancel: take the workflow's own path to a cancelled end (an operator "
                    "action, recorded with who did it)",
                ),
                (
                    "terminate",
                    "Terminate: end now with outcome `terminated`, its timer stopped (an "
                    "operator action, recorded with who did it)",
                ),
            )
        },
        "/instances/{id}/history": {
            "get": {
                "operationId": "getHistory",
                "summary": "Every event the instance received, accepted or refused (no secrets)",
                "parameters": [_id_param()],
                "responses": {
                    "200": json_response("History", "oldest first"),
                    "404": problem_response("no instance by that id"),
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
                "responses": {"200": json_response("Feed", "the entries after `after`")},
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

PATHS.update(WEBHOOK_PATHS)
PATHS.update(EFFECT_PATHS)
# Here, not in openapi_schemas.py: openapi_effects.py reads that module's patterns.
SCHEMAS.update(EFFECT_SCHEMAS)

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
                responses.setdefault(status, problem_response(description))
            exact = {**operation, "responses": responses}
            if not secured:
                exact.pop("security", None)
            paths[path][method] = exact
    components: dict[str, Any] = {"schemas": dict(SCHEMAS)}
    if workflows:
        start_id = SCHEMAS["StartRequest"]["properties"]["id"]
        components["schemas"].update(workflow_schemas(workflows, start_id))
        narrow_paths(paths, workflows)
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
