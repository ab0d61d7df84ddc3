"""The studio without a browser: the playground, the saved scenarios, the JSON API."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from linkflow.analysis.coverage import run_suite
from linkflow.cli import main
from linkflow.language.loader import load
from linkflow.runtime.paths import ABSENT
from linkflow.service.config import ServiceConfig
from linkflow.service.server import GRACE_SECONDS
from linkflow.service.studio_mount import studio_app
from linkflow.store import Store
from linkflow.studio.app import create_app
from linkflow.studio.changes import Change, diff
from linkflow.studio.coverage_view import coverage_view
from linkflow.studio.guard import Access
from linkflow.studio.instances import InstancesView
from linkflow.studio.playground import Playground, PlaygroundError
from linkflow.studio.scenario_file import save_scenario, scenario_text
from linkflow.studio.start_form import asks_for_absence
from linkflow.testing.scenarios import run_scenario_file
from tests.studio_browser import CLIENT_BASE, DEMO_DATA, serve, signed_in

ROOT = Path(__file__).resolve().parent.parent
WORLD = str(ROOT / "workflows" / "worlds" / "ads_manager_demo.yaml")
PASSWORD = "open-sesame-42"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    return tmp_path


@pytest.fixture
def playground(tree: Path) -> Playground:
    return Playground(
        [str(tree / "workflows")], str(tree / "workflows/worlds/ads_manager_demo.yaml"), DEMO_DATA
    )


@pytest.fixture
def client(playground: Playground, tree: Path) -> Iterator[TestClient]:
    app = create_app(playground, scenario_folder=str(tree / "saved"), watch=False)
    with TestClient(app, base_url=CLIENT_BASE) as test_client:
        yield signed_in(test_client)


def test_diff_names_changed_paths_to_the_depth_asked() -> None:
    before = {"a": {"x": {"f": 1, "g": [1]}}, "b": {}}
    after = {"a": {"x": {"f": 2, "g": [1]}, "y": {"f": 0}}, "b": {}}
    assert diff(before, after, 3) == [
        Change("a.x.f", 1, 2),
        Change("a.y", ABSENT, {"f": 0}),
    ]
    assert diff(before, after, 1) == [Change("a", before["a"], after["a"])]
    assert diff({"k.dot": 1}, {"k.dot": 2}, 1) == []  # not addressable by a dotted path
    assert Change("p", ABSENT, 1).as_dict() == {"path": "p", "after": 1}


def test_entry_flow_hands_off_and_the_view_follows(playground: Playground) -> None:
    assert playground.start == "link_tiktok_account"
    for event in ["click_link_tiktok_account", "choose_link_existing", "choose_qr_code", "confirm"]:
        assert playground.send(event, {}).entry is not None
    view = playground.view()
    assert view["chain"] == ["link_tiktok_account", "link_qr"]
    assert view["current"]["state"] == "qr_shown"
    assert view["current"]["timeout"]["seconds"] == 1800
    assert "<svg" in view["diagram"]
    last = view["history"][-1]
    assert last["handed_to"] == "link_qr"
    # after a handoff the fields carried over unchanged are no news; the new ones are
    paths = {c["path"] for c in last["data_changes"]}
    assert "actor" not in paths
    assert {"tiktok_account", "approver"} <= paths


def test_refusal_leaves_everything_as_it_was_and_keeps_no_secret(playground: Playground) -> None:
    for event in ["click_link_tiktok_account", "choose_link_existing", "choose_log_in", "confirm"]:
        playground.send(event, {})
    before = json.dumps(playground.view())
    record = playground.send("log_in", {"username": "ana_cooks", "password": "wrong-one-123"})
    assert record.entry is not None
    assert record.entry.step.refusal is not None
    assert record.entry.step.refusal.rule == "R11"
    assert record.action.payload == {"username": "ana_cooks"}
    assert record.action.left_out == ("password",)
    after = playground.view()
    assert after["current"]["state"] == "login_window"
    assert after["data"] == json.loads(before)["data"]
    playground.send("log_in", {"username": "ana_cooks", "password": PASSWORD})
    text = json.dumps(playground.view())
    assert "wrong-one-123" not in text
    assert PASSWORD not in text
    records = {r["binding"]: r for r in playground.view()["records"]}
    assert records["login_account"]["key"] == "ana_cooks"  # keyed by the last public payload


def test_saved_scenario_passes_and_holds_every_expectation(
    playground: Playground, tree: Path
) -> None:
    for event in ["click_link_tiktok_account", "choose_link_existing"]:
        playground.send(event, {})
    playground.send("choose_select_from_business_center", {})
    playground.send("confirm", {})
    playground.send("select", {"tiktok_account": "globex_official"})  # refused (R8)
    playground.send("select", {"tiktok_account": "acme_outlet"})
    playground.send("confirm", {})
    playground.send("refresh", {})
    playground.wait(5)  # nothing waits here: a refused wait
    folder = tree / "tests" / "scenarios" / "studio"
    path = save_scenario(playground, "r8_studio_select", "From the unit test.", str(folder))
    text = path.read_text()
    assert "refused:" in text
    assert "rule: R8" in text
    assert "ad_accounts.acme_us.identities: [acme_official, acme_outlet]" in text
    result = run_scenario_file(path)
    assert result.passed, [str(f) for f in result.failures] + [str(p) for p in result.problems]
    assert len(result.steps) == 8
    with pytest.raises(PlaygroundError, match="already exists"):
        save_scenario(playground, "r8_studio_select", "", str(folder))


def test_saving_refuses_bad_names_and_empty_sessions(playground: Playground, tree: Path) -> None:
    with pytest.raises(PlaygroundError, match="nothing to save"):
        scenario_text(playground, "empty", "", tree)
    playground.send("click_link_tiktok_account", {})
    with pytest.raises(PlaygroundError, match="lowercase"):
        scenario_text(playground, "Bad Name", "", tree)


def test_a_session_with_secrets_saves_them_as_environment_variables_and_replays(
    playground: Playground, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for event in ["click_link_tiktok_account", "choose_link_existing", "choose_log_in", "confirm"]:
        playground.send(event, {})
    playground.send("log_in", {"username": "ana_cooks", "password": "not-the-one-1"})  # refused
    playground.send("log_in", {"username": "ana_cooks", "password": PASSWORD})
    playground.send("approve", {})
    folder = tree / "tests" / "scenarios" / "studio"
    path = save_scenario(playground, "r11_studio_login", "", str(folder))
    text = path.read_text()
    assert PASSWORD not in text
    assert "not-the-one-1" not in text
    first, second = "LINKFLOW_SECRET_LOG_IN_PASSWORD", "LINKFLOW_SECRET_LOG_IN_PASSWORD_STEP6"
    assert f"secrets: {{password: {first}}}" in text
    assert f"secrets: {{password: {second}}}" in text
    assert f"set these environment variables before running it: {first}, {second}" in text

    monkeypatch.delenv(first, raising=False)
    monkeypatch.delenv(second, raising=False)
    missing = run_scenario_file(path)
    assert not missing.passed
    assert [p.message for p in missing.problems] == [
        f"the secret field 'password' is read from the environment variable {first}, "
        "which is not set; set it before running this scenario"
    ]
    assert (
        missing.problems[0].location.line
        == text.splitlines().index(
            next(line for line in text.splitlines() if first in line and "secrets" in line)
        )
        + 1
    )

    monkeypatch.setenv(first, "not-the-one-1")
    monkeypatch.setenv(second, PASSWORD)
    result = run_scenario_file(path)
    assert result.passed, [str(f) for f in result.failures] + [str(p) for p in result.problems]
    assert len(result.steps) == 7

    monkeypatch.setenv(second, "not-the-one-1")  # the wrong value: the replay tells
    assert not run_scenario_file(path).passed


def test_reload_keeps_the_last_good_version_and_replays(playground: Playground, tree: Path) -> None:
    entry = tree / "workflows" / "link_tiktok_account.yaml"
    good = entry.read_text()
    playground.send("click_link_tiktok_account", {})
    entry.write_text(good.replace("initial: identity_section", "initial: nowhere"))
    problems = playground.apply_reload()
    assert problems
    assert "link_tiktok_account.yaml:" in str(problems[0])
    assert playground.view()["problems"][0]["line"] > 0
    assert playground.session.instance.state == "link_dialog"  # still running
    entry.write_text(good.replace("title: Link or create", "title: Renamed, link or create"))
    assert playground.apply_reload() == []
    view = playground.view()
    assert view["problems"] == []
    assert view["current"]["title"].startswith("Renamed,")
    assert view["current"]["state"] == "link_dialog"  # replayed
    assert "replayed" in view["notice"]


def test_replay_stops_where_the_new_definition_goes_differently(
    playground: Playground, tree: Path
) -> None:
    for event in ["click_link_tiktok_account", "choose_link_existing", "choose_log_in", "confirm"]:
        playground.send(event, {})
    playground.send("log_in", {"username": "ana_cooks", "password": PASSWORD})
    assert playground.apply_reload() == []
    assert "stopped at step 5" in playground.notice  # the password was not kept to replay
    assert playground.session.instance.state == "login_window"


def test_playground_rejects_what_it_cannot_do(tree: Path, playground: Playground) -> None:
    with pytest.raises(PlaygroundError, match="no workflow named 'nope'"):
        Playground([str(tree / "workflows")], None, None, "nope")
    with pytest.raises(PlaygroundError, match="no workflow found"):
        Playground([str(tree / "workflows" / "worlds")])
    with pytest.raises(PlaygroundError, match="no data field"):
        playground.reset(None, {"no_such_field": 1})
    with pytest.raises(PlaygroundError, match="no workflow named"):
        playground.reset("nope")
    with pytest.raises(PlaygroundError, match="seconds"):
        playground.wait(0)
    with pytest.raises(PlaygroundError, match="as a number"):
        playground.wait("ten")  # type: ignore[arg-type]
    with pytest.raises(PlaygroundError, match="name an event"):
        playground.send("", None)
    assert playground.records == []


def test_api_sends_waits_resets_and_answers_bad_requests(client: TestClient) -> None:
    state = client.get("/api/state").json()
    assert state["current"]["state"] == "identity_section"
    answer = client.post("/api/send", json={"event": "click_link_tiktok_account"})
    assert answer.status_code == 200
    assert answer.json()["state"]["current"]["state"] == "link_dialog"
    refused = client.post("/api/send", json={"event": "no_such_event"}).json()
    assert refused["result"]["accepted"] is False
    assert client.post("/api/wait", json={"seconds": 10}).json()["result"]["fired"] is False
    bad = [
        client.post("/api/send", content=b"{not json"),
        client.post("/api/send", json=["a list"]),
        client.post("/api/send", json={"event": 3}),
        client.post("/api/send", json={"event": "x", "payload": [1]}),
        client.post("/api/reset", json={"start": 1}),
        client.post("/api/reset", json={"data": "x"}),
        client.post("/api/scenario", json={"name": 1}),
        client.post("/api/scenario", json={"name": "ok", "folder": 3}),
    ]
    assert [r.status_code for r in bad] == [400] * len(bad)
    assert all("error" in r.json() for r in bad)
    deep = b'{"event": "x", "payload": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001
    assert client.post("/api/send", content=deep).status_code == 400
    huge = json.dumps({"event": "x", "payload": {"a": "x" * 400_000}}).encode()
    assert client.post("/api/send", content=huge).status_code == 413
    assert client.post("/api/wait", json={"seconds": -1}).status_code == 422
    assert client.post("/api/reset", json={"start": "nope"}).status_code == 422
    assert client.get("/api/state").json()["history"][-1]["kind"] == "wait"  # unchanged
    reset = client.post("/api/reset", json={}).json()
    assert reset["state"]["history"] == []
    assert client.get("/").status_code == 200
    assert "studio.js" in client.get("/").text
    assert client.get("/static/studio.js").status_code == 200


def test_api_saves_a_scenario_and_draws_coverage(client: TestClient, tree: Path) -> None:
    client.post("/api/send", json={"event": "click_link_tiktok_account"})
    saved = client.post("/api/scenario", json={"name": "x1_one_click", "write": True}).json()
    assert saved["result"]["file"].endswith("x1_one_click.yaml")
    assert run_scenario_file(saved["result"]["file"]).passed
    shown = client.post("/api/scenario", json={"name": "not_written"}).json()
    assert shown["result"]["file"] == ""
    assert "scenario: not_written" in shown["result"]["text"]
    assert client.post("/api/scenario", json={"name": "Bad"}).status_code == 422
    folder = str(ROOT / "examples" / "scenarios")
    coverage = client.get("/api/coverage", params={"folder": folder}).json()
    assert coverage["scenarios"] == 16
    names = [w["name"] for w in coverage["workflows"]]
    assert names == [
        "document_review",
        "expense_claim",
        "freight_quote",
        "onboarding",
        "supplier_order",
    ]
    assert all("<svg" in w["svg"] for w in coverage["workflows"])
    # the compound states of expense_claim are boxes around their states
    assert "cluster_state_approval" in coverage["workflows"][1]["svg"]
    # and the regions of onboarding's parallel state a box each
    assert "cluster_state_onboarding__equipment" in coverage["workflows"][3]["svg"]
    missing = client.get("/api/coverage", params={"folder": str(tree / "none")})
    assert missing.status_code == 422


def test_instances_api_answers_bad_requests(playground: Playground, tree: Path) -> None:
    without = signed_in(TestClient(create_app(playground, watch=False), base_url=CLIENT_BASE))
    assert without.get("/api/instances").status_code == 404
    assert without.get("/api/defaults").json()["instances"] is False
    with Store.open(f"sqlite:///{tree / 'i.db'}") as store:
        started = store.start(tree / "workflows" / "link_qr.yaml", DEMO_DATA, instance_id="one")
        app = create_app(playground, watch=False, instances=InstancesView(store))
        with signed_in(TestClient(app, base_url=CLIENT_BASE)) as client:
            assert client.get("/api/defaults").json()["instances"] is True
            listed = client.get("/api/instances", params={"workflow": "link_qr"}).json()
            assert [i["id"] for i in listed["instances"]] == [started.id]
            assert client.get("/api/instances", params={"limit": "x"}).status_code == 400
            assert client.get("/api/instances", params={"limit": "0"}).status_code == 422
            assert client.get("/api/instances", params={"outcome": "won"}).status_code == 422
            assert client.get("/api/instances/nope").status_code == 404
            assert client.post("/api/instances/nope/send", json={"event": "x"}).status_code == 404
            assert client.post("/api/instances/one/send", json={"event": 1}).status_code == 400
            bad_payload = client.post("/api/instances/one/send", json={"event": "a", "payload": 1})
            assert bad_payload.status_code == 400
            sent = client.post(
                "/api/instances/one/send",
                json={
                    "event": "approve",
                    "payload": {"tiktok_account": "x", "user": "y", "password": "hunter22"},
                },
            )
            assert sent.status_code == 200
            assert sent.json()["result"]["accepted"] is False
            assert "hunter22" not in sent.text
            detail = client.get("/api/instances/one").json()
            assert detail["instance"]["state"] == "qr_shown"
            assert "<svg" in detail["diagram"]
            assert "hunter22" not in json.dumps(detail)


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["missing_folder"], 1, "missing_folder: no such file or folder"),
        (["--start", "nope"], 1, "no workflow named 'nope'"),
        (["--data", '{"x": 1}'], 1, "has no data field 'x'"),
        (["--data", "{not json"], 2, "is not valid JSON"),
        (["--port", "70000"], 2, "--port must be between 0 and 65535"),
        (["--store", "mysql://x"], 2, "unknown scheme 'mysql'"),
    ],
)
def test_studio_command_refuses_bad_arguments_in_words(
    args: list[str], code: int, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [] if args and not args[0].startswith("-") else [str(ROOT / "workflows")]
    assert main(["studio", *paths, *args]) == code
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err


def test_an_open_studio_page_does_not_hold_up_the_service_shutdown(tmp_path: Path) -> None:
    """The service waits up to GRACE_SECONDS for open connections; the studio's event stream
    must end with the service's stop signal instead of keeping it waiting."""
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    with serve(tmp_path, f"sqlite:///{tmp_path / 's.db'}") as base:
        events = urllib.request.Request(
            f"{base}/studio/api/events", headers={"Cookie": base.cookie}
        )
        stream = urllib.request.urlopen(events, timeout=30)
        assert stream.readline().startswith(b"retry:")
        started = time.monotonic()
    took = time.monotonic() - started  # leaving `serve` sent SIGTERM and waited for the exit
    assert took < GRACE_SECONDS / 2
    assert stream.read().endswith(b"\n\n")  # the stream was ended, not cut


