"""Failover: the PostgreSQL primary dies under load, its synchronous standby is promoted, and
`linkflow serve` (given both hosts with `target_session_attrs=read-write`) carries on.

8 clients send events with Idempotency-Keys; an answer lost to an error (a 5xx, a broken
connection) is asked again with the same key. The primary's processes get SIGKILL mid-run, the
standby is promoted 6 s later. Meanwhile requests are answered 503; after it the first event is
answered within seconds. Afterwards, on the new primary: every event answered 200 is in history
exactly once (those answered before the kill included: synchronous commit put them on the
standby before the answer), none twice; asking again for a key answered before the kill gives
the recorded answer; alarms that came due while no primary was up ring once; the service process
never stopped and logged no traceback.

And the other way round: the standby lost, writes wait for it while reads are answered.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from linkflow.store import Store
from tests.service.conftest import TEST_WORKFLOWS
from tests.service.server import ServiceProcess
from tests.support.postgres import PostgresUnavailable
from tests.support.postgres_pair import ReplicatedPair, start_pair
from tests.support.requirements import unavailable
from tests.support.store import BOARDS

CLIENTS = 8
#: Each client goes on until the failover is over and it has this many events answered after
#: it; at most MAX_EVENTS; everything within DEADLINE_SECONDS.
EVENTS_AFTER = 5
MAX_EVENTS = 200
DEADLINE_SECONDS = 90.0
#: Answers every client has before the kill.
ANSWERS_BEFORE_KILL = 5
#: How long no primary is up: more than a request waits for a connection (5 s), so requests
#: are answered 503 and asked again.
OUTAGE_SECONDS = 6.0
#: The first event is answered within this long after the promotion: the pool tries to connect
#: about once a second while the database is away (psycopg_pool's default, a delay doubling up
#: to minutes, was seen to take 6 s here).
RECOVERY_SECONDS = 5.0


@pytest.fixture
def pair() -> Iterator[ReplicatedPair]:
    try:
        running = start_pair()
    except PostgresUnavailable as err:
        unavailable(f"PostgreSQL primary and standby could not start: {err}")
    yield running
    running.stop()


class Client(threading.Thread):
    """Sends its events one after the other; an error is asked again with the same key."""

    def __init__(self, number: int, url: str, instance: str, stop_at: float) -> None:
        super().__init__(daemon=True)
        self.number = number
        self.url = url
        self.instance = instance
        self.stop_at = stop_at
        self.failover_done = threading.Event()
        #: key -> (status, body, when it was answered: time.monotonic())
        self.answers: dict[str, tuple[int, dict[str, Any], float]] = {}
        #: key -> the event sent with it (asked again with the same body)
        self.bodies: dict[str, dict[str, Any]] = {}
        self.errors: collections.Counter[str] = collections.Counter()
        self.after = 0

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=15.0) as http:
            for i in range(MAX_EVENTS):
                if self.after >= EVENTS_AFTER or time.monotonic() >= self.stop_at:
                    break
                key = f"c{self.number}-e{i}"
                body = self.bodies[key] = {
                    "event": "add",
                    "payload": {"item": f"{self.number}-{i}"},
                }
                while time.monotonic() < self.stop_at:
                    try:
                        response = http.post(
                            f"/instances/{self.instance}/events",
                            json=body,
                            headers={"Idempotency-Key": key},
                        )
                    except httpx.TransportError as err:
                        self.errors[type(err).__name__] += 1
                        time.sleep(0.1)
                        continue
                    if response.status_code >= 500:
                        self.errors[str(response.status_code)] += 1
                        time.sleep(0.1)
                        continue
                    self.answers[key] = (response.status_code, response.json(), time.monotonic())
                    if self.failover_done.is_set():
                        self.after += 1
                    break
                time.sleep(0.01)


class StreamReader(threading.Thread):
    """Follows /feed/stream, reconnecting with Last-Event-ID whenever the stream ends or
    fails, until told to stop; the feed numbers it read, in order."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.seqs: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=15.0) as http:
            while not self.stop.is_set():
                headers = {"Last-Event-ID": str(self.seqs[-1])} if self.seqs else {}
                try:
                    with http.stream("GET", "/feed/stream", headers=headers) as response:
                        if response.status_code == 200:
                            for line in response.iter_lines():
                                if line.startswith("id: "):
                                    self.seqs.append(int(line[4:]))
                                if self.stop.is_set():
                                    return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)


