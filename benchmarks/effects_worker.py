"""The effects worker's throughput: one worker performing notify effects from a SQLite outbox
(WAL, synchronous=FULL) against the local fake API (tests/support/fake_api.py, served by
uvicorn in a process of its own) at concurrency 32, side by side with a bare httpx loop making
the same calls at the same concurrency in the same run.

The difference between the two rows is what the worker adds to a call: claiming with a lease,
the Idempotency-Key, classifying the answer and writing each outcome (batched: one commit for
the outcomes that ended together).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks.figures import Config, Figure
from benchmarks.timing import Stat
from linkflow.effects.worker import Options, Worker
from linkflow.language.services import RetryPolicy
from linkflow.runtime.effect_calls import NOTIFY, EffectCall
from linkflow.store import Store
from linkflow.store.outbox import stage

ROOT = Path(__file__).resolve().parent.parent
FAKE_API = ROOT / "tests" / "support" / "fake_api.py"
#: The instance the effects belong to (a notify is performed whatever its state).
FLOW = """\
workflow: bench_effects
initial: open
states:
  open: {}
  closed: {final: completed}
events:
  close: {}
transitions:
  - {event: close, from: open, to: closed}
"""
CONCURRENCY = 32
WORKER = "worker: notify effects from the outbox"
BARE = "bare httpx loop (same calls)"
#: Effects staged per transaction while filling the outbox (untimed).
FILL_BATCH = 1_000


class _FakeApi:
    """The fake API in a subprocess: its URL once it listens; stopped with SIGTERM."""

    def __init__(self, work: Path) -> None:
        port_file = work / "fake-api.port"
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'engine'}"}
        self.process = subprocess.Popen(
            [sys.executable, str(FAKE_API), str(port_file)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text(encoding="utf-8"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the fake API did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port_file.read_text(encoding='utf-8')}"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # pragma: no cover - a fake API that hangs
                self.process.kill()
                self.process.wait()


def _call(url: str, n: int) -> EffectCall:
    return EffectCall(
        NOTIFY,
        "tell",
        "bench",
        "POST",
        url,
        body={"n": n},
        timeout=10.0,
        retry=RetryPolicy(attempts=3, initial=0.1),
    )


def _filled(path: Path, url: str, calls: int) -> Store:
    """A store whose outbox holds `calls` pending notify effects (one instance's steps)."""
    store = Store.open(f"sqlite:///{path}")
    flow = path.parent / "bench_effects.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    instance = store.start(flow).id
    now = store.clock()
    for first in range(0, calls, FILL_BATCH):
        batch = [_call(url, n) for n in range(first, min(first + FILL_BATCH, calls))]

        def fill(tx: object, first: int = first, batch: list[EffectCall] = batch) -> None:
            for offset, call in enumerate(batch):
                stage(tx, instance, first + offset + 1, now, [call], now)  # type: ignore[arg-type]

        store._write(fill)
    return store


async def _bare(url: str, calls: int) -> None:
    """The same calls with httpx alone: one client, `CONCURRENCY` at once."""
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:

        async def one(n: int) -> None:
            async with gate:
                answer = await client.post(
                    url, json={"n": n}, headers={"Idempotency-Key": f"bare-{n}"}
                )
                answer.raise_for_status()

        await asyncio.gather(*(one(n) for n in range(calls)))


def figure_effects_worker(cfg: Config, work: Path) -> Figure:
    """Calls per second of one worker and of a bare httpx loop, at concurrency 32."""
    calls = 300 if cfg.quick else 2_000
    repeats = cfg.repeats if cfg.quick else min(cfg.repeats, 3)
    column = f"{calls:,} calls"
    fig = Figure(
        "effects_worker",
        "Effects worker: notify calls against the local fake API, concurrency 32",
        "s",
        [column],
        derived_columns=["calls/s"],
    )
    fig.notes.append(
        f"{calls:,} notify effects are staged in a SQLite outbox (WAL, synchronous=FULL), "
        "untimed; then one `Worker.run(once=True)` (concurrency 32) performs them all against "
        "the fake API of the tests (`/ok`: applies each Idempotency-Key once, answers JSON), "
        "served by uvicorn in its own process, timed from the first claim to the last outcome "
        "written. The bare loop makes the same number of POSTs with one httpx.AsyncClient "
        f"at the same concurrency, in the same run ({repeats} repeats each, interleaved)."
    )
    worker_stat, bare_stat = Stat("s", ops=calls), Stat("s", ops=calls)
    api = _FakeApi(work)
    try:
        for repeat in range(repeats):
            folder = work / f"effects-{repeat}"
            folder.mkdir(parents=True, exist_ok=True)
            url = f"{api.url}/ok?repeat={repeat}"
            store = _filled(folder / "outbox.db", url, calls)
            try:
                worker = Worker(store, Options(concurrency=CONCURRENCY, poll=0.05))
                begin = time.perf_counter()
                counts = asyncio.run(worker.run(once=True))
                worker_stat.values.append(time.perf_counter() - begin)
                if counts["done"] != calls:
                    raise AssertionError(f"the worker performed {counts['done']} of {calls}")
            finally:
                store.close()
            shutil.rmtree(folder)
            begin = time.perf_counter()
            asyncio.run(_bare(f"{api.url}/ok?bare={repeat}", calls))
            bare_stat.values.append(time.perf_counter() - begin)
    finally:
        api.close()
    fig.rows[WORKER] = {column: worker_stat}
    fig.rows[BARE] = {column: bare_stat}
    fig.derived[WORKER] = {"calls/s": calls / worker_stat.median}
    fig.derived[BARE] = {"calls/s": calls / bare_stat.median}
    return fig