def test_the_state_carries_each_events_label_and_the_choices_offered(client: TestClient) -> None:
    """The page shows people's words: each event's label, and a choice field's options by
    label with the id to send."""
    events = {e["event"]: e for e in client.get("/api/state").json()["events"]}
    assert events["click_link_tiktok_account"]["label"] == "Link TikTok account"
    assert all(e["label"] for e in events.values())
    for event in ("click_link_tiktok_account", "choose_create_new"):
        client.post("/api/send", json={"event": event})
    events = {e["event"]: e for e in client.get("/api/state").json()["events"]}
    offered = events["choose_create_option"]["choices"]["option"]
    assert {"value": "sign_up", "label": "Sign up for a new TikTok account"} in offered
    # A label sent instead of an id is refused, and the refusal names the ids to send.
    sent = {"event": "choose_create_option", "payload": {"option": offered[-1]["label"]}}
    state = client.post("/api/send", json=sent).json()["state"]
    message = state["history"][-1]["refusal"]["message"]
    assert "is not the id of an option" in message
    assert "Sign up for a new TikTok account (id 'sign_up')" in message


def test_the_qr_forms_field_that_is_never_accepted_is_still_declared(client: TestClient) -> None:
    """The page hides a field whose schema can never be met (`not: {}`); the state keeps the
    schema as declared, so the page can tell."""
    client.post("/api/reset", json={"start": "link_qr"})
    events = {e["event"]: e for e in client.get("/api/state").json()["events"]}
    assert events["approve"]["schema"]["properties"]["password"]["not"] == {}
    assert events["approve"]["label"] == "Scan and approve"


