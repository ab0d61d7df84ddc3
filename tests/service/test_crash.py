"""Crash safety: 8 clients send events with Idempotency-Keys (retrying on connection errors)
while the service is killed with SIGKILL 5 times and restarted; on SQLite and PostgreSQL.

Afterwards: every event that got a 2xx is in history exactly once; no key was applied twice;
every instance equals a replay of its history; the shared world record holds every accepted
item exactly once; and timers that came due while the service was down fired once.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from linkflow.language.loader import load_workflows
from linkflow.runtime.engine import Engine
from linkflow.runtime.world import World
from linkflow.store import Store
from tests.service.conftest import SERVICE_CASES, TEST_WORKFLOWS, new_store
from tests.service.server import ServiceProcess
from tests.support.store import CASES, start_world

CLIENTS = 8
#: Each client sends at least this many events, and goes on until the last kill is over, so
#: kills always meet requests in flight however fast the machine is; at most MAX_EVENTS.
EVENTS_PER_CLIENT = 8
MAX_EVENTS = 300
KILLS = 5
DEADLINE_SECONDS = 90.0


class Client(threading.Thread):
    """Sends its events one after the other; a lost answer is retried with the same key."""

    def __init__(
        self, number: int, url: str, instance: str, stop_at: float, kills_done: threading.Event
    ) -> None:
        super().__init__(daemon=True)
        self.number = number
        self.url = url
        self.instance = instance
        self.stop_at = stop_at
        self.kills_done = kills_done
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self.retries = 0
        self.sent = 0  # events answered: c<number>-e0 .. e<sent - 1>

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5.0) as http:
            for i in range(MAX_EVENTS):
                if i >= EVENTS_PER_CLIENT and self.kills_done.is_set():
                    break
                if time.monotonic() >= self.stop_at:
                    break
                key = f"c{self.number}-e{i}"
                body = {"event": "add", "payload": {"item": f"{self.number}-{i}"}}
                while time.monotonic() < self.stop_at:
                    try:
                        response = http.post(
                            f"/instances/{self.instance}/events",
                            json=body,
                            headers={"Idempotency-Key": key},
                        )
                    except httpx.TransportError:
                        self.retries += 1
                        time.sleep(0.05)
                        continue
                    if response.status_code == 503:
                        self.retries += 1
                        time.sleep(0.1)
                        continue
                    self.answers[key] = (response.status_code, response.json())
                    self.sent = i + 1
                    break
                time.sleep(0.01)  # a steady stream, not a flood


def start_alarms(url: str, count: int) -> list[str]:
    """Alarms that ring one second from now (while the service will be down)."""
    made = []
    with httpx.Client(base_url=url, timeout=5.0) as http:
        for _ in range(count):
            try:
                response = http.post("/instances", json={"workflow": "alarm"})
            except httpx.TransportError:
                continue
            if response.status_code == 201:
                made.append(response.json()["id"])
    return made


def replay(store: Store, ident: str, engines: dict[str, Engine]) -> tuple[str, Any]:
    """The instance rebuilt from its start data and its accepted history (its own world)."""
    record = store.get(ident)
    instance = engines[record.workflow].create(record.start_data, World(start_world().snapshot()))
    for stored in store.history(ident):
        entry = stored.entry
        if not entry.accepted:
            continue
        if entry.event == "timeout":
            step = instance.time_out()
        else:
            step = instance.send(entry.event, dict(entry.payload))
        assert step is not None, (ident, entry)
        assert step.accepted, (ident, entry)
    return instance.state, instance.data


def run_crash(url: str) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    service = ServiceProcess(*TEST_WORKFLOWS, store=url).start()
    try:
        with service.client() as http:
            tallies = [
                http.post(
                    "/instances", json={"workflow": "tally", "data": {"board": "main"}}
                ).json()["id"]
                for _ in range(CLIENTS)
            ]
        stop_at = time.monotonic() + DEADLINE_SECONDS
        kills_done = threading.Event()
        clients = [Client(n, service.url, tallies[n], stop_at, kills_done) for n in range(CLIENTS)]
        for client in clients:
            client.start()
        alarms: list[str] = []
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 0.6))
            due = time.time() + 1.0
            alarms += start_alarms(service.url, 2)
            service.kill()
            time.sleep(max(0.0, due + 0.05 - time.time()))  # they come due while it is down
            service.start()
        kills_done.set()
        for client in clients:
            client.join(max(1.0, stop_at - time.monotonic()))
        assert not any(c.is_alive() for c in clients), f"clients did not finish (seed {seed})"
        deadline = time.monotonic() + 15
        with service.client() as http:
            while time.monotonic() < deadline:
                states = [http.get(f"/instances/{a}").json()["state"] for a in alarms]
                if all(s == "rung" for s in states):
                    break
                time.sleep(0.2)
        service.stop()
    except BaseException:
        print(service.logs()[-3000:])
        raise
    finally:
        service.close()
    check(url, clients, tallies, alarms, seed)


def check(
    url: str, clients: list[Client], tallies: list[str], alarms: list[str], seed: int
) -> None:
    engines = {n: Engine(w) for n, w in load_workflows([CASES, SERVICE_CASES]).items()}
    with Store.open(url) as store:
        accepted_items: list[str] = []
        for client in clients:
            history = store.history(client.instance)
            keys = collections.Counter(h.event_id for h in history if h.event_id)
            assert client.sent >= EVENTS_PER_CLIENT, (client.number, client.sent, seed)
            assert set(client.answers) == {f"c{client.number}-e{i}" for i in range(client.sent)}, (
                seed
            )
            for key, (status, _) in client.answers.items():
                assert 200 <= status < 300, (key, status, seed)
                assert keys[key] == 1, (key, keys[key], seed)  # once, however often retried
            assert all(count == 1 for count in keys.values()), seed
            state, data = replay(store, client.instance, engines)
            record = store.get(client.instance)
            assert (record.state, dict(record.data)) == (state, data), seed
            assert sorted(data["items"]) == sorted(
                f"{client.number}-{i}" for i in range(client.sent)
            )
            accepted_items += data["items"]
        board = store.world("boards", "main")["main"]
        assert sorted(board["items"]) == sorted(accepted_items), seed  # no lost world update
        feed = store.feed(limit=1_000_000)
        seqs = [e.seq for e in feed]
        assert len(seqs) == len(set(seqs)), seed
        fired = collections.Counter(e.instance for e in feed if e.event == "timeout")
        for alarm in alarms:
            record = store.get(alarm)
            assert record.state == "rung", (alarm, record.state, seed)
            assert fired[alarm] == 1, (alarm, fired[alarm], seed)
            timeouts = [h for h in store.history(alarm) if h.entry.event == "timeout"]
            assert len(timeouts) == 1, seed
    assert alarms, "no alarm was started before a kill"
    assert sum(c.retries for c in clients) > 0, "no request was ever cut off by a kill"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_five_times_nothing_lost_nothing_twice(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    run_crash(new_store(backend, request, tmp_path))
