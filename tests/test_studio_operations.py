"""The studio's operations view over a store, through its JSON API: filters and keyset pages,
a session shown as one run, a pending timeout with its due time, and the operator actions
(send, cancel, terminate) recorded with who did it and refused, with nothing changed, when
the instance does not allow them or another step came first."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from linkflow.store import Store
from linkflow.studio.app import create_app
from linkflow.studio.instances import InstancesView
from linkflow.studio.playground import Playground
from tests.studio_browser import CLIENT_BASE, DEMO_DATA, signed_in

ROOT = Path(__file__).resolve().parent.parent
TO_QR = ("click_link_tiktok_account", "choose_link_existing", "choose_qr_code", "confirm")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    return tmp_path


@pytest.fixture
def store(tree: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tree / 'ops.db'}") as opened:
        opened.load_world(tree / "workflows" / "worlds" / "ads_manager_demo.yaml")
        yield opened


@pytest.fixture
def client(tree: Path, store: Store) -> Iterator[TestClient]:
    playground = Playground(
        [str(tree / "workflows")], str(tree / "workflows/worlds/ads_manager_demo.yaml"), DEMO_DATA
    )
    app = create_app(playground, watch=False, instances=InstancesView(store))
    with TestClient(app, base_url=CLIENT_BASE) as test_client:
        yield signed_in(test_client)


def _session(store: Store, tree: Path, ident: str) -> str:
    """An entry instance handed off to the QR method; the method instance's id."""
    store.start(tree / "workflows" / "link_tiktok_account.yaml", DEMO_DATA, instance_id=ident)
    handed = None
    for event in TO_QR:
        handed = store.send(ident, event).handed_to
    assert handed is not None
    return handed.id