def test_payload_fields_a_binding_reads_suggest_the_world_records(client: TestClient) -> None:
    """A field a binding looks a record up by (`key: payload.field`) suggests that collection's
    ids with their names; a secret field suggests nothing."""
    client.post("/api/reset", json={"start": "link_qr"})
    events = {e["event"]: e for e in client.get("/api/state").json()["events"]}
    suggested = events["approve"]["suggestions"]
    assert {"value": "mia_makes", "label": "Mia Makes Things"} in suggested["tiktok_account"]
    assert {"value": "mia", "label": "Mia Makes"} in suggested["user"]
    assert "password" not in suggested
    client.post("/api/reset", json={"start": "link_login"})
    events = {e["event"]: e for e in client.get("/api/state").json()["events"]}
    assert set(events["log_in"]["suggestions"]) == {"username"}


def test_coverage_reuses_unchanged_files_and_measures_the_same(tmp_path: Path) -> None:
    """The coverage view's table equals `linkflow coverage`'s; measured again, every file is
    reused; an edited file runs again (and its new result counts)."""
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    shutil.copytree(ROOT / "tests" / "scenarios" / "link_qr", tmp_path / "scenarios")
    folder = str(tmp_path / "scenarios")
    first = coverage_view(folder)
    assert first["reused"] == 0
    assert first["table"] == run_suite([folder]).table()
    again = coverage_view(folder)
    assert again["reused"] == again["scenarios"] == first["scenarios"]
    assert again["workflows"] == first["workflows"]

    files = sorted((tmp_path / "scenarios").rglob("*.yaml"))
    files[0].unlink()
    fewer = coverage_view(folder)
    assert fewer["scenarios"] == first["scenarios"] - 1
    assert fewer["reused"] == fewer["scenarios"]
    assert fewer["table"] == run_suite([folder]).table()
    files[1].write_text(files[1].read_text() + "\n# edited\n")
    edited = coverage_view(folder)
    assert edited["reused"] == edited["scenarios"] - 1


