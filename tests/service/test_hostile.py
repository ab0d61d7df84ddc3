"""Malformed and hostile requests: each gets its 4xx problem, and nothing in the store changes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.service.server import ServiceProcess

J = {"content-type": "application/json"}
ID = "hostile-target"


def js(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def deep(levels: int) -> bytes:
    return b'{"workflow": "tally", "data": {"board": ' + b"[" * levels + b"]" * levels + b"}}"


START = "/instances"
EVENTS = f"/instances/{ID}/events"
ADD = js({"event": "add", "payload": {"item": "x"}})

#: (what, method, path, body, headers, status, problem type)
CASES: list[tuple[str, str, str, bytes | None, dict[str, str], int, str]] = [
    (
        "text body",
        "POST",
        START,
        b"workflow=tally",
        {"content-type": "text/plain"},
        415,
        "unsupported-media-type",
    ),
    (
        "no content type",
        "POST",
        START,
        js({"workflow": "tally"}),
        {},
        415,
        "unsupported-media-type",
    ),
    (
        "form body",
        "POST",
        START,
        b"a=1",
        {"content-type": "application/x-www-form-urlencoded"},
        415,
        "unsupported-media-type",
    ),
    ("cut-off JSON", "POST", START, b'{"workflow": ', J, 400, "malformed-json"),
    ("empty body", "POST", START, b"", J, 400, "malformed-json"),
    ("NaN", "POST", START, b'{"workflow": NaN}', J, 400, "malformed-json"),
    (
        "duplicate keys",
        "POST",
        START,
        b'{"workflow": "tally", "workflow": "chain"}',
        J,
        400,
        "malformed-json",
    ),
    ("not UTF-8", "POST", START, b'{"workflow": "\xff\xfe"}', J, 400, "malformed-json"),
    ("deep JSON", "POST", START, deep(40), J, 400, "json-too-deep"),
    ("very deep JSON", "POST", START, deep(20000), J, 400, "json-too-deep"),
    (
        "huge body",
        "POST",
        START,
        b'{"workflow": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        J,
        413,
        "body-too-large",
    ),
    ("array body", "POST", START, js(["tally"]), J, 400, "invalid-request"),
    ("string body", "POST", START, js("tally"), J, 400, "invalid-request"),
    (
        "unknown field",
        "POST",
        START,
        js({"workflow": "tally", "colour": "red"}),
        J,
        400,
        "invalid-request",
    ),
    ("workflow a number", "POST", START, js({"workflow": 7}), J, 400, "invalid-request"),
    (
        "workflow path traversal",
        "POST",
        START,
        js({"workflow": "../../etc/passwd"}),
        J,
        400,
        "invalid-request",
    ),
    (
        "unknown workflow",
        "POST",
        START,
        js({"workflow": "no_such_flow"}),
        J,
        404,
        "unknown-workflow",
    ),
    (
        "id path traversal",
        "POST",
        START,
        js({"workflow": "alarm", "id": "../x"}),
        J,
        400,
        "invalid-request",
    ),
    (
        "id too long",
        "POST",
        START,
        js({"workflow": "alarm", "id": "a" * 200}),
        J,
        400,
        "invalid-request",
    ),
    (
        "data a list",
        "POST",
        START,
        js({"workflow": "alarm", "data": [1]}),
        J,
        400,
        "invalid-request",
    ),
    (
        "undeclared data field",
        "POST",
        START,
        js({"workflow": "alarm", "data": {"x": 1}}),
        J,
        422,
        "invalid-data",
    ),
    (
        "id taken with other data",
        "POST",
        START,
        js({"workflow": "tally", "id": ID, "data": {"board": "spare"}}),
        J,
        409,
        "conflict",
    ),
    ("traversal in path", "GET", "/instances/..%2F..%2Fetc%2Fpasswd", None, {}, 404, "not-found"),
    ("NUL in id", "GET", "/instances/%00bad", None, {}, 400, "invalid-id"),
    ("CRLF in id", "GET", "/instances/ab%0d%0aSet-Cookie:%20x=1", None, {}, 400, "invalid-id"),
    ("unknown instance", "POST", "/instances/nobody/events", ADD, J, 404, "unknown-instance"),
    ("event missing", "POST", EVENTS, js({"payload": {}}), J, 400, "invalid-request"),
    ("event a number", "POST", EVENTS, js({"event": 3}), J, 400, "invalid-request"),
    ("unknown event", "POST", EVENTS, js({"event": "explode"}), J, 422, "unknown-event"),
    ("timeout sent by hand", "POST", EVENTS, js({"event": "timeout"}), J, 422, "unknown-event"),
    (
        "payload a list",
        "POST",
        EVENTS,
        js({"event": "add", "payload": ["x"]}),
        J,
        400,
        "invalid-request",
    ),
    (
        "payload too long",
        "POST",
        EVENTS,
        js({"event": "add", "payload": {"item": "x" * 41}}),
        J,
        422,
        "invalid-payload",
    ),
    (
        "payload extra field",
        "POST",
        EVENTS,
        js({"event": "add", "payload": {"item": "x", "admin": True}}),
        J,
        422,
        "invalid-payload",
    ),
    (
        "key with a space",
        "POST",
        EVENTS,
        ADD,
        {**J, "Idempotency-Key": "a b"},
        400,
        "invalid-parameter",
    ),
    (
        "key too long",
        "POST",
        EVENTS,
        ADD,
        {**J, "Idempotency-Key": "k" * 300},
        400,
        "invalid-parameter",
    ),
    ("weak If-Match", "POST", EVENTS, ADD, {**J, "If-Match": 'W/"1"'}, 400, "invalid-parameter"),
    (
        "If-Match not a number",
        "POST",
        EVENTS,
        ADD,
        {**J, "If-Match": '"one"'},
        400,
        "invalid-parameter",
    ),
    ("stale If-Match", "POST", EVENTS, ADD, {**J, "If-Match": '"99"'}, 412, "version-mismatch"),
    (
        "reused key, other payload",
        "POST",
        EVENTS,
        js({"event": "add", "payload": {"item": "y"}}),
        {**J, "Idempotency-Key": "used-key"},
        409,
        "idempotency-key-reused",
    ),
    ("limit zero", "GET", "/instances?limit=0", None, {}, 400, "invalid-parameter"),
    ("limit huge", "GET", "/instances?limit=100000", None, {}, 400, "invalid-parameter"),
    ("forged cursor", "GET", "/instances?cursor=not-a-cursor", None, {}, 400, "invalid-parameter"),
    ("negative feed number", "GET", "/feed?after=-1", None, {}, 400, "invalid-parameter"),
    (
        "diagram of a traversal id",
        "GET",
        "/workflows/tally/diagram.svg?instance=../../x",
        None,
        {},
        400,
        "invalid-parameter",
    ),
    ("workflow name traversal", "GET", "/workflows/..%2f..%2fetc", None, {}, 404, "not-found"),
    ("wrong method", "PUT", START, js({}), J, 405, "method-not-allowed"),
    (
        "id ending in a newline",
        "POST",
        START,
        js({"workflow": "tally", "id": "nl-1\n", "data": {"board": "main"}}),
        J,
        400,
        "invalid-request",
    ),
    (
        "id with a control character",
        "POST",
        START,
        js({"workflow": "tally", "id": "nl\t1", "data": {"board": "main"}}),
        J,
        400,
        "invalid-request",
    ),
    ("path id ending in a newline", "GET", f"/instances/{ID}%0A", None, {}, 400, "invalid-id"),
    (
        "events to an id ending in a newline",
        "POST",
        f"/instances/{ID}%0A/events",
        ADD,
        J,
        400,
        "invalid-id",
    ),
    (
        "diagram of an id ending in a newline",
        "GET",
        f"/workflows/tally/diagram.svg?instance={ID}%0A",
        None,
        {},
        400,
        "invalid-parameter",
    ),
    ("superscript limit", "GET", "/instances?limit=%C2%B2", None, {}, 400, "invalid-parameter"),
    ("Arabic-Indic limit", "GET", "/instances?limit=%D9%A3", None, {}, 400, "invalid-parameter"),
    ("superscript feed limit", "GET", "/feed?limit=%C2%B2", None, {}, 400, "invalid-parameter"),
    ("superscript feed number", "GET", "/feed?after=%C2%B2", None, {}, 400, "invalid-parameter"),
    ("Arabic-Indic feed number", "GET", "/feed?after=%D9%A3", None, {}, 400, "invalid-parameter"),
    (
        "superscript stream number",
        "GET",
        "/feed/stream?after=%C2%B2",
        None,
        {},
        400,
        "invalid-parameter",
    ),
    (
        "lone surrogate in start data",
        "POST",
        START,
        b'{"workflow": "tally", "data": {"board": "\\ud800"}}',
        J,
        400,
        "malformed-json",
    ),
    (
        "lone surrogate in a payload",
        "POST",
        EVENTS,
        b'{"event": "add", "payload": {"item": "\\udc00x"}}',
        J,
        400,
        "malformed-json",
    ),
]


def snapshot(http: httpx.Client) -> Any:
    instance = http.get(f"/instances/{ID}").json()
    instance.pop("available")
    return (
        instance,
        http.get(f"/instances/{ID}/history").json(),
        http.get("/feed", params={"limit": 500}).json(),
        sorted(i["id"] for i in http.get("/instances", params={"limit": 500}).json()["instances"]),
    )


@pytest.fixture(scope="module")
def target(api: ServiceProcess) -> ServiceProcess:
    """The SQLite service (the table runs once; the request checks come before the store)."""
    with api.client() as http:
        made = http.post(
            "/instances", json={"workflow": "tally", "id": ID, "data": {"board": "main"}}
        )
        assert made.status_code in (200, 201)
        used = http.post(
            EVENTS,
            json={"event": "add", "payload": {"item": "x"}},
            headers={"Idempotency-Key": "used-key"},
        )
        assert used.json()["accepted"] is True
    return api


def test_the_table_is_long_enough() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("api", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "kind"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_a_hostile_request_is_refused_and_changes_nothing(
    target: ServiceProcess,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    kind: str,
) -> None:
    with target.client() as http:
        before = snapshot(http)
        response = http.request(method, path, content=body, headers=headers)
        after = snapshot(http)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == f"urn:linkflow:problem:{kind}"
    assert problem["status"] == status
    assert "Traceback" not in response.text
    assert after == before
