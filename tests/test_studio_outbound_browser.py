"""The Effects and Webhooks views in Chromium: a store with a subscriber whose delivery went
dead (nothing listens at its URL) and an effect that went dead (its service's port is closed)
and one that failed (404); the views show the counts and the errors in words, a retry asks
first, is done by mouse and by keyboard, and the page says what changed; axe-core finds
nothing serious on either view."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from linkflow.store import Store
from linkflow.store.outbox import Outbox
from linkflow.store.webhooks import Webhooks
from tests.studio_browser import STEP_MS, chromium_browser, demo_tree, serve
from tests.studio_browser import studio as run_studio
from tests.support.outbound import Stocked, stock

#: Browsers and servers: out of `make check-fast` (tests/conftest.py marks other such files).
pytestmark = pytest.mark.slow

#: Where the views' screenshots go when set (to look at them); a temporary folder otherwise.
SHOTS_ENV = "LINKFLOW_OUTBOUND_SHOTS"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser() as launched:
        yield launched


@pytest.fixture
def stocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, Stocked]:
    tree = demo_tree(tmp_path)
    url = f"sqlite:///{tree / 'out.db'}"
    with Store.open(url) as store:
        return tree, url, stock(store, tmp_path, monkeypatch)


@pytest.fixture
def page(browser: Any, stocked: tuple[Path, str, Stocked]) -> Iterator[Any]:
    tree, url, _ = stocked
    with run_studio(tree, "--store", url) as address:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(STEP_MS)
        opened = context.new_page()
        errors: list[str] = []
        opened.on("pageerror", lambda err: errors.append(str(err)))
        opened.goto(address.launch)
        opened.wait_for_selector("#events button")
        yield opened
        context.close()
        assert errors == [], f"the page raised: {errors}"


def _focused(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """(() => { const e = document.activeElement;
            return {tag: e.tagName, id: e.id, text: (e.innerText || "").trim(),
                    label: e.getAttribute("aria-label") || ""}; })()"""
        )
    )


def _tab_to(page: Any, wanted: Any, what: str, limit: int = 40) -> dict[str, Any]:
    trail = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focused(page)
        if wanted(now):
            return now
        trail.append(now["id"] or now["text"][:20] or now["tag"])
    raise AssertionError(f"Tab never reached {what}; it went through {trail}")


def _serious(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    response = Axe().run(page).response
    assert response["passes"], "axe-core checked nothing"
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _shot(page: Any, folder: Path, name: str) -> Path:
    where = Path(os.environ.get(SHOTS_ENV) or folder)
    where.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    path = where / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    return path


def test_webhooks_view_shows_the_dead_and_retries_them_by_mouse(
    page: Any, stocked: tuple[Path, str, Stocked], tmp_path: Path
) -> None:
    _, url, found = stocked
    page.click("#tab-webhooks")
    card = page.locator(f"[data-webhook='{found.dead_hook}']")
    card.get_by_text("0 delivered, 0 pending, 0 retrying, 1 dead").wait_for()
    text = card.inner_text()
    assert found.dead_url in text
    assert "every event" in text
    assert "connection failed (ConnectError)" in text
    assert "Dead deliveries (1)" in text
    assert f"ask of instance {found.instance}" in text
    good = page.locator(f"[data-webhook='{found.good_hook}']").inner_text()
    assert "1 delivered, 0 pending, 0 retrying, 0 dead" in good
    assert "Takes\nevents named ask; every end of an instance" in good
    assert "ask of instance" in good  # what it last received, and when
    assert "whsec_" not in page.content()
    assert "webhook.secret" not in page.content()
    assert _serious(page) == []
    _shot(page, tmp_path, "studio-webhooks.png")
    page.once("dialog", lambda dialog: dialog.dismiss())
    card.get_by_role("button", name="Retry the dead delivery").click()
    page.locator("#webhooks-status").get_by_text("Not retried").wait_for()
    with Store.open(url) as store:
        assert Webhooks(store).get(found.dead_hook).dead == 1
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Retry the dead delivery").click()
    page.locator("#webhooks-status").get_by_text("Retried: 1 dead delivery").wait_for()
    assert "now 1 pending, 0 dead" in page.locator("#webhooks-status").inner_text()
    card.get_by_text("0 delivered, 1 pending, 0 retrying, 0 dead").wait_for()
    assert card.get_by_role("button").count() == 0  # nothing dead left to retry
    assert _focused(page)["id"] == "webhooks-heading"
    with Store.open(url) as store:
        state = Webhooks(store).get(found.dead_hook)
        assert (state.pending, state.dead) == (1, 0)


def test_effects_view_filters_retries_by_keyboard_and_opens_the_instance(
    page: Any, stocked: tuple[Path, str, Stocked], tmp_path: Path
) -> None:
    _, url, found = stocked
    page.focus("#tab-effects")
    page.keyboard.press("Enter")
    status = page.locator("#effects-status-line")
    status.get_by_text("2 effects on page 1").wait_for()
    counts = page.locator("#effects-counts").inner_text()
    assert "1 dead, 1 failed" in counts
    table = page.locator("#effects-table tbody").inner_text()
    assert "its attempts ran out" in table
    assert "the service refused it" in table
    assert "the service answered HTTP 404 (not retried)" in table
    assert "connection failed (ConnectError)" in table
    assert f"asking {found.instance}" in table
    assert "tell (notify POST to partner)" in table
    assert _serious(page) == []
    _shot(page, tmp_path, "studio-effects.png")
    # only the dead, by keyboard: the filter, List, then Tab on to its Retry
    page.focus("#effects-status")
    page.select_option("#effects-status", "dead")
    _tab_to(page, lambda f: f["id"] == "effects-list", "List")
    page.keyboard.press("Enter")
    status.get_by_text("1 dead effect on page 1").wait_for()
    reached = _tab_to(page, lambda f: f["text"] == "Retry", "Retry")
    assert reached["label"] == f"Retry tell (notify POST to partner) of asking {found.instance}"
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Enter")
    status.get_by_text("Retried: tell (notify POST to partner)").wait_for()
    assert "is pending again" in status.inner_text()
    assert _focused(page)["id"] == "effects-heading"
    assert page.locator("#effects-table tbody tr").count() == 0  # no dead effect left
    with Store.open(url) as store:
        assert Outbox(store).get(found.dead_effect).status == "pending"
        assert Outbox(store).get(found.failed_effect).status == "failed"
    # the failed one by mouse, from the list of every status, after a call-off
    page.select_option("#effects-status", "")
    page.click("#effects-list")
    status.get_by_text("2 effects on page 1").wait_for()
    row = page.locator(f"tr[data-effect='{found.dead_effect}']")
    assert "waiting for its first attempt" in row.inner_text()
    assert "UTC" in row.locator("td").nth(5).inner_text()  # its next attempt
    failed = page.locator(f"button[data-retry-effect='{found.failed_effect}']")
    page.once("dialog", lambda dialog: dialog.dismiss())
    failed.click()
    status.get_by_text("Not retried: tell (notify POST to partner) stays failed.").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    failed.click()
    # (get_by_text matches "Not retried" too, case-insensitively: wait for the words after)
    status.get_by_text(
        f"Retried: tell (notify POST to partner) of asking {found.instance}"
    ).wait_for()
    page.locator("#effects-counts").get_by_text("0 dead, 0 failed").wait_for()
    # the instance of an effect opens in the Instances view
    page.locator(f"tr[data-effect='{found.dead_effect}'] button[data-effect-instance]").click()
    page.locator("#instance-heading").get_by_text(found.instance).wait_for()
    assert page.get_attribute("#tab-instances", "aria-pressed") == "true"
    assert "tell (notify): pending" in page.locator("#instance-effects").inner_text()


def test_the_studio_linkflow_serve_mounts_has_both_views_behind_its_guard(
    browser: Any, stocked: tuple[Path, str, Stocked]
) -> None:
    """At /studio of `linkflow serve`: the views read the service's store, a retry from a
    page on another origin is refused (403) and changes nothing, the page's own works."""
    tree, url, found = stocked
    with serve(tree, url) as base:
        studio_url = f"{base}/studio/"
        retry = f"{studio_url}api/webhooks/{found.dead_hook}/retry"
        stranger = urllib.request.Request(
            retry,
            data=b"{}",
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Cookie": base.cookie,
                "Origin": "http://localhost:9",
            },
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(stranger, timeout=30)
        refused.value.close()
        assert refused.value.code == 403
        with Store.open(url) as store:
            assert Webhooks(store).get(found.dead_hook).dead == 1
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(STEP_MS)
        page = context.new_page()
        page.goto(base.launch)
        page.wait_for_selector("#events button")
        page.click("#tab-effects")
        page.locator("#effects-counts").get_by_text("1 dead, 1 failed").wait_for()
        page.click("#tab-webhooks")
        card = page.locator(f"[data-webhook='{found.dead_hook}']")
        card.get_by_text("1 dead").wait_for()
        page.once("dialog", lambda dialog: dialog.accept())
        card.get_by_role("button", name="Retry the dead delivery").click()
        page.locator("#webhooks-status").get_by_text("Retried: 1 dead delivery").wait_for()
        context.close()
