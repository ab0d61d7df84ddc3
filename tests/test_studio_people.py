"""The studio for people (issue 24): every method finished from what the page shows, with the
mouse and with the keyboard, on `linkflow studio` and on the studio `linkflow serve` mounts;
the reader diagram with zoom and pan; the focus rule; axe-core on every view.

The tests never type an id: they click labels, pick records by their names and type only what
a person invents or knows (a new username, a nickname, a password).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from linkflow.store import Store
from tests.studio_browser import (
    DEMO_DATA,
    STEP_MS,
    STRUCTURE_FILE,
    Launched,
    chromium_browser,
    demo_store,
    demo_tree,
    png_size,
    post_json,
    serve,
    studio,
    take_screenshots,
)

#: Browsers and servers: out of `make check-fast` (tests/conftest.py marks other such files).
pytestmark = pytest.mark.slow

PASSWORD = "open-sesame-42"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
#: The choice that opens a box to type a value the world's records do not hold.
ANOTHER = "Another value (type it)…"


@dataclass(frozen=True)
class Field:
    """One form field as a person fills it: `pick` a record by its name from a list, `choose`
    an option (a radio button) by its label, `type` text, or type a `new` value in a field
    that lists the world's records (a username not taken yet)."""

    name: str
    how: str
    value: str


@dataclass(frozen=True)
class Step:
    """Click the event labelled `label`; with `fields`, fill its form and send it."""

    label: str
    fields: tuple[Field, ...] = ()


START = (Step("Link TikTok account"),)
EXISTING = (*START, Step("Linking existing TikTok account"))
CREATE = (*START, Step("Create new TikTok account"))

#: The five methods, as a person goes through them: labels and names only.
METHODS: dict[str, tuple[Step, ...]] = {
    "select_from_business_center": (
        *EXISTING,
        Step("Select from your Business Center"),
        Step("Select an account", (Field("tiktok_account", "choose", "Acme Outlet"),)),
        Step("Confirm"),
        Step("Refresh the page"),
    ),
    "log_in": (
        *EXISTING,
        Step("Log in to an existing TikTok account"),
        Step("Confirm"),
        Step(
            "Log in",
            (Field("username", "pick", "Ana Cooks"), Field("password", "type", PASSWORD)),
        ),
        Step("Approve"),
        Step("Refresh the page"),
    ),
    "qr_code": (
        *EXISTING,
        Step("Link with QR code"),
        Step("Confirm"),
        Step(
            "Scan and approve",
            (
                Field("tiktok_account", "pick", "Mia Makes Things"),
                Field("user", "pick", "Mia Makes"),
            ),
        ),
        Step("Refresh the page"),
    ),
    "organization_owned": (
        *CREATE,
        Step(
            "Pick a create option",
            (Field("option", "choose", "Create Organization-owned TikTok account"),),
        ),
        Step("Confirm"),
        Step(
            "Create",
            (
                Field("nickname", "type", "Acme Careers"),
                Field("region", "choose", "Singapore"),
                Field("username", "type", "acme_careers"),
            ),
        ),
        Step("Refresh the page"),
    ),
    "sign_up": (
        *CREATE,
        Step(
            "Pick a create option", (Field("option", "choose", "Sign up for a new TikTok account"),)
        ),
        Step("Confirm"),
        Step(
            "Sign up",
            (
                Field("username", "type", "acme_fresh"),
                Field("nickname", "type", "Acme Fresh"),
                Field("password", "type", "Fresh-Start-2026"),
            ),
        ),
        Step("Approve"),
        Step("Refresh the page"),
    ),
}

