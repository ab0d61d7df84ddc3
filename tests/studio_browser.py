"""Running `linkflow studio` and Debian's Chromium for the browser tests and the screenshots.

Chromium is the system one (`make` installs Debian's `chromium`); its path comes from
LINKFLOW_CHROMIUM or PATH and is handed to Playwright, which never downloads a browser.

`python -m tests.studio_browser DIR` writes docs/studio.md's screenshots into DIR (`make generate`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from linkflow.store import Store
from linkflow.studio.guard import cookie_name, session_value

ROOT = Path(__file__).resolve().parent.parent
LINKFLOW = Path(sys.executable).parent / "linkflow"
WORLD = "workflows/worlds/ads_manager_demo.yaml"
DEMO_DATA = {
    "actor": "ana",
    "business_center": "acme_brands",
    "ad_account": "acme_us",
    "campaign": "spring_sale",
}
START_SECONDS = 30.0
#: How long one step may take on a busy machine (well under a second when idle).
STEP_MS = 15000


def find_chromium() -> str | None:
    """The Chromium executable: LINKFLOW_CHROMIUM, else `chromium` on PATH."""
    given = os.environ.get("LINKFLOW_CHROMIUM", "")
    if given and Path(given).is_file():
        return given
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium, started headless through Playwright (which downloads nothing). No
    Chromium, or one that does not start, makes the test unavailable: a failure in CI."""
    from playwright.sync_api import Error, sync_playwright  # noqa: PLC0415 - the browser tests' own

    from tests.support.requirements import unavailable  # noqa: PLC0415

    chromium = find_chromium()
    if chromium is None:
        unavailable(
            "browser tests need Chromium: none found (set LINKFLOW_CHROMIUM or run `make setup`)"
        )
    with sync_playwright() as p:
        try:
            launched = p.chromium.launch(executable_path=chromium, headless=True)
        except Error as err:
            unavailable(f"browser tests need Chromium: {chromium} did not start: {err}")
        try:
            yield launched
        finally:
            launched.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_tree(target: Path) -> Path:
    """A copy of the workflows, the world and the scenarios, so a test may edit them."""
    shutil.copytree(ROOT / "workflows", target / "workflows")
    shutil.copytree(ROOT / "tests" / "scenarios", target / "tests" / "scenarios")
    return target


class Launched(str):
    """A server's base URL (the string), with the studio's per-launch token it printed (or ""
    when it printed none: a service with its own token) and the port."""

    token: str = ""
    port: int = 0

    @property
    def launch(self) -> str:
        """The URL that opens the studio: with `?token=` (the studio's, or under /studio/)."""
        page = self if self.endswith("/") else f"{self}/studio/"
        return f"{page}?token={self.token}" if self.token else page

    @property
    def cookie(self) -> str:
        """The Cookie header a browser holds after opening `launch`."""

        return f"{cookie_name(self.port)}={session_value(self.token)}" if self.token else ""


@contextmanager
def studio(cwd: Path, *extra: str) -> Iterator[Launched]:
    """`linkflow studio` on the demo, run in `cwd`; yields its URL, stops it afterwards."""
    port = free_port()
    demo = ["workflows", "--world", WORLD, "--data", json.dumps(DEMO_DATA)]
    args = ["studio", *demo, "--port", str(port), *extra]
    with _server(cwd, args, f"http://127.0.0.1:{port}/", "static/studio.css", port) as url:
        yield url


@contextmanager
def serve(cwd: Path, store_url: str, token_file: Path | None = None) -> Iterator[Launched]:
    """`linkflow serve` on the demo workflows and a store (and a token, when given); yields its
    base URL (no slash)."""
    port = free_port()
    args = ["serve", "workflows", "--store", store_url, "--port", str(port)]
    if token_file is not None:
        args += ["--token-file", str(token_file)]
    with _server(cwd, args, f"http://127.0.0.1:{port}", "/healthz", port) as url:
        yield url


