"""The studio's effects and webhooks views through their JSON API: the outbox across
instances by status in keyset pages, the subscribers with their delivery state, the retry of
a dead or failed effect and of a subscriber's dead deliveries (the store's own retry, as the
CLI's), 4xx for a bad request with nothing changed, and the guard on the two POSTs."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from linkflow.store import Store
from linkflow.store.backend import Row, Tx
from linkflow.store.outbox import Outbox
from linkflow.store.webhooks import Webhooks
from linkflow.studio.app import create_app
from linkflow.studio.instances import InstancesView
from linkflow.studio.playground import Playground
from tests.studio_browser import CLIENT_BASE, signed_in
from tests.support.effect_steps import write_flow
from tests.support.outbound import Stocked, stock


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """On SQLite and on PostgreSQL (tests/conftest.py)."""
    with Store.open(store_url) as opened:
        yield opened


@pytest.fixture
def stocked(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stocked:
    return stock(store, tmp_path, monkeypatch)


def _client(tmp_path: Path, store: Store | None) -> TestClient:
    playground = Playground([str(write_flow(tmp_path))])
    instances = None if store is None else InstancesView(store)
    return TestClient(
        create_app(playground, watch=False, instances=instances), base_url=CLIENT_BASE
    )


@pytest.fixture
def client(tmp_path: Path, store: Store) -> Iterator[TestClient]:
    with _client(tmp_path, store) as test_client:
        yield signed_in(test_client)


def test_the_effects_list_by_status_with_counts_and_pages(
    client: TestClient, stocked: Stocked
) -> None:
    found = client.get("/api/effects").json()
    assert found["counts"]["dead"] == 1
    assert found["counts"]["failed"] == 1
    assert found["next"] is None
    rows = {e["id"]: e for e in found["effects"]}
    dead = rows[stocked.dead_effect]
    assert (dead["status"], dead["kind"], dead["service"]) == ("dead", "notify", "partner")
    assert (dead["instance"], dead["workflow"]) == (stocked.instance, "asking")
    assert (dead["attempts"], dead["max_attempts"], dead["retryable"]) == (1, 1, True)
    assert "connection failed" in dead["last_error"]
    assert dead["next_attempt"] is None
    assert rows[stocked.failed_effect]["last_error"] == (
        "the service answered HTTP 404 (not retried)"
    )
    assert "url" not in dead  # the page shows the call by name and service
    only = client.get("/api/effects", params={"status": "dead"}).json()["effects"]
    assert [e["id"] for e in only] == [stocked.dead_effect]
    assert client.get("/api/effects", params={"status": "done"}).json()["effects"] == []
    first = client.get("/api/effects", params={"limit": 1}).json()
    assert first["next"] is not None
    second = client.get("/api/effects", params={"limit": 1, "cursor": first["next"]}).json()
    assert second["next"] is None
    seen = [first["effects"][0]["id"], second["effects"][0]["id"]]
    assert sorted(seen) == sorted([stocked.dead_effect, stocked.failed_effect])


def test_retry_an_effect_puts_it_back_to_pending_and_a_second_is_refused(
    client: TestClient, store: Store, stocked: Stocked
) -> None:
    answer = client.post(f"/api/effects/{stocked.dead_effect}/retry", json={})
    assert answer.status_code == 200, answer.text
    effect = answer.json()["effect"]
    assert (effect["status"], effect["attempts"], effect["retryable"]) == ("pending", 0, False)
    assert effect["next_attempt"] is not None
    assert Outbox(store).get(stocked.dead_effect).status == "pending"
    again = client.post(f"/api/effects/{stocked.dead_effect}/retry", json={})
    assert again.status_code == 409
    assert "only a dead or failed effect is retried" in again.json()["error"]
    pending = client.get("/api/effects", params={"status": "pending"}).json()["effects"]
    assert [e["id"] for e in pending] == [stocked.dead_effect]
    # a body is optional: the page sends {}, a client may send none
    assert client.post(f"/api/effects/{stocked.failed_effect}/retry").status_code == 200


def test_the_retrying_filter_takes_pending_effects_that_failed_before(
    client: TestClient, store: Store, stocked: Stocked
) -> None:
    client.post(f"/api/effects/{stocked.dead_effect}/retry", json={})
    assert client.get("/api/effects", params={"status": "retrying"}).json()["effects"] == []
    moved = store._write(
        lambda tx: tx.all(
            "UPDATE effects SET attempts = 1 WHERE id = ? RETURNING id", (stocked.dead_effect,)
        )
    )
    assert moved
    found = client.get("/api/effects", params={"status": "retrying"}).json()
    assert [(e["id"], e["status"]) for e in found["effects"]] == [(stocked.dead_effect, "retrying")]
    assert found["counts"]["retrying"] == 1


def test_the_webhooks_list_shows_delivery_state_and_never_the_secret(
    client: TestClient, stocked: Stocked, tmp_path: Path
) -> None:
    answer = client.get("/api/webhooks")
    assert answer.status_code == 200
    hooks = {w["id"]: w for w in answer.json()["webhooks"]}
    dead = hooks[stocked.dead_hook]
    assert dead["url"] == stocked.dead_url
    assert dead["events"] == ["*"]
    assert (dead["delivered"], dead["pending"], dead["retrying"], dead["dead"]) == (0, 0, 0, 1)
    assert "connection failed" in dead["last_error"]
    assert dead["last_delivered"] is None
    [letter] = dead["dead_deliveries"]
    assert (letter["instance"], letter["event"], letter["attempts"]) == (stocked.instance, "ask", 1)
    good = hooks[stocked.good_hook]
    assert (good["delivered"], good["dead"], good["last_error"]) == (1, 0, None)
    assert good["last_delivered"]["event"] == "ask"
    assert good["last_delivered"]["time"] is not None
    text = answer.text
    assert "whsec_" not in text
    assert "secret_file" not in text  # not even the secret file's path
    assert str(tmp_path / "webhook.secret") not in text
    assert "webhook.secret" not in text


def test_retry_a_subscribers_dead_deliveries(
    client: TestClient, store: Store, stocked: Stocked
) -> None:
    answer = client.post(f"/api/webhooks/{stocked.dead_hook}/retry", json={})
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert done["requeued"] == 1
    assert (done["webhook"]["pending"], done["webhook"]["dead"]) == (1, 0)
    state = Webhooks(store).get(stocked.dead_hook)
    assert (state.pending, state.dead) == (1, 0)
    again = client.post(f"/api/webhooks/{stocked.dead_hook}/retry", json={}).json()
    assert again["requeued"] == 0


def test_bad_requests_are_4xx_and_change_nothing(
    client: TestClient, store: Store, stocked: Stocked
) -> None:
    unknown_effect = client.post("/api/effects/ef_0000000000000000/retry", json={})
    assert unknown_effect.status_code == 404
    assert "no effect" in unknown_effect.json()["error"]
    assert client.post("/api/effects/nonsense/retry", json={}).status_code == 404
    unknown_hook = client.post("/api/webhooks/wh_0000000000000000/retry", json={})
    assert unknown_hook.status_code == 404
    assert "no webhook subscriber" in unknown_hook.json()["error"]
    assert client.post("/api/webhooks/../retry", json={}).status_code == 404
    for path in (
        f"/api/effects/{stocked.dead_effect}/retry",
        f"/api/webhooks/{stocked.dead_hook}/retry",
    ):
        malformed = client.post(path, content=b"{not json")
        assert malformed.status_code == 400
        assert "not valid JSON" in malformed.json()["error"]
        assert client.post(path, content=b"[1]").status_code == 400
    for params in ({"status": "lost"}, {"limit": "0"}, {"limit": "many"}, {"cursor": "x"}):
        bad = client.get("/api/effects", params=params)
        assert bad.status_code == 400, params
        assert bad.json()["error"]
    assert Outbox(store).get(stocked.dead_effect).status == "dead"
    assert Webhooks(store).get(stocked.dead_hook).dead == 1


def test_another_page_cannot_retry(client: TestClient, store: Store, stocked: Stocked) -> None:
    """The studio's guard covers both retries: not JSON (415), another Origin (403), no
    launch cookie (403); nothing changes. The studio's own origin passes."""
    stranger = TestClient(client.app, base_url=CLIENT_BASE)
    for path in (
        f"/api/effects/{stocked.dead_effect}/retry",
        f"/api/webhooks/{stocked.dead_hook}/retry",
    ):
        attempts = [
            client.post(path, content=b"{}", headers={"Content-Type": "text/plain"}),
            client.post(path, content=b"{}", headers={"Origin": "http://x.example"}),
            stranger.post(
                path,
                content=b"{}",
                headers={"Content-Type": "application/json", "X-Linkflow-Studio": "1"},
            ),
        ]
        assert [a.status_code for a in attempts] == [415, 403, 403], path
    assert Outbox(store).get(stocked.dead_effect).status == "dead"
    assert Webhooks(store).get(stocked.dead_hook).dead == 1
    assert stranger.get("/api/webhooks").status_code == 403  # reads need the cookie too
    own = client.post(
        f"/api/webhooks/{stocked.dead_hook}/retry", json={}, headers={"Origin": CLIENT_BASE}
    )
    assert own.status_code == 200


