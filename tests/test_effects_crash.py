"""Workers killed with SIGKILL at random moments while they perform effects, ten times, under
concurrency: every effect is performed at least once, the fake API applies each
Idempotency-Key exactly once, and every instance gets exactly one result event in its history.
Then the same with two worker processes sharing a PostgreSQL store.

Bounded: 40 instances, one invoke each, calls of 100 to 400 ms at concurrency 4 (so kills fall
mid-call), a 1 s lease (so a killed worker's claims are taken over soon), 60 s at most. The
seed is printed on failure, to run the same kills again.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from linkflow.runtime.effect_calls import EffectCall
from linkflow.runtime.steps import Step
from linkflow.store import Store
from linkflow.store.outbox import Outbox
from tests.support.effect_steps import causing, invoke, write_flow
from tests.support.fake_api import FakeApi, fake_api

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = 40
KILLS = 10
DEADLINE = 60.0


def _worker(url: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "linkflow", "worker", "--store", url]
    command += ["--lease", "1", "--concurrency", "4", "--poll", "0.05"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "engine")}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - a worker that will not stop
        process.kill()
        process.wait()


def _causes(call: EffectCall) -> Callable[[Step], tuple[EffectCall, ...]]:
    """What the `ask` step causes: `call`."""
    return lambda step: (call,)


def _instances(url: str, folder: Path, api: FakeApi, rng: random.Random) -> list[str]:
    ids = []
    monkeypatch = pytest.MonkeyPatch()
    try:
        with Store.open(url) as store:
            flow = write_flow(folder)
            for _ in range(INSTANCES):
                delay = rng.randint(100, 400)
                call = invoke(f"{api.url}/delay?ms={delay}", attempts=20, initial=0.05)
                with causing(monkeypatch, {"ask": _causes(call)}):
                    started = store.start(flow)
                    store.send(started.id, "ask")
                ids.append(started.id)
    finally:
        monkeypatch.undo()
    return ids


#: Seconds a round waits for its workers' first call before killing them anyway.
ARRIVAL = 15.0


def _settled(url: str) -> bool:
    with Store.open(url) as store:
        counts = Outbox(store).counts()
    return counts["pending"] == 0 and counts["running"] == 0


def _check(url: str, ids: list[str], api: FakeApi, seed: int) -> None:
    with Store.open(url) as store:
        outbox = Outbox(store)
        keys = set()
        for instance_id in ids:
            (effect,) = outbox.of_instance(instance_id)
            assert effect.status == "done", (seed, effect)
            keys.add(effect.idempotency_key)
            results = [
                e for e in store.history(instance_id) if (e.event_id or "").startswith("effect:")
            ]
            assert len(results) == 1, (seed, instance_id, results)
    assert set(api.applied) == keys, seed  # every effect performed at least once...
    assert all(count == 1 for count in api.applied.values()), seed  # ...applied once


def _crash_run(url: str, tmp_path: Path, workers: int, seed: int) -> None:
    rng = random.Random(seed)
    with fake_api() as api:
        ids = _instances(url, tmp_path, api, rng)
        began = time.monotonic()
        for _ in range(KILLS):
            arrived = len(api.arrived)
            running = [_worker(url) for _ in range(workers)]
            try:
                # Start-up takes longer on a loaded machine: wait for this round's first call
                # to arrive (at most ARRIVAL seconds), then kill at a random moment while
                # calls (100-400 ms each) are in flight.
                waited = time.monotonic() + ARRIVAL
                while len(api.arrived) == arrived and time.monotonic() < waited:
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.05, 0.6))
            finally:
                victim = rng.randrange(workers)
                for n, process in enumerate(running):
                    # one of them is killed; the other (with two) stops cleanly or is killed too
                    killed = n == victim or rng.random() < 0.5
                    _stop(process, signal.SIGKILL if killed else signal.SIGTERM)
        final = [_worker(url) for _ in range(workers)]
        try:
            while not _settled(url):
                assert time.monotonic() - began < DEADLINE, f"not settled (seed {seed})"
                time.sleep(0.1)
        finally:
            for process in final:
                _stop(process)
        _check(url, ids, api, seed)
        assert len(api.requests) >= INSTANCES
        assert api.replayed > 0, f"no kill fell mid-call (seed {seed})"
        print(f"seed {seed}: {len(api.requests)} requests, {api.replayed} answered again")


def test_a_worker_killed_ten_times_loses_and_doubles_nothing(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    _crash_run(f"sqlite:///{tmp_path / 'store.db'}", tmp_path, 1, seed)


def test_two_workers_on_postgresql_killed_at_random_lose_and_double_nothing(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres").database()
    seed = random.randrange(1 << 30)
    _crash_run(url, tmp_path, 2, seed)