def test_the_service_carries_on_when_the_primary_dies(pair: ReplicatedPair) -> None:
    url = pair.url()
    with Store.open(url) as store:
        store.load_world(BOARDS)
    service = ServiceProcess(*TEST_WORKFLOWS, store=url).start()
    stream = StreamReader(service.url)
    stream.start()
    try:
        clients, alarms, killed_at, promoted_at = run_through_failover(pair, service)
        ready, replays = after_failover(service, clients, alarms, killed_at)
        last = _last_seq(service)
        deadline = time.monotonic() + 15
        while (not stream.seqs or stream.seqs[-1] < last) and time.monotonic() < deadline:
            time.sleep(0.1)
        stream.stop.set()
        stream.join(20)
        assert service.process is not None
        assert service.process.poll() is None  # it never stopped
        service.stop()
        logs = service.logs()
        records = service.log_records()
    except BaseException:
        print(service.logs()[-4000:])
        print(pair.logs())
        raise
    finally:
        service.close()
    assert ready == 200
    assert "Traceback" not in logs
    assert [r for r in records if r.get("level") == "error"] == []  # warnings only
    # Every log line JSON, the driver's included (the start-up banner aside).
    lines = [line for line in logs.splitlines() if not line.startswith("linkflow serve: ")]
    assert len(records) == len(lines), [line for line in lines if not line.startswith("{")]
    assert not pair.standby_in_recovery()
    errors = sum((c.errors for c in clients), collections.Counter())
    assert errors, "no request met the failover"
    assert set(errors) <= {"503", "ReadError", "RemoteProtocolError", "ReadTimeout"}, errors
    first_after = min(w for c in clients for _, _, w in c.answers.values() if w > promoted_at)
    print(
        f"no primary for {promoted_at - killed_at:.1f} s; first answer "
        f"{first_after - promoted_at:.2f} s after the promotion; errors retried: "
        f"{dict(errors)}; answered: {sum(len(c.answers) for c in clients)}"
    )
    assert first_after - promoted_at < RECOVERY_SECONDS
    for key, response in replays.items():
        number = int(key[1:].split("-")[0])
        first = clients[number].answers[key][1]
        assert response.status_code == 200, response.text
        again = response.json()
        assert again["replayed"] is True
        assert {k: v for k, v in again.items() if k != "replayed"} == {
            k: v for k, v in first.items() if k != "replayed"
        }
    check_new_primary(pair.url(hosts="standby"), clients, killed_at, alarms, stream.seqs)


def _last_seq(service: ServiceProcess) -> int:
    """The newest feed number (the feed read page by page)."""
    last = 0
    with service.client() as http:
        while True:
            page = http.get("/feed", params={"after": last}).json()
            entries = page["entries"]
            if not entries:
                return last
            last = entries[-1]["seq"]


def run_through_failover(
    pair: ReplicatedPair, service: ServiceProcess
) -> tuple[list[Client], list[str], float, float]:
    """Clients at work; two alarms set; the primary killed, the standby promoted; the clients
    finished. The clients, the alarms, when the kill and the promotion happened."""
    with service.client() as http:
        tallies = [
            http.post("/instances", json={"workflow": "tally", "data": {"board": "main"}}).json()[
                "id"
            ]
            for _ in range(CLIENTS)
        ]
    stop_at = time.monotonic() + DEADLINE_SECONDS
    clients = [Client(n, service.url, tallies[n], stop_at) for n in range(CLIENTS)]
    for client in clients:
        client.start()
    deadline = time.monotonic() + 30
    while min(len(c.answers) for c in clients) < ANSWERS_BEFORE_KILL:
        assert time.monotonic() < deadline, "the clients got no answers before the kill"
        time.sleep(0.05)
    with service.client() as http:
        alarms = [http.post("/instances", json={"workflow": "alarm"}) for _ in range(2)]
    assert [a.status_code for a in alarms] == [201, 201]
    assert pair.replication() == [("standby1", "sync")]
    killed_at = time.monotonic()
    pair.kill_primary()
    time.sleep(OUTAGE_SECONDS)  # the alarms come due while there is no primary
    pair.promote()
    promoted_at = time.monotonic()
    for client in clients:
        client.failover_done.set()
    for client in clients:
        client.join(max(1.0, stop_at - time.monotonic()))
    assert not any(c.is_alive() for c in clients), "clients did not finish in time"
    return clients, [a.json()["id"] for a in alarms], killed_at, promoted_at