#: Every event id of the demo workflows that a label could hide: none may show for people.
EVENT_IDS = (
    "click_link_tiktok_account",
    "choose_link_existing",
    "choose_create_new",
    "choose_select_from_business_center",
    "choose_log_in",
    "choose_qr_code",
    "choose_create_option",
)


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    """`linkflow studio` on the demo with a store (so the instances view is there too)."""
    tree = demo_tree(tmp_path_factory.mktemp("people"))
    with studio(tree, "--store", demo_store(tree)) as url:
        yield url


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    """`linkflow serve` on the demo workflows and a store holding the demo world (and no
    instance: nothing linked yet)."""
    tree = demo_tree(tmp_path_factory.mktemp("served"))
    store_url = f"sqlite:///{tree / 'world.db'}"
    with Store.open(store_url) as store:
        store.load_world(tree / "workflows" / "worlds" / "ads_manager_demo.yaml")
    with serve(tree, store_url) as url:
        yield url


def new_page(browser: Any, url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(url)
    page.locator("#state-heading").get_by_text("…").wait_for(state="detached")
    yield page
    context.close()
    assert errors == [], f"the page raised: {errors}"


@pytest.fixture
def page(browser: Any, demo: Launched) -> Iterator[Any]:
    post_json(demo + "api/reset", {"start": "link_tiktok_account", "data": DEMO_DATA}, demo.cookie)
    yield from new_page(browser, demo.launch)


# -- what the tests do as a person ------------------------------------------------------------


def current_state(page: Any) -> str:
    return str(page.locator("#current code").inner_text())


def history_length(page: Any) -> int:
    return int(page.locator("#history > li").count())


def focused(page: Any) -> dict[str, Any]:
    """What has the focus: its tag, id, visible words and label."""
    return dict(
        page.evaluate(
            r"""(() => { const e = document.activeElement;
            const label = e.labels && e.labels.length
                ? e.labels[0].innerText.replace(/\s*\*$/, "").trim() : "";
            const option = e.tagName === "SELECT" && e.selectedOptions.length
                ? e.selectedOptions[0].textContent.trim() : "";
            return {tag: e.tagName, id: e.id, type: e.type || "", label, option,
                    text: (e.innerText || "").trim()}; })()"""
        )
    )


def tab_to(page: Any, wanted: Any, what: str, limit: int = 80) -> dict[str, Any]:
    """Press Tab until `wanted(focused)` holds (at most `limit` presses)."""
    trail = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            return now
        trail.append(now["id"] or now["tag"])
    raise AssertionError(f"Tab never reached {what}; it went through {trail}")


def is_event(label: str) -> Any:
    return lambda f: f["tag"] == "BUTTON" and f["text"] in (label, f"{label}…")


def field_named(tag: str, name: str) -> Any:
    return lambda f: f["tag"] == tag and f["label"] == name


def wait_for_step(page: Any, count: int) -> None:
    page.locator("#history > li").nth(count).wait_for(state="attached")


def labelled(name: str) -> re.Pattern[str]:
    """A field's label: its name, and a star when it is required."""
    return re.compile(rf"^{re.escape(name)}( \*)?$")


def fill_with_mouse(page: Any, fields: tuple[Field, ...]) -> None:
    form = page.locator("#payload-fields")
    for field in fields:
        if field.how == "choose":
            form.get_by_label(field.value, exact=True).check()
        elif field.how == "pick":
            form.get_by_label(labelled(field.name)).select_option(label=field.value)
        elif field.how == "new":
            form.get_by_label(labelled(field.name)).select_option(label=ANOTHER)
            form.get_by_label(f"{field.name}: another value").fill(field.value)
        else:
            form.get_by_label(labelled(field.name)).fill(field.value)


def fill_with_keys(page: Any, fields: tuple[Field, ...]) -> None:
    for field in fields:
        if field.how == "choose":
            now = tab_to(page, lambda f: f["type"] == "radio", f"the options of {field.name}")
            for _ in range(40):
                if now["label"] == field.value:
                    page.keyboard.press("Space")
                    break
                page.keyboard.press("ArrowDown")
                now = focused(page)
            else:
                raise AssertionError(f"no option {field.value!r}")
        elif field.how in ("pick", "new"):
            tab_to(page, field_named("SELECT", field.name), field.name)
            wanted = field.value if field.how == "pick" else ANOTHER
            for _ in range(40):
                now = focused(page)
                # picking "another value" moves the focus into the box that opens for it
                if now["option"] == wanted or now["id"] == f"payload-field-{field.name}-other":
                    break
                page.keyboard.press("ArrowDown")
            else:
                raise AssertionError(f"no record named {wanted!r}")
            if field.how == "new":  # the box to type in opens, with the focus in it
                assert focused(page)["id"] == f"payload-field-{field.name}-other"
                page.keyboard.type(field.value)
        else:
            tab_to(page, field_named("INPUT", field.name), field.name)
            page.keyboard.type(field.value)
    tab_to(page, lambda f: f["id"] == "payload-send", "the Send button")
    page.keyboard.press("Enter")


def do(page: Any, steps: tuple[Step, ...], keyboard: bool) -> None:
    """Go through `steps` with the mouse or the keyboard; after each step the focus is on the
    new state's heading (the keyboard path starts from there)."""
    if keyboard:
        page.focus("#state-heading")
    for step in steps:
        count = history_length(page)
        if keyboard:
            tab_to(page, is_event(step.label), f"the event {step.label!r}")
            page.keyboard.press("Enter")
        else:
            name = re.compile(rf"^{re.escape(step.label)}…?$")  # "…": the event opens a form
            page.locator("#events").get_by_role("button", name=name).click()
        if step.fields:
            page.locator("#payload-form").wait_for()
            if keyboard:
                fill_with_keys(page, step.fields)
            else:
                fill_with_mouse(page, step.fields)
                page.click("#payload-send")
        wait_for_step(page, count)
        last = page.locator("#history > li").last
        assert last.get_attribute("class") == "accepted", last.inner_text()
        assert focused(page)["id"] == "state-heading", (step.label, focused(page))


def finished(page: Any) -> None:
    """The flow completed, and the page said so in words, never by an event id."""
    page.locator("#current .badge.completed").wait_for()
    history = page.locator("#history").inner_text()
    for event_id in EVENT_IDS:
        assert event_id not in history


# -- the five methods -------------------------------------------------------------------------


@pytest.mark.parametrize("keyboard", [False, True], ids=["mouse", "keyboard"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_is_finished_from_what_the_page_shows(
    page: Any, method: str, keyboard: bool
) -> None:
    do(page, METHODS[method], keyboard)
    finished(page)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_the_mounted_studio_plays_on_the_stores_world_from_a_start_form(
    browser: Any, served: Launched, method: str
) -> None:
    """Under `linkflow serve`, the playground runs on a copy of the store's world; the start
    data are picked in a form by the records' names; the page says it does not reload."""
    for page in new_page(browser, served.launch):
        assert "World: the store's world" in page.locator("#world-name").inner_text()
        page.locator("#connection").get_by_text("no reload").wait_for()
        start = page.locator("#start-fields")
        for name, record in (
            ("actor", "Ana Admin"),
            ("business_center", "Acme Brands"),
            ("ad_account", "Acme US"),
            ("campaign", "Spring Sale"),
        ):
            start.get_by_label(labelled(name)).select_option(label=record)
        page.click("#reset")
        page.locator("#result").get_by_text("Started link_tiktok_account again").wait_for()
        assert focused(page)["id"] == "state-heading"
        do(page, METHODS[method], keyboard=False)
        finished(page)


def test_a_session_without_start_data_says_where_to_choose_them(
    browser: Any, tmp_path: Path
) -> None:
    """The mounted studio was given no start data: the page says so and links to the start
    form, whose other fields show their defaults; once started, the prompt goes."""
    tree = demo_tree(tmp_path)
    store_url = f"sqlite:///{tree / 'world.db'}"
    with Store.open(store_url) as store:
        store.load_world(tree / "workflows" / "worlds" / "ads_manager_demo.yaml")
    with serve(tree, store_url) as base:
        for page in new_page(browser, base.launch):
            prompt = page.locator("#start-prompt")
            assert prompt.is_visible()
            prompt.get_by_role("link").click()
            assert focused(page)["id"] == "start-heading"
            assert page.locator("#start-field-dropdown").input_value() == "[]"
            assert page.locator("#start-field-actor").input_value() == ""
            page.locator("#start-fields").get_by_label(labelled("actor")).select_option(
                label="Ana Admin"
            )
            page.click("#reset")
            page.locator("#result").get_by_text("again").wait_for()
            assert prompt.is_hidden()
            assert page.locator("#start-field-actor").input_value() == "ana"


def test_a_session_starts_as_a_stored_instance_started(page: Any) -> None:
    """With a store, Start again offers its instances: the session starts with the chosen
    one's workflow and start data."""
    page.locator("#start-instance").focus()
    page.locator("#start-instance option", has_text="qr-linked").wait_for(state="attached")
    page.select_option("#start-instance", label="qr-linked (link_qr, done)")
    page.click("#start-instance-go")
    page.locator("#result").get_by_text("start data of instance qr-linked").wait_for()
    assert current_state(page) == "qr_shown"
    assert focused(page)["id"] == "state-heading"
    do(page, METHODS["qr_code"][-2:], keyboard=False)
    finished(page)


# -- the page itself ----------------------------------------------------------------------------


def test_hidden_elements_stay_hidden_whatever_their_style(browser: Any, tmp_path: Path) -> None:
    """`[hidden]` beats `button, .button {display: inline-block}`: the Instances tab without a
    store and the download link before anything was saved are not shown."""
    with studio(demo_tree(tmp_path)) as url:
        for page in new_page(browser, url.launch):
            for selector in ("#tab-instances", "#scenario-download"):
                assert page.locator(selector).get_attribute("hidden") is not None
                assert page.locator(selector).evaluate("e => getComputedStyle(e).display") == (
                    "none"
                )
                assert page.is_hidden(selector)


def _text_sizes(page: Any) -> dict[str, float]:
    """The diagram's smallest text on screen (px), its drawn width and the panel's width."""
    return dict(
        page.evaluate(
            """(() => { const box = document.getElementById("diagram");
            const svg = box.querySelector("svg");
            const viewBox = svg.viewBox.baseVal;
            const scale = svg.getBoundingClientRect().width / viewBox.width;
            const sizes = [...svg.querySelectorAll("text[font-size]")]
                .map((t) => parseFloat(t.getAttribute("font-size")) * scale);
            return {smallest: Math.min(...sizes), width: svg.getBoundingClientRect().width,
                    panel: box.clientWidth}; })()"""
        )
    )


def test_the_reader_diagram_fits_reads_zooms_pans_and_marks_the_path(page: Any) -> None:
    caption = page.locator("#diagram-caption")
    assert "reader view" in caption.inner_text()
    first = _text_sizes(page)
    assert first["smallest"] >= 10, first
    assert first["width"] <= first["panel"], first

    page.click("#diagram-zoom-in")
    bigger = _text_sizes(page)
    assert bigger["width"] > first["width"] * 1.2
    page.focus("#diagram")
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert _text_sizes(page)["width"] < bigger["width"]
    page.keyboard.press("0")
    assert _text_sizes(page)["width"] == pytest.approx(first["width"], abs=1)
    page.keyboard.down("Control")
    page.locator("#diagram").hover()
    page.mouse.wheel(0, -300)
    page.keyboard.up("Control")
    assert _text_sizes(page)["width"] > first["width"]
    box = page.locator("#diagram").bounding_box()
    before = page.locator("#diagram").evaluate("e => [e.scrollLeft, e.scrollTop]")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 120, box["y"] + box["height"] / 2 - 120)
    page.mouse.up()
    assert page.locator("#diagram").evaluate("e => [e.scrollLeft, e.scrollTop]") != before

    do(page, EXISTING, keyboard=False)
    for view in ("reader", "engineer"):
        if view == "engineer":
            page.check("#engineer-view")
            caption.get_by_text("engineer view").wait_for()
        diagram = page.locator("#diagram")
        assert diagram.locator("g.node.current").count() == 1
        assert diagram.locator("g.node.current title").text_content() == "link_existing.options"
        numbers = diagram.locator("g.edge text").all_text_contents()
        assert any(n.strip().startswith("1.") for n in numbers), (view, numbers)
        assert any(n.strip().startswith("2.") for n in numbers), (view, numbers)
    # the engineer view shows the ids beside the words
    assert page.locator("#event-back code.engineer").is_visible()


def test_focus_goes_to_the_new_states_heading_after_a_wait_and_a_reset(page: Any) -> None:
    page.fill("#wait-seconds", "5")
    page.click("#wait")
    wait_for_step(page, 0)
    assert focused(page)["id"] == "state-heading"
    page.click("#reset")
    page.locator("#result").get_by_text("again").wait_for()
    assert focused(page)["id"] == "state-heading"
    assert history_length(page) == 0
    # Start over is right after the events: two events, the fold, then it
    do(page, START, keyboard=True)
    tab_to(page, lambda f: f["id"] == "start-over", "Start over", limit=6)
    page.keyboard.press("Enter")
    page.locator("#history-empty").wait_for()
    assert focused(page)["id"] == "state-heading"
    assert current_state(page) == "identity_section"


def _serious(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    response = Axe().run(page).response
    assert response["passes"], "axe-core checked nothing"
    found = response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious_on_any_view(page: Any) -> None:
    seen: dict[str, list[str]] = {}
    seen["playground"] = _serious(page)
    page.locator("#event-not-now summary").click()
    seen["not possible now"] = _serious(page)
    do(page, (*EXISTING, Step("Log in to an existing TikTok account"), Step("Confirm")), False)
    page.locator("#events").get_by_role("button", name="Log in…").click()
    seen["payload form"] = _serious(page)
    page.check("#engineer-view")
    page.locator("#diagram-caption").get_by_text("engineer view").wait_for()
    seen["engineer view"] = _serious(page)
    page.click("#tab-coverage")
    page.wait_for_selector("#coverage-diagram svg", timeout=60000)
    seen["coverage"] = _serious(page)
    page.click("#tab-instances")
    page.click("button[data-instance='qr-linked']")
    page.locator("#instance-heading").get_by_text("qr-linked").wait_for()
    seen["instances"] = _serious(page)
    page.click("#tab-playground")
    page.set_viewport_size({"width": 420, "height": 800})
    seen["narrow"] = _serious(page)
    assert {view: found for view, found in seen.items() if found} == {}


def test_the_screenshots_show_the_page_as_it_is(browser: Any, tmp_path: Path) -> None:
    """docs/screenshots/ holds each view at 1280x800 and views.json, what they show by
    structure (headings, buttons, labels, the diagram's states): the page today must show the
    same, or the screenshots are stale. Compared by structure, not pixels, so fonts and
    anti-aliasing cannot make it flake."""
    committed = json.loads((SCREENSHOTS / STRUCTURE_FILE).read_text(encoding="utf-8"))
    for name, structure in committed.items():
        assert png_size(SCREENSHOTS / name) == structure.pop("png"), name
    now = take_screenshots(browser, tmp_path, write=False)
    assert list(tmp_path.iterdir()) == []
    regenerate = "run `make generate` (python -m tests.studio_browser docs/screenshots)"
    assert sorted(now) == sorted(committed), regenerate
    stale = sorted(name for name in committed if now[name] != committed[name])
    assert stale == [], f"stale screenshots {stale}: {regenerate}"