def test_the_view_names_states_and_payloads_in_peoples_words(client: TestClient) -> None:
    """The current state and each step read as words (the ids beside them for the engineer
    view); a payload field naming a world record shows the record's name."""
    for event in ("click_link_tiktok_account", "choose_link_existing", "choose_qr_code", "confirm"):
        assert client.post("/api/send", json={"event": event}).status_code == 200
    qr = {"tiktok_account": "mia_makes", "user": "mia"}
    state = client.post("/api/send", json={"event": "approve", "payload": qr}).json()["state"]
    last = state["history"][-1]
    assert last["label"] == "Scan and approve"
    assert last["payload_words"] == {"tiktok_account": "Mia Makes Things", "user": "Mia Makes"}
    assert last["from"] == "qr_shown"
    assert last["from_words"] != last["from"]
    assert state["current"]["words"]
    assert state["diagram_view"] == "reader"
    assert "link_qr.reader" in state["diagram"]
    engineer = client.get("/api/state?view=engineer").json()
    assert engineer["diagram_view"] == "engineer"
    assert "link_qr.reader" not in engineer["diagram"]


def test_the_start_form_offers_the_records_a_binding_reads(client: TestClient) -> None:
    """Start data as a form: the fields bindings read the world by are choices among the
    world's records by name; another workflow's form is asked by name; an unknown one is a
    404 in words."""
    form = client.get("/api/state").json()["start_form"]
    assert form["workflow"] == "link_tiktok_account"
    assert form["bound"][:2] == ["actor", "business_center"]
    assert {"value": "ana", "label": "Ana Admin"} in form["suggestions"]["actor"]
    assert form["schema"]["properties"]["dropdown"] == {"type": "array"}
    assert form["defaults"]["dropdown"] == []
    qr = client.get("/api/start-form?workflow=link_qr").json()
    assert qr["workflow"] == "link_qr"
    assert "business_center" in qr["bound"]
    missing = client.get("/api/start-form?workflow=nope")
    assert missing.status_code == 404
    assert "no workflow named 'nope'" in missing.json()["error"]