def test_without_a_store_the_views_say_how_to_start_one(tmp_path: Path) -> None:
    with _client(tmp_path, None) as bare:
        signed_in(bare)
        for answer in (
            bare.get("/api/effects"),
            bare.get("/api/webhooks"),
            bare.post("/api/effects/ef_0000000000000000/retry", json={}),
            bare.post("/api/webhooks/wh_0000000000000000/retry", json={}),
        ):
            assert answer.status_code == 404
            assert "--store" in answer.json()["error"]


def _attempted(ident: str, tx: Tx) -> list[Row]:
    """The effect as if an attempt had failed before (pending, attempts above zero)."""
    return tx.all("UPDATE effects SET attempts = 2 WHERE id = ? RETURNING id", (ident,))


def test_retrying_pages_go_on_after_the_last_one_read(
    client: TestClient, store: Store, stocked: Stocked
) -> None:
    """Two retrying effects among the pending, one per page: each once, in order."""
    for ident in (stocked.dead_effect, stocked.failed_effect):
        client.post(f"/api/effects/{ident}/retry", json={})
        assert store._write(partial(_attempted, ident))
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        params = {"status": "retrying", "limit": "1", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/effects", params=params).json()
        seen += [e["id"] for e in page["effects"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert cursor is None
    assert sorted(seen) == sorted([stocked.dead_effect, stocked.failed_effect])
    assert len(seen) == 2
