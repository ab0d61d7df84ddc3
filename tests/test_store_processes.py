"""Many processes at once, and processes killed mid-write: nothing lost, nothing doubled.

Bounded: a few writer processes, 20 kills per backend, and a race of a few hundred events
against timers that are always due.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from linkflow.store import Store
from tests.support.store import BOARDS, CHAIN, TALLY, FakeClock, replay, start_world

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 6
ITEMS_EACH = 4
KILLS = 20


def search_path() -> str:
    """The checkout first, then the caller's PYTHONPATH (a worktree's `engine` folder, say), so
    that a writer process runs the linkflow under test, not whichever one is installed."""
    parts = [str(ROOT), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    return os.pathsep.join(p for p in parts if p)


def writer(
    *args: str, stdout: int | None = None, module: str = "tests.support.writers"
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": search_path()},
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


#: Two waits that time out into each other, and an event either takes: an instance is always
#: waiting, so the timer process always has its timeout due while events arrive for it.
RACE = """\
workflow: race
initial: a
data:
  pokes: 0
states:
  a:
    waiting: {for: nothing, timeout: {seconds: 1, to: b}}
  b:
    waiting: {for: nothing, timeout: {seconds: 1, to: a}}
  done: {final: completed}
events:
  poke: {}
  finish: {}
transitions:
  - event: poke
    from: [a, b]
    to: b
    actions:
      - set: {path: data.pokes, value: data.pokes + 1}
  - event: finish
    from: [a, b]
    to: done
"""
RACE_INSTANCES = 12
RACE_EVENTS = 300


def check_race(store: Store, ids: list[str], events: int) -> int:
    """Every event once, every fired timeout once, a gap-free feed that matches the histories
    step for step; how many timeouts fired."""
    feed = store.feed(limit=1_000_000)
    assert [e.seq for e in feed] == list(range(1, len(feed) + 1)), "the feed has a gap"
    by_instance: dict[str, list[tuple[str, str, str]]] = {i: [] for i in ids}
    for entry in feed:
        by_instance[entry.instance].append((entry.event, entry.source, entry.target))
    seen: Counter[str] = Counter()
    timeouts = 0
    for instance_id in ids:
        record = store.get(instance_id)
        history = store.history(instance_id)
        assert all(h.entry.accepted for h in history)
        steps = [(h.entry.event, h.entry.source, h.entry.target) for h in history]
        assert steps == by_instance[instance_id], "the feed and the history differ"
        state = "a"
        for _, source, target in steps:  # a timeout fired twice would leave a state twice
            assert source == state, f"{instance_id}: a step from {source} while in {state}"
            state = target
        assert (record.state, record.version) == (state, len(history))
        pokes = [h.event_id for h in history if h.entry.event == "poke"]
        assert record.data["pokes"] == len(pokes)
        seen.update(e for e in pokes if e is not None)
        timeouts += len(history) - len(pokes)
    assert seen == Counter(f"p{i}" for i in range(events)), "an event is lost or doubled"
    return timeouts


def test_events_racing_due_timers_deadlock_nowhere(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """One process sends events (batches as the service's writer, and single sends) to
    instances whose timeouts are always due while another fires them (the timer loop): every
    writer takes its locks in one order (store/core.py, "Lock order"), so PostgreSQL logs no
    deadlock, and each event and each timeout is applied once."""
    workflow = tmp_path / "race.yaml"
    workflow.write_text(RACE, encoding="utf-8")
    with Store.open(store_url) as store:
        ids = [store.start(workflow).id for _ in range(RACE_INSTANCES)]
    server = request.getfixturevalue("postgres") if store_url.startswith("postgresql") else None
    mark = 0 if server is None else server.log_size()
    stop = tmp_path / "stop"
    module = "tests.support.racers"
    timers = writer("timers", store_url, str(stop), stdout=subprocess.PIPE, module=module)
    events: subprocess.Popen[str] | None = None
    try:
        assert timers.stdout is not None
        assert timers.stdout.readline().strip() == "ready", "the timer process did not start"
        events = writer(
            "events", store_url, str(RACE_EVENTS), *ids, stdout=subprocess.PIPE, module=module
        )
        sent, events_err = events.communicate(timeout=120)
    finally:
        stop.touch()
        if events is not None and events.poll() is None:
            events.kill()  # it ran out of time: stop it before failing
            events.wait(timeout=30)
        fired, timers_err = timers.communicate(timeout=120)
    assert events.returncode == 0, events_err
    assert timers.returncode == 0, timers_err
    sending, firing = json.loads(sent), json.loads(fired)
    with Store.open(store_url) as store:
        timeouts = check_race(store, ids, RACE_EVENTS)
    assert timeouts == firing["fired"] > 0
    figures = f"events {sending}, timers {firing}"
    if server is not None:
        logged = server.logged(store_url, mark)
        deadlocks = [line for line in logged if "deadlock detected" in line]
        waits = [line for line in logged if "still waiting for" in line]
        figures += f", {len(deadlocks)} deadlocks, {len(waits)} lock waits past 1 s"
        assert not deadlocks, figures
    print(figures)
