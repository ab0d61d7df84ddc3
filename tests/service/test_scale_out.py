"""Two service processes on one PostgreSQL store, clients alternating between them on the same
instances and world record: no lost update, no timer fired twice, no feed number twice."""

from __future__ import annotations

import collections
import threading
import time
from pathlib import Path

import httpx
import pytest

from linkflow.store import Store
from tests.service.conftest import TEST_WORKFLOWS, new_store
from tests.service.server import ServiceProcess

INSTANCES = 4
CLIENTS = 8
EVENTS_PER_CLIENT = 10
ALARMS = 12


def test_two_processes_share_one_postgresql(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = new_store("postgresql", request, tmp_path)
    with (
        ServiceProcess(*TEST_WORKFLOWS, store=url) as first,
        ServiceProcess(*TEST_WORKFLOWS, store=url) as second,
    ):
        servers = [first.url, second.url]
        with httpx.Client(timeout=10.0) as http:
            tallies = [
                http.post(
                    f"{servers[n % 2]}/instances",
                    json={"workflow": "tally", "data": {"board": "main"}},
                ).json()["id"]
                for n in range(INSTANCES)
            ]
            alarms = [
                http.post(f"{servers[n % 2]}/instances", json={"workflow": "alarm"}).json()["id"]
                for n in range(ALARMS)
            ]
        answers: dict[str, int] = {}

        def client(number: int) -> None:
            with httpx.Client(timeout=10.0) as http:
                for i in range(EVENTS_PER_CLIENT):
                    key = f"c{number}-{i}"
                    server, ident = servers[(number + i) % 2], tallies[number % INSTANCES]
                    response = http.post(
                        f"{server}/instances/{ident}/events",
                        json={"event": "add", "payload": {"item": key}},
                        headers={"Idempotency-Key": key},
                    )
                    answers[key] = response.status_code

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        deadline = time.monotonic() + 20
        with httpx.Client(timeout=10.0) as http:
            while time.monotonic() < deadline:
                states = {http.get(f"{servers[0]}/instances/{a}").json()["state"] for a in alarms}
                if states == {"rung"}:
                    break
                time.sleep(0.2)
        logs = [first.log_records(), second.log_records()]
    assert len(answers) == CLIENTS * EVENTS_PER_CLIENT
    assert set(answers.values()) == {200}
    with Store.open(url) as store:
        items: list[str] = []
        for ident in tallies:
            record = store.get(ident)
            assert record.data["count"] == len(record.data["items"])
            items += record.data["items"]
        assert sorted(items) == sorted(answers)  # every event applied once, none lost
        board = store.world("boards", "main")["main"]
        assert sorted(board["items"]) == sorted(answers)  # no lost update on the shared record
        feed = store.feed(limit=1_000_000)
        seqs = [e.seq for e in feed]
        assert len(seqs) == len(set(seqs))
        fired = collections.Counter(e.instance for e in feed if e.event == "timeout")
        assert {a: fired[a] for a in alarms} == dict.fromkeys(alarms, 1)
        for alarm in alarms:
            assert store.get(alarm).state == "rung"
    timer_lines = [[r for r in log if r.get("message") == "timer"] for log in logs]
    assert sum(len(lines) for lines in timer_lines) == ALARMS  # each fired by one process only
