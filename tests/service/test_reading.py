"""Reading a request: deadlines on its headers and body, a cap on its headers, `Expect:
100-continue`, problem documents for what the protocol layer refuses, and CORS.

Raw sockets on 127.0.0.1 play the slow and broken clients; every wait is bounded.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.service.conftest import TEST_WORKFLOWS
from tests.service.server import ServiceProcess, run_serve
from tests.service.test_openapi import check_response

READ_TIMEOUT = 2.0
ORIGIN = "https://app.example.com"
#: How long past the deadline a refusal may take to arrive (a loaded 2-core machine).
SLACK = 8.0


@pytest.fixture(scope="module")
def served() -> Iterator[ServiceProcess]:
    args = ("--read-timeout", str(READ_TIMEOUT), "--cors-origin", ORIGIN)
    with ServiceProcess(*TEST_WORKFLOWS, *args) as running:
        yield running


def connect(server: ServiceProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=READ_TIMEOUT + SLACK)
    return sock


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the timeout)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def parse(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, json.loads(body) if body else None


def assert_problem(raw: bytes, status: int, kind: str) -> dict[str, Any]:
    got, headers, body = parse(raw)
    assert got == status, raw[:300]
    assert headers["content-type"] == "application/problem+json"
    assert body["type"] == f"urn:linkflow:problem:{kind}"
    assert body["status"] == status
    return dict(body)


def slow_start(server: ServiceProcess) -> socket.socket:
    """A request whose headers are complete and whose 100-byte body stops after one byte."""
    sock = connect(server)
    sock.sendall(
        b"POST /instances HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    return sock


def test_slow_bodies_hold_no_slot_and_get_408_after_the_deadline(served: ServiceProcess) -> None:
    sent = time.monotonic()
    slow = [slow_start(served) for _ in range(70)]  # more than the 64 requests in flight
    try:
        time.sleep(0.3)
        with served.client() as http:
            before = time.monotonic()
            listed = http.get("/workflows")
            started = http.post("/instances", json={"workflow": "tally", "data": {"board": "a"}})
            took = time.monotonic() - before
        assert listed.status_code == 200, listed.text
        assert started.status_code == 201, started.text
        assert took < 3.0
        answers = [read_answer(sock) for sock in slow]
        waited = time.monotonic() - sent
    finally:
        for sock in slow:
            sock.close()
    for raw in answers:
        body = assert_problem(raw, 408, "request-timeout")
        check_response("post", "/instances", 408, "application/problem+json", body)
        assert parse(raw)[1]["connection"] == "close"
        assert "{" not in body["detail"]
    assert READ_TIMEOUT * 0.9 <= waited < READ_TIMEOUT + SLACK


def test_a_truncated_chunked_body_gets_408(served: ServiceProcess) -> None:
    with connect(served) as sock:
        sock.sendall(
            b"POST /instances HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Transfer-Encoding: chunked\r\n\r\n20\r\n{"workflow"'
        )
        assert_problem(read_answer(sock), 408, "request-timeout")


def test_slow_headers_get_408_and_a_silent_connection_is_closed(served: ServiceProcess) -> None:
    with connect(served) as sock:
        start = time.monotonic()
        sock.sendall(b"GET /workflows HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert_problem(read_answer(sock), 408, "request-timeout")
        assert time.monotonic() - start >= READ_TIMEOUT * 0.9
    with connect(served) as sock:
        assert read_answer(sock) == b""  # nothing sent, nothing answered: closed


def test_a_kept_alive_connection_has_the_same_deadline_for_its_next_request(
    served: ServiceProcess,
) -> None:
    with connect(served) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while not first.endswith(b"}"):
            first += sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /workflows HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert_problem(read_answer(sock), 408, "request-timeout")


def test_expect_100_continue_is_answered_at_once_and_an_oversized_one_refused(
    served: ServiceProcess,
) -> None:
    body = json.dumps({"workflow": "tally", "data": {"board": "b"}}).encode()
    with connect(served) as sock:
        sock.settimeout(2.0)
        sock.sendall(
            b"POST /instances HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        interim = sock.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.settimeout(READ_TIMEOUT + SLACK)
        sock.sendall(body)
        status, _, answer = parse(read_answer(sock))
        assert status == 201
        assert answer["data"]["board"] == "b"
    with connect(served) as sock:
        sock.settimeout(2.0)
        sock.sendall(
            b"POST /instances HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: 5000000\r\n\r\n"
        )
        raw = read_answer(sock)
        assert not raw.startswith(b"HTTP/1.1 100")
        assert_problem(raw, 413, "body-too-large")


def test_headers_past_the_cap_get_431(served: ServiceProcess) -> None:
    with connect(served) as sock:
        sock.sendall(b"GET /workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 200_000)
        raw = read_answer(sock)
    body = assert_problem(raw, 431, "headers-too-large")
    check_response("get", "/workflows", 431, "application/problem+json", body)
    assert "aaaa" not in body["detail"]


def test_what_is_not_http_gets_a_400_problem(served: ServiceProcess) -> None:
    with connect(served) as sock:
        sock.sendall(b"NOT HTTP AT ALL \x00\r\n\r\n")
        assert_problem(read_answer(sock), 400, "invalid-request")


def test_a_last_event_id_that_is_not_ascii_digits_is_400(served: ServiceProcess) -> None:
    with connect(served) as sock:
        sock.sendall(
            b"GET /feed/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: \xb2\r\n"
            b"Connection: close\r\n\r\n"
        )
        body = assert_problem(read_answer(sock), 400, "invalid-parameter")
    assert "Last-Event-ID" in body["detail"]
    check_response("get", "/feed/stream", 400, "application/problem+json", body)


@pytest.mark.parametrize(
    ("path", "content", "field"),
    [
        ("/instances", b'{"workflow": "tally", "data": {"board": "\\ud800"}}', "data.board"),
        ("/instances/{id}/events", b'{"event": "add", "payload": {"item": "\\udc00"}}', "item"),
    ],
)
def test_a_lone_surrogate_is_400_naming_the_field(
    served: ServiceProcess, path: str, content: bytes, field: str
) -> None:
    with served.client() as http:
        made = http.post("/instances", json={"workflow": "tally", "data": {"board": "s"}})
        answer = http.post(
            path.format(id=made.json()["id"]),
            content=content,
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 400
    assert answer.json()["type"] == "urn:linkflow:problem:malformed-json"
    assert field in answer.json()["detail"]


def test_the_415_message_does_not_repeat_the_content_type(served: ServiceProcess) -> None:
    with served.client() as http:
        answer = http.post(
            "/instances", content=b"{}", headers={"content-type": "text/my-secret-value"}
        )
    assert answer.status_code == 415
    assert "my-secret-value" not in answer.text


def preflight(http: httpx.Client, origin: str, method: str = "POST") -> httpx.Response:
    return http.options(
        "/instances",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, idempotency-key",
        },
    )


def test_cors_allows_the_listed_origin_only(served: ServiceProcess) -> None:
    with served.client() as http:
        allowed = preflight(http, ORIGIN)
        other = preflight(http, "https://evil.example.com")
        wrong_method = preflight(http, ORIGIN, "DELETE")
        simple = http.get("/workflows", headers={"Origin": ORIGIN})
        foreign = http.get("/workflows", headers={"Origin": "https://evil.example.com"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    for refused in (other, wrong_method):
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:linkflow:problem:cors-refused"
        assert "evil" not in refused.text
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "etag" in simple.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in foreign.headers


def test_cors_is_off_by_default(service: ServiceProcess) -> None:
    with service.client() as http:
        refused = preflight(http, ORIGIN)
        simple = http.get("/workflows", headers={"Origin": ORIGIN})
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:linkflow:problem:cors-refused"
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cors-origin", "*"], "--cors-origin takes an origin"),
        (["--cors-origin", "https://app.example.com/path"], "--cors-origin takes an origin"),
        (["--read-timeout", "0"], "--read-timeout must be more than 0"),
    ],
)
def test_serve_refuses_a_bad_reading_option(args: list[str], message: str) -> None:
    done = run_serve(args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_messages_do_not_repeat_a_key_a_version_or_a_malformed_name(
    served: ServiceProcess,
) -> None:
    key = "k-secret-4471"
    with served.client() as http:
        made = http.post("/instances", json={"workflow": "tally", "data": {"board": "m"}})
        events = f"/instances/{made.json()['id']}/events"
        http.post(
            events,
            json={"event": "add", "payload": {"item": "a"}},
            headers={"Idempotency-Key": key},
        )
        reused = http.post(
            events,
            json={"event": "add", "payload": {"item": "b"}},
            headers={"Idempotency-Key": key},
        )
        stale = http.post(
            events, json={"event": "add", "payload": {"item": "c"}}, headers={"If-Match": '"7319"'}
        )
        named = http.post("/instances", json={"workflow": "tally\n", "data": {}})
    assert reused.status_code == 409
    assert key not in reused.text
    assert stale.status_code == 412
    assert "7319" not in stale.text
    assert named.status_code in (400, 404)
    assert named.headers["content-type"] == "application/problem+json"
    assert "tally\\n" not in named.text