def after_failover(
    service: ServiceProcess, clients: list[Client], alarms: list[str], killed_at: float
) -> tuple[int, dict[str, httpx.Response]]:
    """Waits for the alarms to ring; asks again, per client, for the last key answered before
    the kill. /readyz's status, and those answers by key."""
    deadline = time.monotonic() + 15
    with service.client() as http:
        while time.monotonic() < deadline:
            states = [http.get(f"/instances/{a}").json()["state"] for a in alarms]
            if states == ["rung", "rung"]:
                break
            time.sleep(0.2)
        replays = {}
        for client in clients:
            key = max(
                (k for k, (_, _, when) in client.answers.items() if when < killed_at),
                key=lambda k: int(k.rsplit("e", 1)[1]),
            )
            replays[key] = http.post(
                f"/instances/{client.instance}/events",
                json=client.bodies[key],
                headers={"Idempotency-Key": key},
            )
        return http.get("/readyz").status_code, replays


def check_new_primary(
    url: str, clients: list[Client], killed_at: float, alarms: list[str], streamed: list[int]
) -> None:
    with Store.open(url) as store:
        items: list[str] = []
        before_kill = 0
        for client in clients:
            assert client.after >= EVENTS_AFTER, (client.number, client.after)
            history = store.history(client.instance)
            keys = collections.Counter(h.event_id for h in history if h.event_id)
            assert all(count == 1 for count in keys.values()), keys  # none applied twice
            for key, (status, body, when) in client.answers.items():
                assert status == 200, (key, status, body)
                assert keys[key] == 1, (key, "answered 200 but not on the new primary")
                before_kill += when < killed_at
            assert set(keys) == set(client.answers)  # nothing applied that was not answered
            record = store.get(client.instance)
            assert record.data["count"] == len(client.answers)
            items += record.data["items"]
        assert before_kill >= CLIENTS * ANSWERS_BEFORE_KILL  # answers from the old primary
        board = store.world("boards", "main")["main"]
        assert sorted(board["items"]) == sorted(items)  # the shared record: each item once
        feed = store.feed(limit=1_000_000)
        seqs = [e.seq for e in feed]
        assert len(seqs) == len(set(seqs))
        # The stream, reconnecting through the failover: every entry once, in order.
        assert streamed == seqs
        fired = collections.Counter(e.instance for e in feed if e.event == "timeout")
        for alarm in alarms:
            assert store.get(alarm).state == "rung"
            assert fired[alarm] == 1


#: How long a client waits for an answer while the synchronous standby is away.
STALL_SECONDS = 3.0


def test_without_its_synchronous_standby_writes_wait_and_reads_go_on(
    pair: ReplicatedPair,
) -> None:
    """The standby killed: an event waits for it (no answer, nothing visible), reads are
    answered; the standby back, the event commits, and asking again with the same key gets
    the recorded answer. The event is applied once."""
    url = pair.url()
    with Store.open(url) as store:
        store.load_world(BOARDS)
    with ServiceProcess(*TEST_WORKFLOWS, store=url) as service, service.client() as http:
        ident = http.post(
            "/instances", json={"workflow": "tally", "data": {"board": "main"}}
        ).json()["id"]
        body = {"event": "add", "payload": {"item": "while-away"}}
        headers = {"Idempotency-Key": "k-away"}
        pair.kill_standby()
        with pytest.raises(httpx.ReadTimeout):
            http.post(
                f"/instances/{ident}/events", json=body, headers=headers, timeout=STALL_SECONDS
            )
        during = http.get(f"/instances/{ident}")
        ready = http.get("/readyz")
        pair.restart_standby()
        again = http.post(f"/instances/{ident}/events", json=body, headers=headers, timeout=15.0)
        after = http.get(f"/instances/{ident}").json()
        logs = service.logs()
    assert during.status_code == 200
    assert during.json()["data"]["items"] == []  # the waiting commit is not visible
    assert ready.status_code == 200
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True  # it committed once the standby came back
    assert after["data"]["items"] == ["while-away"]
    assert "Traceback" not in logs