@contextmanager
def _server(cwd: Path, args: list[str], url: str, probe: str, port: int) -> Iterator[Launched]:
    """A `linkflow` server process logging to cwd/<command>.log, up once `probe` answers."""
    log_path = cwd / f"{args[0]}.log"
    with log_path.open("wb") as out:
        command = [str(LINKFLOW), *args]
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(url + probe, process, log_path)
            launched = Launched(url)
            found = re.search(r"\?token=([A-Za-z0-9_-]+)", log_path.read_text(errors="replace"))
            launched.token = found.group(1) if found else ""
            launched.port = port
            yield launched
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
                process.kill()
                process.wait()


def post_json(url: str, body: dict[str, Any], cookie: str = "") -> dict[str, Any]:
    """POST `body` as JSON the way a client that is not a browser does (no Origin: the studio's
    X-Linkflow-Studio header instead), with the studio's cookie when given."""
    headers = {"Content-Type": "application/json", "X-Linkflow-Studio": "1"}
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers=headers
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


#: Where a test client says it talks to: a loopback Host, as the studio requires.
CLIENT_BASE = "http://127.0.0.1:8765"


def signed_in(client: Any) -> Any:
    """A Starlette TestClient on a studio app (base_url CLIENT_BASE), signed in as a browser
    is: the launch URL's token exchanged for the cookie; its posts say X-Linkflow-Studio and
    Content-Type: application/json (a test of another type passes its own)."""
    token = client.app.state.access.token
    if token:
        answer = client.get(f"/?token={token}", follow_redirects=False)
        assert answer.status_code == 303, answer.text
    client.headers["X-Linkflow-Studio"] = "1"
    client.headers["Content-Type"] = "application/json"
    return client


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"linkflow studio did not answer within {START_SECONDS} s")


def click_events(page: Any, events: Sequence[str]) -> None:
    """Click event buttons in order, waiting for each step to land in the history."""
    for event in events:
        count = page.locator("#history > li").count()
        page.click(f"#event-{event}")
        _wait_for_step(page, count)


def log_in(page: Any, account: str, password: str) -> None:
    """Log in with the TikTok account named `account` (its name, as the page shows it)."""
    count = page.locator("#history > li").count()
    page.click("#event-log_in")
    page.select_option("#payload-field-username", label=account)
    page.fill("#payload-field-password", password)
    page.click("#payload-send")
    _wait_for_step(page, count)


def _wait_for_step(page: Any, count: int) -> None:
    """Until the history has more than `count` steps. A locator, not `wait_for_function`: the
    page's Content-Security-Policy forbids the eval that one runs in the page."""
    page.locator("#history > li").nth(count).wait_for(state="attached", timeout=STEP_MS)


TO_LOGIN = ["click_link_tiktok_account", "choose_link_existing", "choose_log_in", "confirm"]


def demo_store(tree: Path) -> str:
    """A SQLite store in `tree` with a few instances of the demo flows; its URL."""
    url = f"sqlite:///{tree / 'demo.db'}"
    flows = tree / "workflows"
    qr = {"tiktok_account": "mia_makes", "user": "mia"}
    with Store.open(url) as store:
        store.load_world(tree / WORLD)
        store.start(flows / "link_login.yaml", DEMO_DATA, instance_id="login-waiting")
        linked = store.start(flows / "link_qr.yaml", DEMO_DATA, instance_id="qr-linked")
        store.send(linked.id, "approve", qr)
        store.send(linked.id, "refresh")
        declined = store.start(flows / "link_qr.yaml", DEMO_DATA, instance_id="qr-declined")
        store.send(declined.id, "decline", qr)
    return url


#: What each screenshot shows, by structure (written beside them; see `page_structure`).
STRUCTURE_FILE = "views.json"

