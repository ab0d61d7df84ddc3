"""Access: a token when listening beyond loopback; constant-time check; never logged."""

from __future__ import annotations

import pathlib
import re
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from linkflow.service.access import TokenError, is_loopback, read_token
from linkflow.service.app import create_app
from linkflow.service.config import ServiceConfig
from linkflow.service.signin import COOKIE, session_value
from linkflow.service.studio_mount import LazyStudio, with_studio
from linkflow.studio.routes import ROUTES as STUDIO_ROUTES
from tests.service.server import ServiceProcess, run_serve

TOKEN = "s3cret-token-0123456789abcdef"
#: The paths documented as open without a token: the probes (access.py's docstring).
OPEN = {"/healthz", "/readyz"}
#: A value for each path parameter: any well-formed one, the token check comes first.
PARAMS = {"name": "leave_request", "id": "an-instance-1"}


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
    path = pathlib.Path(str(tmp_path)) / "token"
    path.write_text("short\n", encoding="utf-8")
    result = run_serve(["--token-file", str(path)])
    assert result.returncode == 2
    assert "at least 16" in result.stderr
    missing = run_serve(["--token-file", str(path.with_name("absent"))])
    assert missing.returncode == 2
    assert "cannot read the token file" in missing.stderr


def test_a_token_error_names_where_the_token_came_from_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process, so the mutation audit reaches read_token: the message names the file (or
    LINKFLOW_TOKEN) and the operating system's reason (mutation audit: neither was checked)."""
    path = tmp_path / "token"
    path.write_text("short\n", encoding="utf-8")
    with pytest.raises(TokenError, match=rf"^the token file {re.escape(str(path))} must hold "):
        read_token(str(path))
    missing = path.with_name("absent")
    with pytest.raises(TokenError, match=r": No such file or directory$"):
        read_token(str(missing))
    monkeypatch.setenv("LINKFLOW_TOKEN", "short")
    with pytest.raises(TokenError, match=r"^LINKFLOW_TOKEN must hold one token of at least 16 "):
        read_token(None)
    monkeypatch.setenv("LINKFLOW_TOKEN", TOKEN)
    assert read_token(None) == TOKEN
    path.write_text(f"  {TOKEN}\n", encoding="utf-8")
    assert read_token(str(path)) == TOKEN


def test_a_token_guards_every_route_but_the_probes() -> None:
    with ServiceProcess(token=TOKEN) as service:
        with service.client() as allowed:
            assert allowed.get("/workflows").status_code == 200

        with httpx.Client(base_url=service.url) as anyhow:
            for scheme in ("bearer", "BEARER", "bEaReR"):
                sent = {"Authorization": f"{scheme} {TOKEN}"}
                assert anyhow.get("/workflows", headers=sent).status_code == 200, scheme

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


def routes_of(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every route, mounted ones included, path parameters filled in."""
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, Route):
            path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PARAMS[m.group(1)], route.path)
            found += [(method, prefix + path) for method in sorted(route.methods or {"GET"})]
        elif isinstance(route, Mount) and isinstance(route.app, LazyStudio):
            # The studio is built on its first request; it is built from these routes.
            found += routes_of(STUDIO_ROUTES, prefix + route.path)
        elif isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            found.append(("GET", f"{prefix}{route.path}/studio.js"))
        elif isinstance(route, Mount):
            found += routes_of(list(route.routes), prefix + route.path)
        else:  # pragma: no cover - a new kind of route: this test must learn to call it
            raise AssertionError(f"cannot call route {route!r}")
    return found


def served_routes() -> list[tuple[str, str]]:
    """Every route of the app `linkflow serve` serves: the API and the studio mounted in it."""
    config = ServiceConfig()

    def build(mounts: Sequence[BaseRoute]) -> Starlette:
        return create_app(config, workflows={}, token=TOKEN, mounts=mounts)

    return routes_of(with_studio(config, build).routes)


def test_every_route_is_listed() -> None:
    routes = served_routes()
    paths = {path for _, path in routes}
    for path in ("/feed", "/feed/stream", "/instances", "/openapi.json", "/studio/api/state"):
        assert path in paths
    assert ("POST", "/instances/an-instance-1/events") in routes
    assert ("POST", "/studio/api/instances/an-instance-1/send") in routes
    assert paths >= OPEN


def test_every_route_but_the_open_ones_needs_the_token(tmp_path: Path) -> None:
    routes = served_routes()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    answers: dict[tuple[str, str, str], httpx.Response] = {}
    with (
        ServiceProcess(token=TOKEN, store=store) as service,
        httpx.Client(base_url=service.url, timeout=30) as anonymous,
    ):
        for method, path in routes:
            for sent in ("none", "wrong"):
                headers = {"Authorization": f"Bearer {TOKEN}x"} if sent == "wrong" else {}
                answers[method, path, sent] = anonymous.request(method, path, headers=headers)
    for (method, path, sent), answer in answers.items():
        where = f"{method} {path} with {sent} token"
        if path in OPEN:
            assert answer.status_code == 200, where
            continue
        assert answer.status_code == 401, where
        assert answer.headers["www-authenticate"].startswith("Bearer"), where
        if method != "HEAD":
            assert answer.json()["type"] == "urn:linkflow:problem:unauthorized", where


def test_a_browser_signs_in_to_the_studio_with_the_token_and_gets_a_studio_only_cookie() -> None:
    html = {"Accept": "text/html,application/xhtml+xml"}
    with ServiceProcess(token=TOKEN) as service:
        with httpx.Client(base_url=service.url, timeout=60) as browser:
            sent_away = browser.get("/studio/", headers=html)
            form = browser.get("/signin")
            wrong = browser.post("/signin", data={"token": TOKEN + "x"})
            huge = browser.post("/signin", content=b"token=" + b"a" * 10_000)
            assert not browser.cookies
            api_call = browser.get("/studio/api/state")  # not a page: a problem, no redirect
            right = browser.post("/signin", data={"token": TOKEN})
            cookie = right.headers["set-cookie"]
            studio = browser.get("/studio/", headers=html)
            state = browser.get("/studio/api/state")
            api = browser.get("/workflows")  # the cookie opens the studio only
        logs = service.logs()
    assert sent_away.status_code == 303
    assert sent_away.headers["location"] == "/signin"
    assert form.status_code == 200
    assert 'type="password"' in form.text
    assert wrong.status_code == 401
    assert "not the service's token" in wrong.text
    assert TOKEN not in wrong.text
    assert huge.status_code == 401
    assert api_call.status_code == 401
    assert right.status_code == 303
    assert right.headers["location"] == "/studio/"
    assert cookie.startswith(f"{COOKIE}={session_value(TOKEN)};")
    for attribute in ("HttpOnly", "Path=/studio", "SameSite=strict"):
        assert attribute.lower() in cookie.lower()
    assert TOKEN not in cookie
    assert studio.status_code == 200
    assert "linkflow studio" in studio.text
    assert state.status_code == 200
    assert api.status_code == 401
    assert TOKEN[:12] not in logs
    assert logs.count('"message":"unauthorized"') == 4  # two forms, the API call, /workflows
