"""The studio in real Chromium (Debian's, driven by Playwright, headless).

In CI (CI=true) a test that cannot start Chromium fails; elsewhere it is skipped with the reason.
Each test runs `linkflow studio` as a subprocess on a copy of the demo, so files may be edited.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from linkflow.store import Store
from tests.studio_browser import (
    DEMO_DATA,
    LINKFLOW,
    STEP_MS,
    TO_LOGIN,
    Launched,
    chromium_browser,
    click_events,
    demo_tree,
    post_json,
    serve,
)
from tests.studio_browser import log_in as send_log_in
from tests.studio_browser import studio as run_studio

WRONG = "not-the-pw-7731"
RIGHT = "open-sesame-42"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Launched, Path]]:
    """One studio for the tests that edit no file; each starts from a reset."""
    tree = demo_tree(tmp_path_factory.mktemp("studio"))
    with run_studio(tree, "--verbose") as address:
        yield address, tree


@pytest.fixture
def tree(server: tuple[Launched, Path]) -> Path:
    return server[1]


def open_page(browser: Any, url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(STEP_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda err: errors.append(str(err)))
    opened.goto(url.launch if isinstance(url, Launched) else url)
    opened.wait_for_selector("#events button")
    yield opened
    context.close()
    assert errors == [], f"the page raised: {errors}"


@pytest.fixture
def page(browser: Any, server: tuple[Launched, Path]) -> Iterator[Any]:
    url = server[0]
    post_json(url + "api/reset", {}, url.cookie)
    yield from open_page(browser, url)


@pytest.fixture
def own_tree(tmp_path: Path) -> Path:
    return demo_tree(tmp_path)


@pytest.fixture
def own_page(browser: Any, own_tree: Path) -> Iterator[Any]:
    """A page on a studio of its own, for a test that edits the workflow files."""
    with run_studio(own_tree) as url:
        yield from open_page(browser, url)


def current(page: Any) -> str:
    return str(page.locator("#current code").inner_text())


def _save_secret_session(page: Any, tree: Path) -> None:
    """Save the session as a scenario: its secret steps read environment variables, and the
    scenario passes with them set, printing neither password."""
    page.fill("#scenario-name", "l2_session")
    page.click("#save-scenario")
    page.locator("#save-result").get_by_text("Saved").wait_for()
    said = page.locator("#save-result").inner_text()
    first, second = "LINKFLOW_SECRET_LOG_IN_PASSWORD", "LINKFLOW_SECRET_LOG_IN_PASSWORD_STEP6"
    assert f"{first}=… {second}=… linkflow test" in said
    saved = tree / "tests" / "scenarios" / "studio" / "l2_session.yaml"
    text = saved.read_text()
    assert WRONG not in text
    assert RIGHT not in text
    env = {**os.environ, first: WRONG, second: RIGHT}
    run = subprocess.run(
        [str(LINKFLOW), "test", str(saved)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert WRONG not in run.stdout + run.stderr
    assert RIGHT not in run.stdout + run.stderr


def test_l2_login_refusal_explained_and_password_nowhere(page: Any, tree: Path) -> None:
    responses: list[Any] = []
    # Playwright wraps a handler by setting an attribute on it: a bound builtin will not do.
    page.on("response", lambda response: responses.append(response))  # noqa: PLW0108
    click_events(page, TO_LOGIN)
    assert current(page) == "login_window"
    assert "link_login" in page.locator("#chain").inner_text()

    page.click("#event-log_in")
    assert page.get_attribute("#payload-field-password", "type") == "password"
    # the account is picked by its name from the world's records; the key is what is sent
    assert page.locator("#payload-field-username").evaluate("e => e.tagName") == "SELECT"
    page.select_option("#payload-field-username", label="Ana Cooks")
    page.fill("#payload-field-password", WRONG)
    page.click("#payload-send")
    result = page.locator("#result")
    result.get_by_text("refused").wait_for()
    text = result.inner_text()
    assert "credentials_valid" in text
    assert "[R11]" in text
    assert "Could not log in to TikTok account 'ana_cooks'" in text
    assert current(page) == "login_window"  # unchanged
    assert page.locator("#history > li.refused").count() == 1
    assert page.is_hidden("#payload-form")
    assert page.locator("#payload-field-password").count() == 0  # the form is gone, value and all

    send_log_in(page, "Ana Cooks", RIGHT)
    assert current(page) == "authorizing"
    click_events(page, ["approve", "refresh"])
    assert current(page) == "done"
    assert "completed" in page.locator("#current").inner_text()

    _save_secret_session(page, tree)

    html = page.content()
    for secret in (WRONG, RIGHT):
        assert secret not in html
        assert secret not in page.evaluate("document.body.innerText")
    bodies = [r.body() for r in responses if "api/events" not in r.url]
    assert len(bodies) >= 8
    for body in bodies:
        assert WRONG.encode() not in body
        assert RIGHT.encode() not in body
    log = (tree / "studio.log").read_text()
    assert "POST /api/send" in log  # the access log is on, and holds no payload
    assert WRONG not in log
    assert RIGHT not in log


def test_l2_saved_before_login_holds_no_password(page: Any, tree: Path) -> None:
    click_events(page, TO_LOGIN)
    page.fill("#scenario-name", "l2_up_to_the_login")
    page.click("#save-scenario")
    page.locator("#save-result").get_by_text("Saved").wait_for()
    send_log_in(page, "Ana Cooks", RIGHT)
    saved = tree / "tests" / "scenarios" / "studio" / "l2_up_to_the_login.yaml"
    text = saved.read_text()
    assert RIGHT not in text
    assert "state: login_window" in text
    run = subprocess.run(
        [str(LINKFLOW), "test", str(saved)], cwd=tree, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_qr_flow_times_out_and_saved_scenario_passes(page: Any, tree: Path) -> None:
    click_events(page, ["click_link_tiktok_account", "choose_link_existing", "choose_qr_code"])
    click_events(page, ["confirm"])
    assert current(page) == "qr_shown"
    assert "times out after 1800" in page.locator("#clock").inner_text()

    page.fill("#wait-seconds", "600")
    page.click("#wait")
    page.locator("#result").get_by_text("nothing timed out").wait_for()
    assert current(page) == "qr_shown"
    page.fill("#wait-seconds", "1200")
    page.click("#wait")
    page.locator("#current").get_by_text("timed out").wait_for()
    assert current(page) == "timed_out"
    assert page.is_disabled("#event-approve")
    page.locator("#event-not-now summary").click()  # folded under "Not possible now"
    assert "not possible at this point" in page.locator("#event-approve-reason").inner_text()

    page.fill("#scenario-name", "qr_left_to_time_out")
    page.fill("#scenario-description", "Saved from the browser test.")
    page.click("#save-scenario")
    page.locator("#save-result").get_by_text("Saved").wait_for()
    with page.expect_download() as info:
        page.click("#scenario-download")
    downloaded = Path(info.value.path()).read_text()
    saved = tree / "tests" / "scenarios" / "studio" / "qr_left_to_time_out.yaml"
    assert saved.read_text() == downloaded
    assert "wait: 1200" in downloaded
    run = subprocess.run(
        [str(LINKFLOW), "test", str(saved)], cwd=tree, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout or "passed" in run.stdout


def test_editing_a_workflow_updates_the_page_and_a_broken_one_is_located(
    own_page: Any, own_tree: Path
) -> None:
    page = own_page
    entry = own_tree / "workflows" / "link_tiktok_account.yaml"
    good = entry.read_text()
    assert "title: Link or create a TikTok account as a Spark Ads identity" in good
    edited = good.replace(
        "title: Link or create a TikTok account as a Spark Ads identity",
        "title: Edited while the page was open",
    )
    started = time.monotonic()
    entry.write_text(edited)
    page.locator("#current").get_by_text("Edited while the page was open").wait_for(timeout=3000)
    seconds = time.monotonic() - started
    assert seconds < 3.0

    broken_at = edited.index("initial: identity_section")
    line = edited[:broken_at].count("\n") + 1
    entry.write_text(edited.replace("initial: identity_section", "initial: no_such_state"))
    problems = page.locator("#problems")
    problems.get_by_text("no_such_state").wait_for(timeout=3000)
    located = re.search(r"link_tiktok_account\.yaml:(\d+):(\d+)", problems.inner_text())
    assert located is not None, problems.inner_text()
    assert int(located.group(1)) == line
    # The last good version keeps running.
    assert "Edited while the page was open" in page.locator("#current").inner_text()
    click_events(page, ["click_link_tiktok_account"])
    assert current(page) == "link_dialog"

    entry.write_text(good)
    page.wait_for_selector("#problems", state="hidden", timeout=3000)
    page.locator("#current").get_by_text("Spark Ads identity").wait_for(timeout=3000)
    assert current(page) == "link_dialog"  # the steps were replayed on the fixed file


def test_coverage_view_draws_the_overlay(page: Any) -> None:
    page.click("#tab-coverage")
    assert page.is_hidden("#playground")
    page.wait_for_selector("#coverage-diagram svg", timeout=60000)
    assert "scenario files in tests/scenarios" in page.locator("#coverage-status").inner_text()
    page.select_option("#coverage-workflow", "link_qr")
    assert "link_qr" in page.locator("#coverage-caption").inner_text()
    assert "link_qr" in page.locator("#coverage-table").inner_text()
    page.fill("#coverage-folder", "no/such/folder")
    page.click("#coverage-run")
    page.locator("#coverage-status").get_by_text("no such folder").wait_for()


def test_keyboard_labels_and_narrow_window(page: Any) -> None:
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select, textarea, button')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                     && !e.textContent.trim())
        .map(e => e.id || e.outerHTML)"""
    )
    assert unlabelled == []
    page.focus("#event-click_link_tiktok_account")
    page.keyboard.press("Enter")
    page.locator("#current").get_by_text("link_dialog").wait_for()
    page.focus("#event-choose_link_existing")
    page.keyboard.press("Space")
    page.locator("#current").get_by_text("link_existing.options").wait_for()
    page.set_viewport_size({"width": 400, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_instances_view_lists_opens_and_sends_with_confirmation(
    browser: Any, own_tree: Path
) -> None:
    url = f"sqlite:///{own_tree / 'instances.db'}"
    with Store.open(url) as store:
        store.load_world(own_tree / "workflows" / "worlds" / "ads_manager_demo.yaml")
        flow = own_tree / "workflows" / "link_qr.yaml"
        waiting = store.start(flow, DEMO_DATA, instance_id="qr-waiting")
        done = store.start(flow, DEMO_DATA, instance_id="qr-declined")
        store.send(done.id, "decline", {"tiktok_account": "mia_makes", "user": "mia"})
    assert waiting.state == "qr_shown"

    with run_studio(own_tree, "--store", url) as address:
        for page in open_page(browser, address):
            page.click("#tab-instances")
            rows = page.locator("#instances-table tbody tr")
            rows.nth(1).wait_for()
            assert rows.count() == 2
            assert "qr-waiting" in page.locator("#instances-table").inner_text()
            page.fill("#filter-state", "declined")
            page.click("#instances-list")
            page.locator("#instances-status").get_by_text("1 instance").wait_for()
            assert "qr-declined" in rows.first.inner_text()
            page.click("button[data-instance='qr-declined']")
            page.locator("#instance-heading").get_by_text("qr-declined").wait_for()
            assert "decline: qr_shown → declined" in page.locator("#instance-history").inner_text()
            assert page.locator("#instance-diagram g.node.current").count() == 1

            page.fill("#filter-state", "")
            page.click("#instances-list")
            page.locator("#instances-status").get_by_text("2 instances").wait_for()
            page.click("button[data-instance='qr-waiting']")
            page.locator("#instance-heading").get_by_text("qr-waiting").wait_for()
            assert page.is_enabled("#instance-event-cancel")
            page.once("dialog", lambda dialog: dialog.dismiss())
            page.click("#instance-event-cancel")
            page.locator("#instance-result").get_by_text("Not sent").wait_for()
            assert "qr_shown" in page.locator("#instance-current").inner_text()
            page.once("dialog", lambda dialog: dialog.accept())
            page.click("#instance-event-cancel")
            page.locator("#instance-result").get_by_text("cancel: qr_shown → cancelled").wait_for()
            assert "cancelled" in page.locator("#instance-current").inner_text()

    with Store.open(url) as store:
        assert store.get("qr-waiting").state == "cancelled"


def test_serve_mounts_the_studio_and_it_lists_instances_made_through_the_api(
    browser: Any, own_tree: Path
) -> None:
    url = f"sqlite:///{own_tree / 'served.db'}"
    with serve(own_tree, url) as base:
        data = {"workflow": "link_qr", "data": DEMO_DATA}
        post_json(f"{base}/instances", {**data, "id": "api-first"})
        post_json(f"{base}/instances", {**data, "id": "api-second"})
        sent = post_json(f"{base}/instances/api-second/events", {"event": "cancel"})
        assert sent["accepted"] is True
        for page in open_page(browser, base):
            assert page.is_visible("#tab-instances")
            page.click("#tab-instances")
            page.locator("#instances-status").get_by_text("2 instances").wait_for()
            table = page.locator("#instances-table").inner_text()
            assert "api-first" in table
            assert "api-second" in table
            page.click("button[data-instance='api-second']")
            page.locator("#instance-heading").get_by_text("api-second").wait_for()
            assert "cancel: qr_shown → cancelled" in page.locator("#instance-history").inner_text()
            # the path is drawn: the taken edge is numbered on the diagram
            assert "1." in page.locator("#instance-diagram").inner_text()
            assert (
                page.locator("#instance-diagram g.node.current title").text_content() == "cancelled"
            )


def test_with_a_token_the_browser_signs_in_and_then_uses_the_studio(
    browser: Any, own_tree: Path
) -> None:
    token = "studio-token-0123456789abcdef"
    (own_tree / "token").write_text(token + "\n", encoding="utf-8")
    url = f"sqlite:///{own_tree / 'signed.db'}"
    with serve(own_tree, url, token_file=own_tree / "token") as base:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(STEP_MS)
        page = context.new_page()
        page.goto(f"{base}/studio/")
        assert page.url == f"{base}/signin"
        page.fill("#token", "not-the-token-at-all")
        page.click("#signin")
        page.locator("#signin-error").wait_for()
        assert "not the service's token" in page.locator("#signin-error").inner_text()
        page.fill("#token", token)
        page.click("#signin")
        page.wait_for_selector("#events button")
        assert page.url == f"{base}/studio/"
        assert current(page) == "identity_section"  # the entry workflow's first state
        page.click("#tab-instances")
        page.locator("#instances-status").get_by_text("0 instances").wait_for()
        cookies = context.cookies()
        assert [c["name"] for c in cookies] == ["linkflow_studio"]
        assert cookies[0]["httpOnly"] is True
        assert token not in cookies[0]["value"]
        assert token not in page.content()
        context.close()
    assert token not in (own_tree / "serve.log").read_text()


# -- safe from other pages (issue 24, item 5) ------------------------------------------------

#: The attacker's page: "simple" cross-site writes a page on any site can make without asking,
#: `no-cors` fetches (text/plain, no type, a form type), forms posted into a frame, and a JSON
#: fetch that needs a preflight. It sets the title to "done" when all have been sent.
ATTACKER_PAGE = """<!doctype html><html><head><title>cats</title></head><body>
<iframe name="sink"></iframe>
<form id="f1" method="post" enctype="text/plain" target="sink" action="{target}api/send">
<input name='{{"event":"click_link_tiktok_account","x":"' value='"}}'></form>
<form id="f2" method="post" target="sink" action="{target}api/scenario">
<input name="name" value="pwned"><input name="folder" value="{escape}">
<input name="write" value="true"></form>
<form id="f3" method="post" enctype="text/plain" target="sink" action="{instance}">
<input name='{{"event":"cancel","x":"' value='"}}'></form>
<script>
const target = "{target}";
const cancel = JSON.stringify({{event: "cancel"}});
const sent = (path, body, headers) => fetch(target + path, {{
  method: "POST", mode: "no-cors", credentials: "include", body, headers: headers || {{}},
}}).catch(() => null);
async function attack() {{
  await Promise.allSettled([
    sent("api/send", JSON.stringify({{event: "click_link_tiktok_account"}}),
         {{"Content-Type": "text/plain"}}),
    sent("api/send", JSON.stringify({{event: "click_link_tiktok_account"}})),
    sent("api/reset", JSON.stringify({{start: "link_qr"}}),
         {{"Content-Type": "application/x-www-form-urlencoded"}}),
    sent("api/scenario", JSON.stringify({{name: "pwned", folder: "{escape}", write: true}})),
    fetch("{instance}", {{method: "POST", mode: "no-cors", credentials: "include", body: cancel,
      headers: {{"Content-Type": "text/plain"}}}}).catch(() => null),
    fetch("{instance}", {{method: "POST", credentials: "include", body: cancel,
      headers: {{"Content-Type": "application/json", "X-Linkflow-Studio": "1"}}}})
      .catch(() => null),
  ]);
  for (const id of ["f1", "f2", "f3"]) {{
    const frame = document.querySelector("iframe");
    const loaded = new Promise((done) => {{ frame.onload = done; setTimeout(done, 3000); }});
    document.getElementById(id).submit();
    await loaded;
  }}
  document.title = "done";
}}
attack();
</script></body></html>"""


@contextmanager
def attacker_site(page_text: str) -> Iterator[int]:
    """A second loopback HTTP server (another origin: another port) serving the attacker's
    page at /; yields its port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page_text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(site.server_address[1])
    finally:
        site.shutdown()
        site.server_close()
        thread.join()


def _store_with_waiting_instance(tree: Path) -> str:

    url = f"sqlite:///{tree / 'attacked.db'}"
    with Store.open(url) as store:
        store.load_world(tree / "workflows" / "worlds" / "ads_manager_demo.yaml")
        store.start(tree / "workflows" / "link_qr.yaml", DEMO_DATA, instance_id="qr-waiting")
    return url


@pytest.mark.parametrize("attacker_host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("under", ["studio", "serve"])
def test_a_page_on_another_origin_changes_nothing_and_writes_nothing(
    browser: Any, own_tree: Path, under: str, attacker_host: str
) -> None:
    """The developer has the studio open (the cookie is in the browser), then visits a page
    on another origin: 127.0.0.1 on another port (same site: SameSite does not help there)
    or localhost (another site). Its posts reach the studio and are refused; the durable
    instance, the playground and the filesystem are as they were."""

    store_url = _store_with_waiting_instance(own_tree)
    escape = own_tree.parent / f"escaped-{own_tree.name}"
    running = (
        run_studio(own_tree, "--store", store_url, "--verbose")
        if under == "studio"
        else serve(own_tree, store_url)
    )
    with running as base:
        studio_url = base if under == "studio" else f"{base}/studio/"
        instance = f"{studio_url}api/instances/qr-waiting/send"
        text = ATTACKER_PAGE.format(target=studio_url, instance=instance, escape=escape)
        for page in open_page(browser, base):
            before = page.locator("#current").inner_text()
            with attacker_site(text) as port:
                page.goto(f"http://{attacker_host}:{port}/")
                page.wait_for_function("document.title === 'done'", timeout=60000)
            page.goto(studio_url)
            page.wait_for_selector("#events button")
            assert page.locator("#current").inner_text() == before
            assert page.locator("#history > li").count() == 0
        state = urllib.request.Request(f"{studio_url}api/state", headers={"Cookie": base.cookie})
        with urllib.request.urlopen(state, timeout=30) as answer:
            assert json.loads(answer.read())["history"] == []
        # DNS rebinding: evil.example resolving to 127.0.0.1 sends its own name as the Host
        rebound = {"Cookie": base.cookie, "Host": f"evil.example:{base.port}"}
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(
                urllib.request.Request(f"{studio_url}api/state", headers=rebound), timeout=30
            )
        refused.value.close()
        assert refused.value.code == 403
    with Store.open(store_url) as store:
        assert store.get("qr-waiting").state == "qr_shown"
    assert not escape.exists()
    assert list(own_tree.rglob("pwned*")) == []
    if under == "studio":  # the posts did arrive, and were refused
        log = (own_tree / "studio.log").read_text()
        # 403 without the cookie (the token), 415 with it (text/plain): refused either way
        assert re.search(r'"POST /api/instances/qr-waiting/send HTTP/1.1" 4(03|15)', log), log
        assert re.search(r'"POST /api/scenario HTTP/1.1" 4(03|15)', log), log
        assert not re.search(r'"POST [^"]*" 200', log), log


def _click_label(page: Any, label: str) -> None:
    """Click the event button showing `label` (never its id) and wait for the step."""
    count = page.locator("#history > li").count()
    name = re.compile(rf"^{re.escape(label)}…?$")  # "…": the event opens a form
    page.locator("#events").get_by_role("button", name=name).click()
    if page.locator("#payload-form").is_hidden():
        page.locator("#history > li").nth(count).wait_for(state="attached")


def _send_form(page: Any) -> None:
    count = page.locator("#history > li").count()
    page.click("#payload-send")
    page.locator("#history > li").nth(count).wait_for(state="attached")


def test_sign_up_is_finished_by_clicking_labels_alone(page: Any) -> None:
    """A new user picks the sign-up method from the words the page shows: buttons read as
    labels, the create option is a radio button with its label; no id is ever typed."""
    listed = page.locator("#events > li:not(.not-now) button.event")
    assert listed.all_inner_texts() == ["Link TikTok account", "Close"]
    assert "Not possible now (8)" in page.locator("#event-not-now summary").inner_text()
    for label in ("Link TikTok account", "Create new TikTok account", "Pick a create option"):
        _click_label(page, label)
    page.get_by_label("Sign up for a new TikTok account").check()
    _send_form(page)
    assert current(page) == "create_new.signup_chosen"
    _click_label(page, "Confirm")
    _click_label(page, "Sign up")
    # a new username: the accounts the world holds would all be refused, so none is listed
    assert page.locator("#payload-field-username").evaluate("e => e.tagName") == "INPUT"
    page.locator("#payload-field-username").fill("ana_new_shop")
    page.get_by_label("password").fill(RIGHT)
    _send_form(page)
    _click_label(page, "Approve")
    assert current(page) == "created"


def test_a_username_the_world_does_not_hold_is_typed_as_another_value(page: Any) -> None:
    """The log-in list holds the world's accounts; its last choice opens a box for any other
    username, which is sent as typed (and refused here: no account has it)."""
    click_events(page, TO_LOGIN)
    page.click("#event-log_in")
    page.locator("#payload-field-username").select_option(label="Another value (type it)…")
    page.get_by_label("username: another value").fill("nobody_here")
    page.fill("#payload-field-password", RIGHT)
    _send_form(page)
    assert page.locator("#history > li").last.get_attribute("class") == "refused"
    assert "nobody_here" in page.locator("#result").inner_text()
    assert current(page) == "login_window"


def test_select_from_the_business_center_is_finished_by_clicking_labels_alone(page: Any) -> None:
    """Select from your Business Center: the account is a radio button showing its name."""
    for label in ("Link TikTok account", "Linking existing TikTok account"):
        _click_label(page, label)
    _click_label(page, "Select from your Business Center")
    _click_label(page, "Select an account")
    page.get_by_label("Acme Outlet").check()
    _send_form(page)
    assert page.locator("#history > li").last.get_attribute("class") == "accepted"
    _click_label(page, "Confirm")
    assert page.locator("#history > li").last.get_attribute("class") == "accepted"


def test_an_organization_owned_account_is_created_by_clicking_labels_alone(page: Any) -> None:
    """The create option and the region are radio buttons; only the nickname is typed."""
    for label in ("Link TikTok account", "Create new TikTok account", "Pick a create option"):
        _click_label(page, label)
    page.get_by_label("Create Organization-owned TikTok account").check()
    _send_form(page)
    _click_label(page, "Confirm")
    _click_label(page, "Create")
    page.get_by_label("nickname").fill("Acme Spring")
    page.locator("#payload-fields fieldset[data-choice=region] input[type=radio]").first.check()
    _send_form(page)
    assert page.locator("#history > li").last.get_attribute("class") == "accepted"


def test_the_qr_approve_form_shows_no_password_field(page: Any) -> None:
    """The QR approve event declares `password` only to refuse it (`not: {}`): no field."""
    for label in ("Link TikTok account", "Linking existing TikTok account", "Link with QR code"):
        _click_label(page, label)
    _click_label(page, "Confirm")
    _click_label(page, "Scan and approve")
    assert page.locator("#payload-field-tiktok_account").count() == 1
    assert page.locator("#payload-field-password").count() == 0
    assert page.locator("#payload-fields input[type=password]").count() == 0
    # The ids the fields can resolve to are suggested, with the records' names.
    # The records the fields can name are offered by their names; the key is what is sent.
    assert page.locator("#payload-field-user option[value=mia]").inner_text() == "Mia Makes"
    account = page.locator("#payload-field-tiktok_account option[value=mia_makes]")
    assert account.inner_text() == "Mia Makes Things"