#: Reads what a person sees: the visible headings, buttons, labels and the diagram's states.
STRUCTURE_JS = """(() => {
  const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const texts = (selector) => [...document.querySelectorAll(selector)].filter(shown)
    .map((e) => e.innerText.trim().replace(/\\s+/g, " ")).filter(Boolean);
  const svg = [...document.querySelectorAll(".diagram svg")].filter(shown)[0];
  const titles = (root, q) => (root ? [...root.querySelectorAll(q)].map((t) => t.textContent) : []);
  return {
    headings: texts("h1, h2, h3, h4, legend, summary, figcaption"),
    buttons: texts("button, a.button"),
    labels: texts("label"),
    diagram: titles(svg, "g.node > title"),
    current: titles(svg, "g.node.current > title"),
  };
})()"""


def page_structure(page: Any) -> dict[str, Any]:
    """The structure of what the page shows now (no pixels): compared to the committed
    views.json, it tells whether the screenshots still show the page as it is."""
    found: dict[str, Any] = page.evaluate(STRUCTURE_JS)
    found["viewport"] = [page.viewport_size["width"], page.viewport_size["height"]]
    return found


def png_size(path: Path) -> list[int]:
    """A PNG's width and height, from its header."""
    head = path.read_bytes()[:24]
    return [int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")]


def screenshots(out_dir: Path, write: bool = True) -> dict[str, Any]:
    """Each view at 1280x800 (and the playground on a narrow window): the playground after a
    refused login, in the reader and the engineer view; coverage; instances. Writes the PNGs
    (when `write`) and views.json, and returns the structures, by file name."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - playwright: only the screenshots need it; tests/test_studio.py imports `serve` from here

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("Chromium not found: run `make setup` (installs Debian's chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        try:
            return take_screenshots(browser, out_dir, write)
        finally:
            browser.close()


def take_screenshots(browser: Any, out_dir: Path, write: bool = True) -> dict[str, Any]:
    """`screenshots` in a running Playwright browser."""
    out_dir.mkdir(parents=True, exist_ok=True)
    seen: dict[str, Any] = {}

    def shot(page: Any, name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        seen[name] = page_structure(page)
        if write:
            page.screenshot(path=str(out_dir / name))

    with (
        tempfile.TemporaryDirectory() as tmp,
        studio(demo_tree(Path(tmp)), "--store", demo_store(Path(tmp))) as url,
    ):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(STEP_MS)
        page = context.new_page()
        page.goto(url.launch)
        page.wait_for_selector("#events button")
        click_events(page, TO_LOGIN)
        log_in(page, "Ana Cooks", "not-the-password")
        page.locator("#events").get_by_role("button", name="Log in…").click()
        shot(page, "studio-playground.png")
        page.set_viewport_size({"width": 420, "height": 800})
        shot(page, "studio-narrow.png")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.click("#payload-cancel")
        page.check("#engineer-view")
        page.locator("#diagram-caption").get_by_text("engineer view").wait_for()
        shot(page, "studio-engineer.png")
        page.uncheck("#engineer-view")
        page.locator("#diagram-caption").get_by_text("reader view").wait_for()
        page.click("#tab-coverage")
        page.wait_for_selector("#coverage-diagram svg", timeout=60000)
        page.select_option("#coverage-workflow", "link_login")
        page.locator("#coverage-caption").get_by_text("link_login").wait_for()
        shot(page, "studio-coverage.png")
        page.click("#tab-instances")
        page.click("button[data-instance='qr-linked']")
        page.locator("#instance-heading").get_by_text("qr-linked").wait_for()
        shot(page, "studio-instances.png")
        context.close()
    if write:
        for name, structure in seen.items():
            structure["png"] = png_size(out_dir / name)
        (out_dir / STRUCTURE_FILE).write_text(json.dumps(seen, indent=1, ensure_ascii=False) + "\n")
    return seen


if __name__ == "__main__":
    where = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    for written in [*screenshots(where), STRUCTURE_FILE]:
        print(f"wrote {where / written}")
