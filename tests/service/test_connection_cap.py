"""The cap on open connections (`serve --max-connections`): one connection past it is answered
503 with Retry-After as a problem document; the connections already open are served on, and
once one closes a new connection is served again. Raw sockets on 127.0.0.1; every wait bounded.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from tests.service.conftest import TEST_WORKFLOWS
from tests.service.server import ServiceProcess, run_serve

CAP = 3
TIMEOUT = 10.0
GET = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture
def capped() -> Iterator[ServiceProcess]:
    with ServiceProcess(*TEST_WORKFLOWS, "--max-connections", str(CAP)) as running:
        yield running


def connect(server: ServiceProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)


def ask(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Send GET /healthz on a connection; the status, headers and body of the answer."""
    sock.sendall(GET)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    headers = {k.lower(): v for k, v in headers.items()}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def served_within(server: ServiceProcess, seconds: float) -> int:
    """The status of a request on a new connection, retried while it is 503 (a connection the
    server has not yet seen closed still counts), for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        with connect(server) as sock:
            status = ask(sock)[0]
        if status != 503 or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def test_a_connection_past_the_cap_gets_503_and_the_server_serves_on(
    capped: ServiceProcess,
) -> None:
    held = [connect(capped) for _ in range(CAP)]
    try:
        assert [ask(sock)[0] for sock in held] == [200] * CAP  # kept alive, all open now
        with connect(capped) as extra:
            status, headers, body = ask(extra)
            assert extra.recv(1) == b""  # and the server closed it
        assert status == 503
        assert headers["content-type"] == "application/problem+json"
        assert headers["retry-after"] == "1"
        problem = json.loads(body)
        assert problem["type"] == "urn:linkflow:problem:overloaded"
        assert problem["detail"] == f"more than {CAP} connections are open; retry after 1 s"
        assert [ask(sock)[0] for sock in held] == [200] * CAP  # the open ones: served on
        held.pop().close()
        assert served_within(capped, TIMEOUT) == 200  # a place came free: served again
    finally:
        for sock in held:
            sock.close()
    assert "Traceback" not in capped.logs()


@pytest.mark.parametrize("value", ["0", "100001"])
def test_serve_refuses_a_cap_out_of_range(value: str) -> None:
    done = run_serve(["--max-connections", value])
    assert done.returncode == 2
    assert f"--max-connections must be between 1 and 100000 (got {value})" in done.stderr
