"""Group commit through the service: concurrent clients' events are committed in shared
transactions, and the result equals the events applied one by one in feed order; a full queue is
a 503 with Retry-After at once."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from linkflow.language.loader import load_workflows
from linkflow.service.app import create_app
from linkflow.service.config import ServiceConfig
from linkflow.service.problems import ServiceProblem
from linkflow.service.writer import EventWriter
from linkflow.store import Sent, Store
from linkflow.store.batch import EventRequest, send_many
from tests.service.conftest import TEST_WORKFLOWS, new_store
from tests.service.server import ServiceProcess
from tests.support.store import CASES, TALLY, replay, start_world

CLIENTS = 8
EVENTS_PER_CLIENT = 12
INSTANCES = 3


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_clients_equal_a_serial_replay_of_the_feed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = new_store(backend, request, tmp_path)
    answers: dict[str, list[int]] = {}
    expected: dict[str, list[int]] = {}
    with ServiceProcess(*TEST_WORKFLOWS, store=url) as server:
        with server.client() as http:
            tallies = [
                http.post(
                    "/instances", json={"workflow": "tally", "data": {"board": "main"}}
                ).json()["id"]
                for _ in range(INSTANCES)
            ]
        lock = threading.Lock()

        def client(number: int) -> None:
            with server.client() as http:
                for i in range(EVENTS_PER_CLIENT):
                    key = f"c{number}-{i}"
                    path = f"/instances/{tallies[(number + i) % INSTANCES]}/events"
                    body = {"event": "add", "payload": {"item": key}}
                    first = http.post(path, json=body, headers={"Idempotency-Key": key})
                    statuses = [first.status_code]
                    if i % 4 == 0:  # the same key again: the recorded step, applied once
                        again = http.post(path, json=body, headers={"Idempotency-Key": key})
                        assert again.json()["replayed"] is True, again.text
                        statuses.append(again.status_code)
                    if i % 5 == 0:  # a version long gone: 412, nothing applied
                        stale = http.post(
                            path,
                            json={"event": "add", "payload": {"item": f"stale-{key}"}},
                            headers={"If-Match": '"0"'},
                        )
                        statuses.append(stale.status_code)
                    with lock:
                        answers[key] = statuses
                        # The stale request follows this client's own accepted event on that
                        # instance, so version 0 is always gone by then.
                        expected[key] = [200] + [200] * (i % 4 == 0) + [412] * (i % 5 == 0)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        server.stop()  # SIGTERM: the writer logs its totals as it stops
        totals = [r for r in server.log_records() if r.get("message") == "event writer stopped"]
    assert len(answers) == CLIENTS * EVENTS_PER_CLIENT
    assert answers == expected
    [total] = totals
    assert total["events"] >= CLIENTS * EVENTS_PER_CLIENT
    assert total["batches"] < total["events"]  # events shared commits
    with Store.open(url) as store:
        items = [item for t in tallies for item in store.get(t).data["items"]]
        assert sorted(items) == sorted(answers)  # each answered event once; no stale one
        replayed, world = replay(store, start_world())
        for ident, (state, data) in replayed.items():
            stored = store.get(ident)
            assert (stored.state, stored.data) == (state, data)
        assert store.world("boards") == world.collections["boards"]


def test_a_full_queue_is_503_with_retry_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    store.load_world(start_world())
    ident = store.start(TALLY, {"board": "main"}).id
    release = threading.Event()

    def held(*args: Any) -> Any:
        release.wait(10)
        return send_many(*args)

    monkeypatch.setattr("linkflow.service.writer.send_many", held)
    config = ServiceConfig(timer_interval=0, max_batch=1, max_queued_events=1)
    app = create_app(config, workflows=load_workflows([CASES]), store=store)
    body = {"event": "add", "payload": {"item": "pen"}}

    async def scenario() -> tuple[tuple[httpx.Response, httpx.Response], httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            path = f"/instances/{ident}/events"
            first = asyncio.create_task(http.post(path, json=body))  # taken, held in its commit
            await asyncio.sleep(0.2)
            second = asyncio.create_task(http.post(path, json=body))  # waits in the queue
            await asyncio.sleep(0.2)
            refused = await http.post(path, json=body)
            release.set()
            done = await asyncio.gather(first, second)
            await app.state.service.close_writer()
        return done, refused

    try:
        done, refused = asyncio.run(scenario())
    finally:
        release.set()
    assert [r.status_code for r in done] == [200, 200]
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:linkflow:problem:overloaded"
    assert "waiting for a commit" in refused.json()["detail"]
    assert store.get(ident).data["items"] == ["pen", "pen"]
    store.close()


def test_close_waits_until_every_queued_event_is_committed_or_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    store.load_world(start_world())
    ident = store.start(TALLY, {"board": "main"}).id
    release = threading.Event()

    def held(*args: Any) -> Any:
        release.wait(10)
        return send_many(*args)

    monkeypatch.setattr("linkflow.service.writer.send_many", held)
    writer = EventWriter(store, max_batch=2, max_queued=100)
    items = [f"item-{n}" for n in range(5)] + [""]  # the last one is refused by its schema

    async def scenario() -> tuple[list[Sent], ServiceProblem, list[bool]]:
        sends = [
            asyncio.create_task(writer.send(EventRequest(ident, "add", {"item": item})))
            for item in items
        ]
        await asyncio.sleep(0.2)  # the first batch is in its commit, held; the rest queued
        asyncio.get_running_loop().call_later(0.3, release.set)
        await writer.close()
        # Right when close returns: the writer is done, nothing is queued, and every event
        # is on disk or answered (a sender needs one turn of the loop to read its answer).
        assert writer._task is not None
        done = [writer._task.done(), not writer._queue, len(store.get(ident).data["items"]) == 5]
        await asyncio.sleep(0)
        finished = [task.done() for task in sends]
        assert all(finished), finished
        with pytest.raises(ServiceProblem) as late:  # from now on, refused at once
            await writer.send(EventRequest(ident, "add", {"item": "late"}))
        return [task.result() for task in sends], late.value, done

    try:
        outcomes, late, done = asyncio.run(scenario())
    finally:
        release.set()
    assert done == [True, True, True]
    assert [o.step.accepted for o in outcomes] == [True] * 5 + [False]
    assert (writer.batches, writer.events) == (3, 6)
    assert late.type.slug == "overloaded"
    assert "stopping" in late.detail
    assert store.get(ident).data["items"] == items[:5]
    store.close()
