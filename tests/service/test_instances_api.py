"""Instances over HTTP against a real server, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx

from tests.service.server import ServiceProcess
from tests.service.test_openapi import check_response

PASSWORD = "let-me-in-canary-7731"
_ids = itertools.count(1)


def new_id(prefix: str = "i") -> str:
    return f"{prefix}-{time.time_ns()}-{next(_ids)}"


def start(http: httpx.Client, workflow: str = "tally", **data: Any) -> dict[str, Any]:
    default = {"board": "main"} if workflow == "tally" else {}
    body = {"workflow": workflow, "data": data or default}
    response = http.post("/instances", json=body)
    assert response.status_code == 201, response.text
    check_response("post", "/instances", 201, response.headers["content-type"], response.json())
    created: dict[str, Any] = response.json()
    return created


def send(
    http: httpx.Client, ident: str, event: str, payload: Any = None, **headers: str
) -> httpx.Response:
    body: dict[str, Any] = {"event": event}
    if payload is not None:
        body["payload"] = payload
    response = http.post(f"/instances/{ident}/events", json=body, headers=headers)
    media = response.headers["content-type"]
    check_response("post", "/instances/{id}/events", response.status_code, media, response.json())
    return response


def test_start_read_and_send(api: ServiceProcess) -> None:
    with api.client() as http:
        created = start(http)
        ident = created["id"]
        assert created["state"] == "open"
        assert created["version"] == 0
        add = next(o for o in created["available"] if o["event"] == "add")
        assert add["available"] is None  # it needs an item: whether it is taken depends on it
        assert add["reason"] == "depends on the payload"
        step = send(http, ident, "add", {"item": "pen"}).json()
        assert step["accepted"] is True
        assert step["version"] == 1
        assert isinstance(step["feed_seq"], int)
        read = http.get(f"/instances/{ident}")
    assert read.headers["etag"] == '"1"'
    assert read.json()["data"]["items"] == ["pen"]
    check_response("get", "/instances/{id}", 200, read.headers["content-type"], read.json())


def test_starting_again_with_the_same_id_returns_the_instance(api: ServiceProcess) -> None:
    ident = new_id()
    body = {"workflow": "tally", "data": {"board": "main"}, "id": ident}
    with api.client() as http:
        first = http.post("/instances", json=body)
        again = http.post("/instances", json=body)
        other = http.post("/instances", json={**body, "data": {"board": "spare"}})
    assert first.status_code == 201
    assert first.headers["location"] == f"/instances/{ident}"
    assert again.status_code == 200
    assert again.json()["id"] == ident
    assert other.status_code == 409
    assert other.json()["type"] == "urn:linkflow:problem:conflict"


def test_a_guard_refusal_is_an_answer_with_guard_and_message(api: ServiceProcess) -> None:
    with api.client() as http:
        ident = start(http)["id"]
        refused = send(http, ident, "sign", {"who": "ana", "password": "wrong-" + PASSWORD})
        history = http.get(f"/instances/{ident}/history").json()
    assert refused.status_code == 200
    step = refused.json()
    assert step["accepted"] is False
    assert step["refusal"]["guard"] == "password_right"
    assert "Wrong password" in step["refusal"]["message"]
    assert step["version"] == 0
    assert PASSWORD not in refused.text
    assert PASSWORD not in str(history)


def test_a_secret_is_never_in_answers_history_feed_or_logs(api: ServiceProcess) -> None:
    with api.client() as http:
        ident = start(http)["id"]
        accepted = send(http, ident, "sign", {"who": "ana", "password": PASSWORD})
        bad = send(http, ident, "sign", {"who": "ana", "password": 12345, "extra": PASSWORD})
        texts = [
            accepted.text,
            bad.text,
            http.get(f"/instances/{ident}").text,
            http.get(f"/instances/{ident}/history").text,
            http.get("/feed").text,
        ]
    assert accepted.json()["accepted"] is True
    assert bad.status_code == 422
    assert bad.json()["type"] == "urn:linkflow:problem:invalid-payload"
    for text in texts:
        assert PASSWORD not in text
    assert PASSWORD not in api.logs()


def test_idempotency_key_replays_and_refuses_other_content(api: ServiceProcess) -> None:
    with api.client() as http:
        ident = start(http)["id"]
        first = send(http, ident, "add", {"item": "a"}, **{"Idempotency-Key": "key-1"})
        again = send(http, ident, "add", {"item": "a"}, **{"Idempotency-Key": "key-1"})
        other = send(http, ident, "add", {"item": "b"}, **{"Idempotency-Key": "key-1"})
        items = http.get(f"/instances/{ident}").json()["data"]["items"]
    assert first.json()["replayed"] is False
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    assert other.status_code == 409
    assert other.json()["type"] == "urn:linkflow:problem:idempotency-key-reused"
    assert items == ["a"]


def test_a_replay_answers_the_recorded_step_not_the_present(api: ServiceProcess) -> None:
    with api.client() as http:
        ident = start(http)["id"]
        first = send(http, ident, "add", {"item": "a"}, **{"Idempotency-Key": "A"})
        second = send(http, ident, "add", {"item": "b"}, **{"Idempotency-Key": "B"})
        again = send(http, ident, "add", {"item": "a"}, **{"Idempotency-Key": "A"})
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert again.json()["feed_seq"] is not None
    assert again.headers["etag"] == first.headers["etag"] == '"1"'


def test_a_replayed_final_step_names_the_instance_it_handed_to(api: ServiceProcess) -> None:
    with api.client() as http:
        ident = start(http)["id"]
        closed = send(http, ident, "close", **{"Idempotency-Key": "close-A"})
        again = send(http, ident, "close", **{"Idempotency-Key": "close-A"})
    assert closed.json()["handed_to"] is not None
    assert again.json() == {**closed.json(), "replayed": True}


def test_if_match_refuses_a_stale_version(api: ServiceProcess) -> None:
    with api.client() as http:
        ident = start(http)["id"]
        fresh = send(http, ident, "add", {"item": "a"}, **{"If-Match": '"0"'})
        stale = send(http, ident, "add", {"item": "b"}, **{"If-Match": '"0"'})
        items = http.get(f"/instances/{ident}").json()["data"]["items"]
    assert fresh.status_code == 200
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:linkflow:problem:version-mismatch"
    assert stale.json()["current_version"] == 1
    assert items == ["a"]


def test_unknown_instance_and_event(api: ServiceProcess) -> None:
    with api.client() as http:
        ident = start(http)["id"]
        missing = http.get("/instances/no-such-instance")
        unknown = send(http, ident, "paint", {})
        timeout = send(http, ident, "timeout")
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:linkflow:problem:unknown-instance"
    assert unknown.status_code == 422
    assert unknown.json()["type"] == "urn:linkflow:problem:unknown-event"
    assert timeout.status_code == 422


def test_a_handoff_names_the_next_instance(api: ServiceProcess) -> None:
    with api.client() as http:
        ident = start(http)["id"]
        closed = send(http, ident, "close").json()
        following = http.get(f"/instances/{closed['handed_to']}").json()
    assert closed["outcome"] == "completed"
    assert following["workflow"] == "tally_review"
    assert following["session"] == ident


def test_an_event_for_an_instance_that_handed_off_goes_to_the_current_one(
    api: ServiceProcess,
) -> None:
    with api.client() as http:
        ident = start(http)["id"]
        closed = send(http, ident, "close", **{"Idempotency-Key": "close-1"}).json()
        approved = send(http, ident, "approve")
        again = send(http, ident, "close", **{"Idempotency-Key": "close-1"}).json()
        following = http.get(f"/instances/{closed['handed_to']}").json()
    assert approved.status_code == 200, approved.text
    step = approved.json()
    assert (step["instance"], step["workflow"], step["accepted"]) == (
        closed["handed_to"],
        "tally_review",
        True,
    )
    assert approved.headers["etag"] == '"1"'
    assert (again["instance"], again["replayed"]) == (ident, True)
    assert (following["state"], following["outcome"]) == ("approved", "completed")


def test_listing_pages_with_a_cursor(api: ServiceProcess) -> None:
    with api.client() as http:
        made = {start(http, "alarm")["id"] for _ in range(5)}
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"workflow": "alarm", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = http.get("/instances", params=params)
            check_response("get", "/instances", 200, page.headers["content-type"], page.json())
            seen += [i["id"] for i in page.json()["instances"]]
            cursor = page.json()["next_cursor"]
            pages += 1
            if cursor is None or pages > 50:
                break
    assert made <= set(seen)
    assert len(seen) == len(set(seen))


def test_history_and_feed(api: ServiceProcess) -> None:
    with api.client() as http:
        before = http.get("/feed", params={"after": 0, "limit": 500}).json()["last"]
        ident = start(http)["id"]
        send(http, ident, "add", {"item": "x"})
        send(http, ident, "add", {"item": "y"})
        history = http.get(f"/instances/{ident}/history")
        feed = http.get("/feed", params={"after": before})
    check_response("get", "/instances/{id}/history", 200, "application/json", history.json())
    check_response("get", "/feed", 200, "application/json", feed.json())
    assert [h["payload"]["item"] for h in history.json()["history"]] == ["x", "y"]
    mine = [e for e in feed.json()["entries"] if e["instance"] == ident]
    assert [e["event"] for e in mine] == ["add", "add"]
    seqs = [e["seq"] for e in feed.json()["entries"]]
    assert seqs == sorted(seqs)
    assert feed.json()["last"] == seqs[-1]


def test_the_feed_streams_as_server_sent_events(api: ServiceProcess) -> None:
    with api.client() as http:
        last = http.get("/feed", params={"after": 0, "limit": 500}).json()["last"]
        ident = start(http)["id"]
        send(http, ident, "add", {"item": "s1"})
        send(http, ident, "add", {"item": "s2"})
        ids: list[int] = []
        with http.stream("GET", "/feed/stream", headers={"Last-Event-ID": str(last)}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                if line.startswith("id: "):
                    ids.append(int(line[4:]))
                if len(ids) >= 2:
                    break
    assert ids == sorted(ids)
    assert ids[0] == last + 1


def test_the_timer_loop_fires_a_due_timeout(api: ServiceProcess) -> None:
    with api.client() as http:
        ident = start(http, "alarm")["id"]
        deadline = time.monotonic() + 10
        state = "set"
        while state == "set" and time.monotonic() < deadline:
            time.sleep(0.2)
            state = http.get(f"/instances/{ident}").json()["state"]
        history = http.get(f"/instances/{ident}/history").json()["history"]
    assert state == "rung"
    assert [h["event"] for h in history] == ["timeout"]


def test_the_diagram_draws_an_instance_path(api: ServiceProcess) -> None:
    with api.client() as http:
        ident = start(http)["id"]
        send(http, ident, "add", {"item": "x"})
        send(http, ident, "close")
        plain = http.get("/workflows/tally/diagram.svg")
        traced = http.get("/workflows/tally/diagram.svg", params={"instance": ident})
        wrong = http.get("/workflows/alarm/diagram.svg", params={"instance": ident})
    assert traced.status_code == 200
    assert traced.content != plain.content
    assert wrong.status_code == 404


def test_readyz_names_the_backend(api: ServiceProcess) -> None:
    with api.client() as http:
        assert http.get("/readyz").json()["store"] == api.backend