def _pages(client: TestClient, **params: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        found = client.get(
            "/api/instances", params={**params, **({"cursor": cursor} if cursor else {})}
        ).json()
        pages.append([i["id"] for i in found["instances"]])
        cursor = found["next"]
        if cursor is None:
            return pages


def test_filters_and_keyset_pages(client: TestClient, store: Store, tree: Path) -> None:
    flow = tree / "workflows" / "link_qr.yaml"
    for n in range(5):
        store.start(flow, {**DEMO_DATA, "actor": "ana" if n % 2 else "ben"}, instance_id=f"q{n}")
    everything = [i for page in _pages(client, limit=2) for i in page]
    assert sorted(everything) == [f"q{n}" for n in range(5)]
    assert len(_pages(client, limit=2)) == 3
    assert sorted(i for p in _pages(client, data="actor=ana") for i in p) == ["q1", "q3"]
    listed = client.get("/api/instances", params={"workflow": "link_qr", "state": "qr_shown"})
    assert len(listed.json()["instances"]) == 5
    assert listed.json()["instances"][0]["due"] is not None
    for bad in ({"data": "actor"}, {"cursor": "nope"}, {"data": "a b=1"}):
        answer = client.get("/api/instances", params=bad)
        assert answer.status_code == 400
        assert answer.json()["error"]


def test_a_session_is_one_run_and_a_pending_timeout_says_when(
    client: TestClient, store: Store, tree: Path
) -> None:
    method = _session(store, tree, "entry-1")
    for ident in ("entry-1", method):
        detail = client.get(f"/api/instances/{ident}").json()
        assert [(r["id"], r["workflow"]) for r in detail["run"]] == [
            ("entry-1", "link_tiktok_account"),
            (method, "link_qr"),
        ]
    detail = client.get(f"/api/instances/{method}").json()
    assert detail["timeout"]["due"] == detail["instance"]["due"]
    assert detail["timeout"]["to"] == "timed_out"
    assert detail["cancel_event"] == "cancel"
    assert client.get("/api/instances/entry-1").json()["timeout"] is None


def test_operator_actions_are_recorded_with_who(
    client: TestClient, store: Store, tree: Path
) -> None:
    flow = tree / "workflows" / "link_qr.yaml"
    store.start(flow, DEMO_DATA, instance_id="a")
    store.start(flow, DEMO_DATA, instance_id="b")
    store.start(flow, DEMO_DATA, instance_id="c")
    sent = client.post(
        "/api/instances/a/send", json={"event": "refresh", "operator": "ana", "expect_version": 0}
    )
    assert sent.status_code == 200, sent.text
    cancelled = client.post("/api/instances/b/cancel", json={"operator": "ana"})
    assert cancelled.json()["result"]["outcome"] == "cancelled"
    ended = client.post(
        "/api/instances/c/terminate",
        json={"operator": "ana", "reason": "stuck", "expect_version": 0},
    )
    assert ended.json()["instance"]["instance"]["outcome"] == "terminated"
    assert ended.json()["instance"]["instance"]["due"] is None
    for ident, action in (("a", "send"), ("b", "cancel"), ("c", "terminate")):
        last = store.history(ident)[-1]
        assert last.actor is not None
        assert (last.actor["action"], last.actor["by"], last.actor["via"]) == (
            action,
            "ana",
            "studio",
        )


@pytest.mark.parametrize(
    ("action", "body", "status", "said"),
    [
        ("terminate", {"expect_version": 0}, 400, "give an operator name"),
        ("cancel", {"operator": "  "}, 400, "give an operator name"),
        ("terminate", {"operator": "ana", "expect_version": 3}, 409, "not 3"),
        ("cancel", {"operator": "ana", "expect_version": "0"}, 400, "expect_version"),
        ("send", {"event": "refresh", "expect_version": 2}, 409, "another step came first"),
        ("terminate", {"operator": "ana", "reason": 5}, 400, "reason"),
        ("terminate", {"operator": "a\u0000b"}, 400, "no control character"),
        ("send", {"event": "refresh", "operator": "x" * 201}, 400, "1 to 200 characters"),
    ],
)
def test_a_refused_action_says_why_and_changes_nothing(
    client: TestClient,
    store: Store,
    tree: Path,
    action: str,
    body: dict[str, Any],
    status: int,
    said: str,
) -> None:
    store.start(tree / "workflows" / "link_qr.yaml", DEMO_DATA, instance_id="x")
    before = (store.get("x"), store.history("x"))
    answer = client.post(f"/api/instances/x/{action}", json=body)
    assert answer.status_code == status
    assert said in answer.json()["error"]
    assert (store.get("x"), store.history("x")) == before


def test_an_ended_instance_cannot_be_cancelled_or_terminated(
    client: TestClient, store: Store, tree: Path
) -> None:
    _session(store, tree, "entry-2")  # the entry instance ended (completed) by handing off
    before = (store.get("entry-2"), store.history("entry-2"))
    for action in ("cancel", "terminate"):
        answer = client.post(f"/api/instances/entry-2/{action}", json={"operator": "ana"})
        assert answer.status_code == 409
        assert "already ended (completed)" in answer.json()["error"]
    assert (store.get("entry-2"), store.history("entry-2")) == before


@pytest.mark.parametrize("action", ["cancel", "terminate"])
def test_another_page_cannot_cancel_or_terminate(
    client: TestClient, store: Store, tree: Path, action: str
) -> None:
    """The studio's guard covers the operator actions as it covers a send: not JSON (415),
    another Origin (403), no launch cookie (403); nothing changes."""
    store.start(tree / "workflows" / "link_qr.yaml", DEMO_DATA, instance_id="y")
    body = b'{"operator": "mallory"}'
    stranger = TestClient(client.app, base_url=CLIENT_BASE)
    attempts = [
        client.post(
            f"/api/instances/y/{action}", content=body, headers={"Content-Type": "text/plain"}
        ),
        client.post(
            f"/api/instances/y/{action}", content=body, headers={"Origin": "http://x.example"}
        ),
        stranger.post(
            f"/api/instances/y/{action}",
            content=body,
            headers={"Content-Type": "application/json", "X-Linkflow-Studio": "1"},
        ),
    ]
    assert [a.status_code for a in attempts] == [415, 403, 403]
    assert store.get("y").outcome is None
    assert store.history("y") == []