def test_the_mounted_studio_plays_on_a_copy_of_the_stores_world(tree: Path) -> None:
    """`linkflow serve`'s studio: the playground reads the store's world (every collection a
    served workflow binds), offers its records in the start form, and never writes the store;
    it says it does not reload."""
    url = f"sqlite:///{tree / 'mounted.db'}"
    workflows = load([str(tree / "workflows")], kinds=["workflow"]).workflows
    config = ServiceConfig(workflow_paths=(str(tree / "workflows"),))
    with Store.open(url) as store:
        store.load_world(tree / "workflows" / "worlds" / "ads_manager_demo.yaml")
        app = studio_app(config, workflows, store, Access(token=None))
        with TestClient(app, base_url=CLIENT_BASE) as test_client:
            client = signed_in(test_client)
            assert client.get("/api/defaults").json()["watch"] is False
            state = client.get("/api/state").json()
            assert state["world"]["name"] == "the store's world"
            assert "nothing here changes the store" in state["notice"]
            assert state["start_data"] == {}
            assert {"value": "ana", "label": "Ana Admin"} in state["start_form"]["suggestions"][
                "actor"
            ]
            started = client.post("/api/reset", json={"data": DEMO_DATA})
            assert started.status_code == 200, started.text
            steps = ["click_link_tiktok_account", "choose_link_existing", "choose_qr_code"]
            for event in [*steps, "confirm"]:
                answer = client.post("/api/send", json={"event": event}).json()
                assert answer["result"]["accepted"] is True, answer["state"]["history"][-1]
            qr = {"tiktok_account": "mia_makes", "user": "mia"}
            linked = client.post("/api/send", json={"event": "approve", "payload": qr}).json()
            assert linked["result"]["accepted"] is True
            copy = client.get("/api/state").json()["records"]
            assert any(r["key"] == "mia_makes" and r["changed"] for r in copy)
        # the playground linked the account in its copy; the store's world is as loaded
        mia = store.world("tiktok_accounts", "mia_makes")["mia_makes"]
        assert mia["business_centers"] == []
        assert store.world("ad_accounts", "acme_us")["acme_us"]["identities"] == ["acme_official"]


