"""`python -m benchmarks.service`: latency and throughput of `POST /instances/{id}/events`
against a real `linkflow serve` process, at 1 and 8 concurrent clients, on SQLite
(synchronous=FULL) and on a throwaway PostgreSQL (when its binaries are installed).

Each client sends accepted `flip` events to its own instance (its own world record), each with an
Idempotency-Key, over one kept-alive connection. The anchor, measured in the same run, is
`Store.send` called directly in this process on the same backend: the HTTP layer's share is the
difference. Prints one Markdown table.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from engine.runtime.world import World
from engine.store import Store

HERE = Path(__file__).resolve().parent
COUNTER = HERE / "flows" / "durable_counter.yaml"
EVENTS = 400
CLIENTS = (1, 8)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(url: str) -> Iterator[str]:
    port = _port()
    command = [sys.executable, "-m", "engine", "serve", str(COUNTER), "--store", url]
    command += ["--port", str(port), "--log-format", "json"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(30)


def _instances(base: str, count: int) -> list[str]:
    with httpx.Client(base_url=base, timeout=30) as http:
        return [
            http.post(
                "/instances", json={"workflow": "durable_counter", "data": {"key": f"c{i}"}}
            ).json()["id"]
            for i in range(count)
        ]


def run_clients(base: str, clients: int, total: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, events per second) for `total` events spread over `clients`."""
    ids = _instances(base, clients)
    latencies: list[float] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=base, timeout=60) as http:
            for i in range(total // clients):
                began = time.perf_counter()
                answer = http.post(
                    f"/instances/{ids[number]}/events",
                    json={"event": "flip"},
                    headers={"Idempotency-Key": f"{clients}-{number}-{i}"},
                )
                mine.append(time.perf_counter() - began)
                assert answer.json()["accepted"], answer.text
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return (
        latencies[len(latencies) // 2] * 1000,
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        len(latencies) / elapsed,
    )


def direct(url: str, total: int) -> float:
    """Events per second of Store.send called in-process, one thread (the anchor)."""
    with Store.open(url) as store:
        record = store.start(str(COUNTER), {"key": "c0"})
        began = time.perf_counter()
        for i in range(total):
            store.send(record.id, "flip", event_id=f"direct-{i}")
        return total / (time.perf_counter() - began)


def prepare(url: str) -> None:
    with Store.open(url) as store:
        store.register(COUNTER)
        store.load_world(World({"counters": {f"c{i}": {"value": 0} for i in range(16)}}))


def measure(name: str, url: str, rows: list[str]) -> None:
    prepare(url)
    anchor = direct(url, EVENTS // 2)
    with serving(url) as base:
        for clients in CLIENTS:
            p50, p99, rate = run_clients(base, clients, EVENTS)
            rows.append(
                f"| {name} | {clients} | {p50:.1f} ms | {p99:.1f} ms | {rate:.0f}/s | "
                f"{anchor:.0f}/s |"
            )


def with_postgres(work: Callable[[str], None]) -> str:
    try:
        from tests.support.postgres import PostgresUnavailable, start_server
    except ImportError:  # pragma: no cover - run outside the repository
        return "PostgreSQL skipped: tests/support is not importable"
    try:
        server = start_server()
    except PostgresUnavailable as err:
        return f"PostgreSQL skipped: {err}"
    try:
        work(server.database())
    finally:
        server.stop()
    return ""


def main() -> int:
    rows = [
        "| store | clients | p50 | p99 | events/s over HTTP | Store.send in-process, 1 thread |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite (WAL, synchronous=FULL)", f"sqlite:///{Path(folder) / 's.db'}", rows)
    note = with_postgres(lambda url: measure("PostgreSQL", url, rows))
    print("\n".join(rows))
    if note:
        print(note)
    print(f"\n{EVENTS} events per row; {os.cpu_count()} CPU cores; load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
