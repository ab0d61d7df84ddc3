"""The studio is safe from other pages and from hostile bodies (issue 24, item 5).

Plain HTTP against the app (Starlette's test client, as a browser on 127.0.0.1:8765 would talk
to it), and `linkflow studio` as a subprocess for the token it prints and a clean SIGTERM.
The same attacks from a real page on another origin, in Chromium, are in
tests/test_studio_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from linkflow.service.config import ServiceConfig
from linkflow.service.studio_mount import STUDIO_TOKEN_ENV, launch_url, studio_access
from linkflow.store import Store
from linkflow.studio.app import create_app
from linkflow.studio.guard import SECURITY_HEADERS, Access, cookie_name, session_value
from linkflow.studio.instances import InstancesView
from linkflow.studio.playground import Playground
from tests.studio_browser import (
    CLIENT_BASE,
    DEMO_DATA,
    LINKFLOW,
    WORLD,
    free_port,
    signed_in,
)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1:8765"
OWN_ORIGIN = f"http://{HOST}"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    return tmp_path


@pytest.fixture
def playground(tree: Path) -> Playground:
    return Playground([str(tree / "workflows")], str(tree / WORLD), DEMO_DATA)


def make_app(playground: Playground, tree: Path, **kwargs: Any) -> Any:
    return create_app(
        playground,
        scenario_folder=str(tree / "saved"),
        coverage_folder=str(tree / "scenarios"),
        watch=False,
        **kwargs,
    )


@pytest.fixture
def client(playground: Playground, tree: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.chdir(tree)  # relative scenario folders are read from the working folder
    with signed_in(TestClient(make_app(playground, tree), base_url=CLIENT_BASE)) as signed:
        signed.post("/api/send", json={"event": "click_link_tiktok_account"})
        yield signed


@pytest.fixture
def stranger(playground: Playground, tree: Path) -> TestClient:
    """A client on the same app that never opened the launch URL: no cookie."""
    return TestClient(make_app(playground, tree), base_url=CLIENT_BASE)


def state_of(client: Any) -> Any:
    answer = client.get("/api/state")
    assert answer.status_code == 200
    return answer.json()


# -- the token and the cookie ----------------------------------------------------------------


def test_the_launch_token_is_exchanged_for_a_strict_http_only_cookie(
    playground: Playground, tree: Path
) -> None:
    app = make_app(playground, tree)
    token = app.state.access.token
    assert len(token) >= 43  # secrets.token_urlsafe(32)
    assert make_app(playground, tree).state.access.token != token  # one per launch
    browser = TestClient(app, base_url=CLIENT_BASE)
    assert browser.get("/").status_code == 403
    assert browser.get("/api/state").status_code == 403
    assert browser.get("/api/events").status_code == 403
    assert browser.get("/?token=not-the-token").status_code == 403
    opened = browser.get("/", headers={"Accept": "text/html"})  # says how, in words
    assert opened.status_code == 403
    assert opened.headers["content-type"].startswith("text/plain")
    assert "printed at launch (…/?token=…)" in opened.text
    assert browser.get("/static/studio.js").status_code == 200  # nothing in it to hide
    answer = browser.get(f"/?token={token}&tab=coverage", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?tab=coverage"  # the token leaves the address bar
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(8765)}={session_value(token)};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert token not in cookie  # the cookie is an HMAC of the token, not the token
    assert browser.get("/").status_code == 200
    assert browser.get("/api/state").status_code == 200


def test_every_answer_carries_the_security_headers(client: Any) -> None:
    csp = SECURITY_HEADERS["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    answers = [
        client.get("/"),
        client.get("/api/state"),
        client.get("/static/studio.js"),
        client.post("/api/send", content=b"{}", headers={"Content-Type": "text/plain"}),
        client.get("/api/state", headers={"Host": "evil.example"}),
    ]
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value, (answer.request.url, name)
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_page_has_no_inline_script_or_style() -> None:
    static = ROOT / "engine" / "linkflow" / "studio" / "static"
    page = (static / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script\b[^>]*>", page) == [
        '<script src="static/instances.js" defer>',
        '<script src="static/outbound.js" defer>',
        '<script src="static/studio.js" defer>',
    ]
    assert "<style" not in page
    assert " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    for name in ("studio.js", "instances.js", "outbound.js"):
        script = (static / name).read_text(encoding="utf-8")
        assert "eval(" not in script
        assert "new Function" not in script
        assert "innerHTML" not in script


# -- Host, Content-Type, Origin --------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example", "10.0.0.8:8765", ""]
)
def test_a_foreign_host_is_refused_even_with_the_cookie(client: Any, host: str) -> None:
    """DNS rebinding: a page on evil.example (resolving to 127.0.0.1) sends Host: evil.example."""
    for path in ("/", "/api/state", "/api/events", "/static/studio.js"):
        answer = client.get(path, headers={"Host": host})
        assert answer.status_code == 403, path
        assert answer.json()["field"] == "host"
    before = state_of(client)
    refused = client.post("/api/reset", json={}, headers={"Host": host, "Origin": f"http://{host}"})
    assert refused.status_code == 403
    assert state_of(client) == before


@pytest.mark.parametrize("host", ["localhost:8765", "[::1]:8765", "127.0.0.1", "LOCALHOST:8765"])
def test_loopback_names_are_answered(client: Any, host: str) -> None:
    assert client.get("/api/state", headers={"Host": host}).status_code == 200


def test_allow_host_opens_the_studio_under_another_name(playground: Playground, tree: Path) -> None:
    app = make_app(playground, tree, access=Access(allowed_hosts=("studio.lan",)))
    browser = signed_in(TestClient(app, base_url=CLIENT_BASE))
    assert browser.get("/api/state", headers={"Host": "studio.lan:8765"}).status_code == 200
    assert browser.get("/api/state", headers={"Host": "other.lan:8765"}).status_code == 403


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
        "application/json-seq",
        "text/json",
    ],
)
def test_a_write_that_is_not_json_is_refused_with_415(client: Any, content_type: str) -> None:
    """What a form, a `no-cors` fetch or a "simple" request can send: never JSON."""
    before = state_of(client)
    for path in ("/api/send", "/api/reset", "/api/wait", "/api/scenario"):
        body = json.dumps({"event": "choose_link_existing", "seconds": 60, "name": "x"})
        answer = client.post(path, content=body, headers={"Content-Type": content_type})
        assert answer.status_code == 415, path
        assert answer.json()["field"] == "Content-Type"
    assert state_of(client) == before


def test_a_write_from_another_origin_is_refused(client: Any) -> None:
    before = state_of(client)
    for origin in (
        "http://evil.example",
        "http://127.0.0.1:9999",
        "null",
        "https://127.0.0.1:8765",
    ):
        answer = client.post("/api/reset", json={}, headers={"Origin": origin})
        assert answer.status_code == 403, origin
        assert answer.json()["field"] == "Origin"
    assert state_of(client) == before
    assert client.post("/api/reset", json={}, headers={"Origin": OWN_ORIGIN}).status_code == 200


def test_a_write_without_origin_needs_the_studio_header(client: Any) -> None:
    before = state_of(client)
    del client.headers["X-Linkflow-Studio"]
    answer = client.post("/api/reset", json={})
    assert answer.status_code == 403
    assert answer.json()["field"] == "Origin"
    assert state_of(client) == before
    assert client.post("/api/reset", json={}, headers={"X-Linkflow-Studio": "1"}).status_code == 200


def test_a_write_without_the_cookie_is_refused(stranger: TestClient, client: Any) -> None:
    before = state_of(client)
    headers = {"Origin": OWN_ORIGIN, "Content-Type": "application/json"}
    answer = stranger.post("/api/reset", content=b"{}", headers=headers)
    assert answer.status_code == 403
    assert answer.json()["field"] == "token"
    forged = {**headers, "Cookie": f"{cookie_name(8765)}={'0' * 64}"}
    assert stranger.post("/api/reset", content=b"{}", headers=forged).status_code == 403
    assert state_of(client) == before


def test_the_store_view_refuses_a_cross_site_send(playground: Playground, tree: Path) -> None:
    """The red team's first finding: a text/plain cancel moved a durable instance."""

    with Store.open(f"sqlite:///{tree / 'i.db'}") as store:
        store.load_world(tree / WORLD)
        store.start(tree / "workflows" / "link_qr.yaml", DEMO_DATA, instance_id="one")
        app = make_app(playground, tree, instances=InstancesView(store))
        with signed_in(TestClient(app, base_url=CLIENT_BASE)) as browser:
            cancel = b'{"event": "cancel"}'
            attempts = [
                browser.post(
                    "/api/instances/one/send",
                    content=cancel,
                    headers={"Content-Type": "text/plain"},
                ),
                browser.post(
                    "/api/instances/one/send",
                    content=cancel,
                    headers={"Origin": "http://x.example"},
                ),
                TestClient(app, base_url=CLIENT_BASE).post(
                    "/api/instances/one/send",
                    content=cancel,
                    headers={"Content-Type": "application/json", "X-Linkflow-Studio": "1"},
                ),
            ]
            assert [a.status_code for a in attempts] == [415, 403, 403]
            assert store.get("one").state == "qr_shown"
            sent = browser.post("/api/instances/one/send", json={"event": "cancel"})
            assert sent.status_code == 200
            assert store.get("one").state == "cancelled"


