"""Access: a token when listening beyond loopback; constant-time check; never logged."""

from __future__ import annotations

import pytest

from engine.service.access import is_loopback
from tests.service.server import ServiceProcess, run_serve

TOKEN = "s3cret-token-0123456789abcdef"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.7", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_listening_beyond_loopback_without_a_token_is_refused() -> None:
    result = run_serve(["--host", "0.0.0.0", "--port", "1"])
    assert result.returncode == 2
    assert "needs a bearer token" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_short_token_is_refused(tmp_path: object) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "token"
    path.write_text("short\n", encoding="utf-8")
    result = run_serve(["--token-file", str(path)])
    assert result.returncode == 2
    assert "at least 16" in result.stderr
    missing = run_serve(["--token-file", str(path.with_name("absent"))])
    assert missing.returncode == 2
    assert "cannot read the token file" in missing.stderr


def test_a_token_guards_every_route_but_the_probes() -> None:
    with ServiceProcess(token=TOKEN) as service:
        with service.client() as allowed:
            assert allowed.get("/workflows").status_code == 200
        import httpx

        with httpx.Client(base_url=service.url) as anonymous:
            none = anonymous.get("/workflows")
            wrong = anonymous.get("/workflows", headers={"Authorization": f"Bearer {TOKEN}x"})
            basic = anonymous.get("/workflows", headers={"Authorization": f"Basic {TOKEN}"})
            prefix = anonymous.get("/workflows", headers={"Authorization": f"Bearer {TOKEN[:-1]}"})
            probe = anonymous.get("/healthz")
            ready = anonymous.get("/readyz")
        logs = service.logs()
    for refused in (none, wrong, basic, prefix):
        assert refused.status_code == 401
        assert refused.json()["type"] == "urn:linkflow:problem:unauthorized"
        assert refused.headers["www-authenticate"].startswith("Bearer")
    assert probe.status_code == 200
    assert ready.status_code == 200
    assert TOKEN[:12] not in logs
    assert logs.count('"message":"unauthorized"') == 4