def test_a_session_starts_as_a_stored_instance_started(playground: Playground, tree: Path) -> None:
    """`reset` with an instance id: its workflow and start data, read from the store (which
    stays as it was); an unknown id is a 404, a studio without a store a 404, a bad id a 400."""
    url = f"sqlite:///{tree / 'starts.db'}"
    with Store.open(url) as store:
        store.load_world(tree / "workflows" / "worlds" / "ads_manager_demo.yaml")
        data = {**DEMO_DATA, "actor": "cleo"}
        store.start(tree / "workflows" / "link_qr.yaml", data, instance_id="qr-cleo")
        store.send("qr-cleo", "cancel")
        app = create_app(playground, watch=False, instances=InstancesView(store))
        with TestClient(app, base_url=CLIENT_BASE) as test_client:
            client = signed_in(test_client)
            answer = client.post("/api/reset", json={"instance": "qr-cleo"})
            assert answer.status_code == 200, answer.text
            state = answer.json()["state"]
            assert state["start"] == "link_qr"
            assert state["start_data"] == data
            assert state["current"]["state"] == "qr_shown"  # its start, not where it is now
            missing = client.post("/api/reset", json={"instance": "nope"})
            assert missing.status_code == 404
            said = {"error": "no instance 'nope' in the store", "field": "instance"}
            assert missing.json() == said
            assert client.post("/api/reset", json={"instance": 7}).status_code == 400
            assert client.get("/api/state").json()["start"] == "link_qr"  # unchanged
        assert store.get("qr-cleo").state == "cancelled"
    app = create_app(playground, watch=False)
    with TestClient(app, base_url=CLIENT_BASE) as test_client:
        no_store = signed_in(test_client).post("/api/reset", json={"instance": "qr-cleo"})
        assert no_store.status_code == 404
        assert "no store" in no_store.json()["error"]