def test_under_serve_the_service_token_stands_in_for_the_studios(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.delenv("LINKFLOW_TOKEN", raising=False)
    monkeypatch.delenv(STUDIO_TOKEN_ENV, raising=False)
    open_service = ServiceConfig(workflow_paths=("workflows",), port=8080)
    own = studio_access(open_service)
    assert own.token is not None
    assert own.check_host
    assert launch_url(open_service, own) == f"http://127.0.0.1:8080/studio/?token={own.token}"
    monkeypatch.setenv(STUDIO_TOKEN_ENV, "shared-by-the-workers-0123456789")
    assert studio_access(open_service).token == "shared-by-the-workers-0123456789"
    (tree / "token").write_text("service-token-0123456789abcdef\n", encoding="utf-8")
    guarded = ServiceConfig(workflow_paths=("workflows",), token_file=str(tree / "token"))
    theirs = studio_access(guarded)
    assert theirs.token is None  # the service's bearer check (or sign-in cookie) lets one in
    assert not theirs.check_host


# -- where scenarios are written -------------------------------------------------------------


def _outside(tree: Path) -> list[str]:
    return sorted(
        str(p.relative_to(tree)) for p in tree.rglob("*.yaml") if "workflows" not in p.parts
    )


#: An absolute folder outside every project (made from the machine's temp folder at run time).
ESCAPED = Path(tempfile.gettempdir()) / "studio-escaped-absolute"


@pytest.mark.parametrize(
    "folder",
    ["../escaped", "saved/../../escaped", str(ESCAPED), "elsewhere", "link"],
)
def test_a_scenario_is_written_only_inside_the_scenario_folders(
    client: Any, tree: Path, folder: str
) -> None:
    outside = tree.parent / f"outside-{tree.name}"
    outside.mkdir()
    (tree / "saved").mkdir()
    (tree / "link").symlink_to(outside, target_is_directory=True)
    (tree / "saved" / "link").symlink_to(outside, target_is_directory=True)
    before = state_of(client)
    for given in (folder, f"saved/{folder}" if folder == "link" else folder):
        body = {"name": "escaped", "folder": given, "write": True}
        answer = client.post("/api/scenario", json=body)
        assert 400 <= answer.status_code < 500, given
        assert answer.json()["field"] == "folder"
        answer = client.post("/api/scenario", json={**body, "write": False})
        assert answer.json().get("field") == "folder"
    assert list(outside.iterdir()) == []
    assert not ESCAPED.exists()
    assert not (tree.parent / "escaped").exists()
    assert _outside(tree) == []
    assert state_of(client) == before


def test_a_scenario_is_written_in_the_scenario_folders_and_never_over_a_file(
    client: Any, tree: Path
) -> None:
    saved = tree / "saved"
    ok = client.post("/api/scenario", json={"name": "a1", "folder": "saved/sub", "write": True})
    assert ok.status_code == 200, ok.text
    assert (saved / "sub" / "a1.yaml").is_file()
    default = client.post("/api/scenario", json={"name": "a2", "write": True})
    assert default.status_code == 200
    assert (saved / "a2.yaml").is_file()
    again = client.post("/api/scenario", json={"name": "a2", "write": True})
    assert again.status_code == 422
    target = tree.parent / f"target-{tree.name}.yaml"
    (saved / "a3.yaml").symlink_to(target)  # a dangling link is not followed
    linked = client.post("/api/scenario", json={"name": "a3", "write": True})
    assert linked.status_code == 422
    assert not target.exists()


@pytest.mark.parametrize("name", ["../x", "/abs", "a/b", "x\n", "A", "x" * 101, "", ".."])
def test_a_scenario_name_that_is_no_plain_name_is_refused(client: Any, name: str) -> None:
    answer = client.post("/api/scenario", json={"name": name, "write": True})
    assert answer.status_code == 422
    assert answer.json()["field"] == "name"


# -- hostile bodies --------------------------------------------------------------------------

SURROGATE = '"\\ud800"'
HOSTILE_TEXTS = [
    '{"event": "choose_link_existing", "payload": {"x": 1e400}}',
    '{"event": "choose_link_existing", "payload": {"x": -1e400}}',
    f'{{"event": "choose_link_existing", "payload": {{"x": {SURROGATE}}}}}',
    f'{{"event": {SURROGATE}}}',
    '{"event": "choose_link_existing", "payload": {"x": 9007199254740993}}',
    '{"event": "choose_link_existing", "payload": {"x": 1' + "0" * 5000 + "}}",
    '{"event": "choose_link_existing", "payload": ' + '{"a": ' * 3000 + "1" + "}" * 3001,
    '{"event": "choose_link_existing", "payload": ' + "[" * 3000 + "]" * 3000 + "}",
    '{"event": "a", "event": "b"}',
    '{"seconds": NaN}',
    '{"seconds": 1e400}',
    '{"start": "link_qr", "data": {"actor": 1e400}}',
    '{"name": "x", "folder": "\\ud800"}',
    "[]",
    '"text"',
    "null",
    "{",
    '{"event": "x"} trailing',
]
HOSTILE_VALUES: list[Any] = [
    2**53 - 1,
    -(2**53) + 1,
    1.7976931348623157e308,
    5e-324,
    "x" * 100_000,
    json.loads("[" * 60 + "]" * 60),
    {"a": {"b": {"c": {"d": {}}}}},
    True,
    [],
    "\u0000",
    "\U0001f600" * 1000,
]
ENDPOINTS = {
    "/api/send": ["event", "payload"],
    "/api/wait": ["seconds"],
    "/api/reset": ["start", "data"],
    "/api/scenario": ["name", "description", "folder"],
}


@pytest.mark.parametrize("path", list(ENDPOINTS))
@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
def test_a_hostile_body_is_a_4xx_and_the_session_keeps_working(
    client: Any, path: str, text: str
) -> None:
    before = state_of(client)
    answer = client.post(path, content=text.encode("utf-8", "surrogatepass"))
    assert 400 <= answer.status_code < 500, answer.text
    assert "error" in answer.json()
    assert state_of(client) == before
    assert client.post("/api/send", json={"event": "choose_link_existing"}).status_code == 200


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_hostile_values_in_every_field_never_break_the_session(client: Any, path: str) -> None:
    """Values the reader takes (safe integers, long texts, deep but allowed nesting, wrong
    types): each is answered (a 4xx, or taken when it is a fair value), the next state
    request answers 200, and the page's own requests keep working."""
    for field in ENDPOINTS[path]:
        for value in HOSTILE_VALUES:
            body: dict[str, Any] = {field: value}
            if field == "payload":
                body = {"event": "choose_link_existing", "payload": {"x": value}}
            elif field == "data":
                body = {"data": {**DEMO_DATA, "actor": value}}
            elif field in ("description", "folder"):
                body = {"name": "fuzzed", field: value}
            answer = client.post(path, json=body)
            assert answer.status_code < 500, (field, repr(value)[:40], answer.text[:200])
            assert client.get("/api/state").status_code == 200, (field, repr(value)[:40])
    assert client.post("/api/reset", json={"data": DEMO_DATA}).status_code == 200
    assert client.post("/api/send", json={"event": "click_link_tiktok_account"}).json()["result"][
        "accepted"
    ]


def test_a_login_with_hostile_values_is_answered_and_saved(client: Any) -> None:
    for event in ["choose_link_existing", "choose_log_in", "confirm"]:
        client.post("/api/send", json={"event": event})
    for value in HOSTILE_VALUES:
        answer = client.post(
            "/api/send", json={"event": "log_in", "payload": {"username": value, "password": value}}
        )
        assert answer.status_code < 500, repr(value)[:40]
        assert client.get("/api/state").status_code == 200
    saved = client.post("/api/scenario", json={"name": "hostile_login"})
    assert saved.status_code == 200, saved.text


# -- the launch URL and a clean stop ---------------------------------------------------------


def _events(url: str, cookie: str) -> Any:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    stream = urllib.request.urlopen(request, timeout=30)
    assert stream.readline().startswith(b"retry:")
    return stream


@pytest.mark.slow
@pytest.mark.parametrize("store", [False, True], ids=["playground", "with-store"])
def test_sigterm_stops_the_studio_cleanly_with_pages_open(tree: Path, store: bool) -> None:
    """uvicorn waits for open connections before the app's shutdown; open event streams used
    to keep it waiting until it cancelled them, printing "Task was destroyed but it is
    pending!" and tracebacks, and the process died by the signal."""
    port = free_port()
    args = [str(LINKFLOW), "studio", "workflows", "--world", WORLD, "--port", str(port)]
    if store:
        args += ["--store", f"sqlite:///{tree / 'stop.db'}"]
    env = {**os.environ, "PYTHONASYNCIODEBUG": "1"}
    process = subprocess.Popen(
        args, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(rf"http://127\.0\.0\.1:{port}/\?token=([A-Za-z0-9_-]{{43,}}) ", line)
        assert found, line
        token = found.group(1)
        base = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "static/studio.css", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                assert process.poll() is None
                time.sleep(0.1)
        cookie = f"{cookie_name(port)}={session_value(token)}"
        streams = [_events(base + "api/events", cookie) for _ in range(2)]
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:  # pragma: no cover - a hung studio
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert time.monotonic() - started < 5
    assert "Task was destroyed but it is pending" not in err
    assert "Traceback" not in err
    assert "graceful shutdown exceeded" not in err
    assert token not in err
    for stream in streams:
        assert stream.read().endswith(b"\n\n")  # ended, not cut
