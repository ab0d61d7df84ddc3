"""The studio's highlight of a parallel state in real Chromium (Debian's, driven by
Playwright, headless): every active leaf of the `+`-joined state is outlined in the diagram,
and the outline follows each region as the events move it.

In CI (CI=true) a test that cannot start Chromium fails; elsewhere it is skipped with the
reason (tests/support/requirements.py).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error

from tests.studio_browser import (
    STEP_MS,
    _server,
    chromium_browser,
    click_events,
    free_port,
)

#: Browsers and servers: out of `make check-fast` (tests/conftest.py marks other such files).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
COLLECTING = "onboarding.documents.collecting"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser() as launched:
        yield launched


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """The studio on a copy of the examples, started on the onboarding workflow."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    port = free_port()
    args = ["studio", "examples", "--start", "onboarding", "--port", str(port)]
    url = f"http://127.0.0.1:{port}/"
    with _server(tmp_path, args, url, "static/studio.css", port) as launched:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(STEP_MS)
        opened = context.new_page()
        errors: list[str] = []
        opened.on("pageerror", lambda err: errors.append(str(err)))
        opened.goto(launched.launch)
        opened.wait_for_selector("#events button")
        yield opened
        context.close()
        assert errors == [], f"the page raised: {errors}"


def outlined(page: Any, expected: list[str]) -> list[str]:
    """The states outlined in the diagram, once they are `expected` (or as they stand when
    the wait runs out)."""
    nodes = "#diagram g.node.current > title"
    with contextlib.suppress(Error):  # then the assertion shows what is outlined instead
        page.wait_for_function(
            "([selector, wanted]) => JSON.stringify([...document.querySelectorAll(selector)]"
            ".map(t => t.textContent).sort()) === JSON.stringify(wanted)",
            arg=[nodes, sorted(expected)],
            timeout=STEP_MS,
        )
    found: list[str] = page.locator(nodes).evaluate_all("ts => ts.map(t => t.textContent)")
    return sorted(found)


def stroke(page: Any, state: str) -> float:
    """The drawn width of the outline of `state`'s box in the diagram."""
    shape = page.locator(f"#diagram g.node:has(> title:text-is('{state}')) :is(polygon, path)")
    width: str = shape.first.evaluate("e => getComputedStyle(e).strokeWidth")
    return float(width.removesuffix("px"))


def test_every_active_leaf_of_the_parallel_state_is_outlined(page: Any) -> None:
    assert page.locator("#current code").inner_text() == (
        f"{COLLECTING}+onboarding.equipment.ordering"
    )
    assert outlined(page, [COLLECTING, "onboarding.equipment.ordering"]) == [
        COLLECTING,
        "onboarding.equipment.ordering",
    ]
    # the outline is drawn: an active leaf's box is outlined wider than one that is not
    assert stroke(page, COLLECTING) > stroke(page, "onboarding.documents.signed")

    click_events(page, ["ship"])  # the equipment region moves; the documents region stays
    assert outlined(page, [COLLECTING, "onboarding.equipment.shipped"]) == [
        COLLECTING,
        "onboarding.equipment.shipped",
    ]
    click_events(page, ["add_document", "sign"])
    after = ["onboarding.documents.signed", "onboarding.equipment.shipped"]
    assert outlined(page, after) == after
    assert stroke(page, "onboarding.documents.signed") > stroke(page, COLLECTING)

    click_events(page, ["receive"])  # both regions done: the hire starts work
    assert outlined(page, ["working"]) == ["working"]
