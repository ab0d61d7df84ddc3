"""Many processes at once, and processes killed mid-write: nothing lost, nothing doubled.

Bounded: a few writer processes, and 20 kills per backend.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from linkflow.store import Store
from tests.support.store import BOARDS, CHAIN, TALLY, FakeClock, replay, start_world

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 6
ITEMS_EACH = 4
KILLS = 20


def writer(*args: str, stdout: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.writers", *args],
        cwd=ROOT,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_concurrent_writers_to_one_record_lose_no_update(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.load_world(BOARDS)
        ids = [store.start(TALLY, {"board": "main"}).id for _ in range(WRITERS)]
    items = {i: [f"w{n}-{k}" for k in range(ITEMS_EACH)] for n, i in enumerate(ids)}
    procs = [writer("add", store_url, i, *items[i]) for i in ids]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with Store.open(store_url) as store:
        board = store.world("boards", "main")["main"]["items"]
        assert sorted(board) == sorted(x for xs in items.values() for x in xs)
        for instance_id, sent in items.items():
            assert store.get(instance_id).data["items"] == sent
        assert len(store.feed(limit=10_000)) == WRITERS * ITEMS_EACH


def check_after_kill(store: Store, acknowledged: set[int]) -> None:
    """Every acknowledged event once; state, data and world equal a replay of the history."""
    seen: Counter[str] = Counter()
    for record in store.instances(workflow="tally"):
        for stored in store.history(record.id):
            assert stored.entry.accepted
            assert stored.event_id is not None
            seen[stored.event_id] += 1
    assert max(seen.values(), default=1) == 1, "an event id is in history twice"
    assert {f"e{i}" for i in acknowledged} <= set(seen), "an acknowledged event was lost"
    replayed, world = replay(store, start_world())
    for instance_id, (state, data) in replayed.items():
        stored_now = store.get(instance_id)
        assert (stored_now.state, stored_now.data) == (state, data)
        assert stored_now.version == len(store.history(instance_id))
    assert store.world("boards") == world.collections["boards"]


def test_a_writer_killed_at_random_moments_loses_and_doubles_nothing(store_url: str) -> None:
    rng = random.Random(20261130)
    with Store.open(store_url) as store:
        store.load_world(BOARDS)
        ids = [store.start(TALLY, {"board": "main"}).id for _ in range(3)]
    acknowledged: set[int] = set()
    resume = 0
    deadline = time.monotonic() + 150
    for _ in range(KILLS):
        assert time.monotonic() < deadline, "the crash test ran out of time"
        # Restart at the last acknowledged event: it is sent again with its id (a retry).
        proc = writer("crash", store_url, str(resume), *ids, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # wait until it is writing
        assert first, proc.stderr.read() if proc.stderr else ""
        acknowledged.add(int(first))
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
        acknowledged.update(int(line) for line in rest.split())
        resume = max(acknowledged)
        with Store.open(store_url) as store:
            check_after_kill(store, acknowledged)
    assert len(acknowledged) > KILLS  # it did write between the kills


def test_several_timer_processes_fire_each_timeout_once(store_url: str) -> None:
    past = FakeClock(time.time() - 100)
    with Store.open(store_url, clock=past) as store:
        ids = [store.start(CHAIN).id for _ in range(15)]
    runners = [
        subprocess.Popen(
            [sys.executable, "-m", "linkflow", "timers", "run", "--store", store_url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for runner in runners:
        _, err = runner.communicate(timeout=120)
        assert runner.returncode == 0, err
    with Store.open(store_url) as store:
        for instance_id in ids:
            assert [h.entry.target for h in store.history(instance_id)] == ["b", "c", "done"]
        assert len(store.feed(limit=1000)) == 3 * len(ids)