def test_a_field_whose_record_must_not_exist_suggests_no_records(client: TestClient) -> None:
    """The sign-up username is looked up only to refuse a taken one (`taken == null`): the
    accounts that exist are exactly the refused values, so none is offered as a pick."""
    client.post("/api/reset", json={"start": "create_signup"})
    events = {e["event"]: e for e in client.get("/api/state").json()["events"]}
    assert "username" in events["sign_up"]["schema"]["properties"]
    assert "username" not in events["sign_up"]["suggestions"]


def test_absence_is_read_from_the_guards_as_written() -> None:
    """`b == null` and a negated `b != null` ask for absence; reading a field of `b`, or `b`
    anywhere else in the same guard, needs the record, so its records are still offered."""
    workflow = load([ROOT / "workflows" / "create_signup.yaml"]).workflows["create_signup"]
    assert asks_for_absence(workflow, "sign_up", "taken")
    assert not asks_for_absence(workflow, "sign_up", "bc")  # sign_up's guards never read it
    guard = next(
        u.guard for t in workflow.transitions for u in t.guards if u.guard.name == "username_free"
    )
    for when, negated, absent in [
        ("taken == null", False, True),
        ("taken != null", True, True),
        ("taken != null", False, False),
        ("taken == null || taken.name == 'x'", False, False),
        ("data.taken == null", False, False),
    ]:
        changed = replace(guard, when=replace(guard.when, source=when))
        uses = tuple(
            replace(u, guard=changed, negated=negated) if u.guard.name == "username_free" else u
            for u in next(t for t in workflow.transitions if t.event == "sign_up").guards
        )
        transitions = tuple(
            replace(t, guards=uses) if t.event == "sign_up" else t for t in workflow.transitions
        )
        assert (
            asks_for_absence(replace(workflow, transitions=transitions), "sign_up", "taken")
            is absent
        ), when


def test_the_history_shows_the_calls_a_step_causes_without_making_them(tmp_path: Path) -> None:
    """An invoke's call is listed under the step that caused it, with its resolved URL; the
    playground makes no request: its answer is sent in the service's place as an event."""
    project = tmp_path / "supplier_order"
    shutil.copytree(ROOT / "examples" / "supplier_order", project)
    played = Playground([str(project / "supplier_order.yaml")], None, {})
    app = create_app(played, scenario_folder=str(tmp_path / "saved"), watch=False)
    with TestClient(app, base_url=CLIENT_BASE) as test_client:
        client = signed_in(test_client)
        payload = {"order_id": "o-1", "sku": "chair", "quantity": 4}
        sent = client.post("/api/send", json={"event": "place", "payload": payload})
        assert sent.status_code == 200, sent.text
        placed = sent.json()["state"]["history"][-1]
        assert placed["calls"] == [
            {
                "kind": "invoke",
                "name": "reserve",
                "service": "supplier",
                "method": "POST",
                "url": "http://127.0.0.1:8099/orders/o-1/reserve",
                "answers": True,
            }
        ]
        answer = {"status": 200, "reservation_id": "r-1", "eta_days": 2}
        done = client.post("/api/send", json={"event": "reserve.done", "payload": answer})
        state = done.json()["state"]
        assert state["current"]["state"] == "reserved"
        assert state["history"][-1]["calls"] == []
