"""The operations view in Chromium, by mouse and by keyboard: filter and page the instances,
open a session as one run, read a pending timeout's due time, cancel and terminate as a named
operator (each confirmed, recorded in history with who did it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkflow.store import Store
from tests.studio_browser import DEMO_DATA, STEP_MS, chromium_browser, demo_tree
from tests.studio_browser import studio as run_studio

TO_QR = ("click_link_tiktok_account", "choose_link_existing", "choose_qr_code", "confirm")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser() as launched:
        yield launched


@pytest.fixture
def stocked(tmp_path: Path) -> tuple[Path, str, str]:
    """A demo tree and a store: three QR instances (ben, cy, ben) and a session whose entry
    instance handed off to a QR instance; (tree, store URL, the handed-off instance's id)."""
    tree = demo_tree(tmp_path)
    url = f"sqlite:///{tree / 'ops.db'}"
    with Store.open(url) as store:
        store.load_world(tree / "workflows" / "worlds" / "ads_manager_demo.yaml")
        flow = tree / "workflows" / "link_qr.yaml"
        for n, actor in enumerate(("ben", "cy", "ben")):
            store.start(flow, {**DEMO_DATA, "actor": actor}, instance_id=f"qr-{n}")
        entry = tree / "workflows" / "link_tiktok_account.yaml"
        store.start(entry, DEMO_DATA, instance_id="entry")
        handed = None
        for event in TO_QR:
            handed = store.send("entry", event).handed_to
        assert handed is not None
        return tree, url, handed.id


def _page(browser: Any, address: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(address.launch)
    page.wait_for_selector("#events button")
    yield page
    context.close()
    assert errors == [], f"the page raised: {errors}"


def _status(page: Any, text: str) -> None:
    page.locator("#instances-status").get_by_text(text).wait_for()


def _filter_and_page(page: Any) -> None:
    page.click("#tab-instances")
    _status(page, "5 instances on page 1")
    page.fill("#filter-limit", "2")
    page.click("#instances-list")
    _status(page, "2 instances on page 1; more on the next page")
    first = page.locator("#instances-table tbody").inner_text()
    assert page.is_disabled("#instances-prev")
    page.click("#instances-next")
    _status(page, "2 instances on page 2; more")
    assert page.locator("#instances-table tbody").inner_text() != first
    page.click("#instances-next")
    _status(page, "1 instance on page 3")
    assert page.is_disabled("#instances-next")
    page.click("#instances-prev")
    _status(page, "on page 2")
    page.fill("#filter-limit", "100")
    page.fill("#filter-data", "actor=ben")
    page.click("#instances-list")
    _status(page, "2 instances on page 1")
    listed = page.locator("#instances-table tbody").inner_text()
    assert "qr-0" in listed
    assert "qr-2" in listed
    assert "qr-1" not in listed


def _open_the_run(page: Any, method: str) -> None:
    page.fill("#filter-data", "")
    page.fill("#filter-workflow", "link_qr")
    page.fill("#filter-state", "qr_shown")
    page.click("#instances-list")
    _status(page, "4 instances")
    page.click(f"button[data-instance='{method}']")
    page.locator("#instance-heading").get_by_text(method).wait_for()
    run = page.locator("#instance-run").inner_text()
    assert "entry" in run
    assert "link_tiktok_account" in run
    assert "(completed)" in run  # the entry instance ended by handing off
    assert "Times out at" in page.locator("#instance-timeout").inner_text()
    assert "to 'timed_out'" in page.locator("#instance-timeout").inner_text()
    page.click("button[data-run='entry']")
    page.locator("#instance-heading").get_by_text("Instance entry").wait_for()
    assert page.is_disabled("#op-cancel")
    assert "it has ended" in page.locator("#op-cancel-reason").inner_text()
    page.click(f"button[data-run='{method}']")
    page.locator("#instance-heading").get_by_text(method).wait_for()


def test_filter_page_open_a_run_and_cancel_by_mouse(
    browser: Any, stocked: tuple[Path, str, str]
) -> None:
    tree, url, method = stocked
    with run_studio(tree, "--store", url) as address:
        for page in _page(browser, address):
            _filter_and_page(page)
            _open_the_run(page, method)
            page.fill("#operator-name", "")
            page.click("#op-cancel")
            page.locator("#op-result").get_by_text("Give your name as operator first").wait_for()
            page.fill("#operator-name", "ana")
            page.once("dialog", lambda dialog: dialog.dismiss())
            page.click("#op-cancel")
            page.locator("#op-result").get_by_text("Not done").wait_for()
            page.once("dialog", lambda dialog: dialog.accept())
            page.click("#op-cancel")
            page.locator("#op-result").get_by_text("Cancelled by ana").wait_for()
            history = page.locator("#instance-history").inner_text()
            assert "operator cancel by ana (studio)" in history
            assert page.is_disabled("#op-terminate")

    with Store.open(url) as store:
        assert store.get(method).outcome == "cancelled"
        assert store.history(method)[-1].actor == {"action": "cancel", "by": "ana", "via": "studio"}


def test_terminate_by_keyboard(browser: Any, stocked: tuple[Path, str, str]) -> None:
    tree, url, _ = stocked
    with run_studio(tree, "--store", url) as address:
        for page in _page(browser, address):
            page.focus("#tab-instances")
            page.keyboard.press("Enter")
            _status(page, "5 instances")
            page.focus("#filter-data")
            page.keyboard.type("actor=cy")
            page.keyboard.press("Enter")  # submits the filter form
            _status(page, "1 instance on page 1")
            page.focus("button[data-instance='qr-1']")
            page.keyboard.press("Enter")
            page.locator("#instance-heading").get_by_text("qr-1").wait_for()
            assert page.evaluate("document.activeElement.id") == "instance-heading"
            page.focus("#operator-name")
            page.keyboard.type("ben")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") != "operator-name"
            page.focus("#op-reason")
            page.keyboard.type("stuck at the QR code")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "op-terminate"
            page.once("dialog", lambda dialog: dialog.accept())
            page.keyboard.press("Enter")
            page.locator("#op-result").get_by_text("Terminated by ben").wait_for()
            assert page.evaluate("document.activeElement.id") == "instance-heading"
            assert "terminated" in page.locator("#instance-current").inner_text()
            timeout = page.locator("#instance-timeout").inner_text()
            assert timeout == "Ended: no timeout pending."

    with Store.open(url) as store:
        record = store.get("qr-1")
        assert (record.outcome, record.due) == ("terminated", None)
        assert store.history("qr-1")[-1].actor == {
            "action": "terminate",
            "by": "ben",
            "via": "studio",
            "reason": "stuck at the QR code",
        }
