"""Retention for real: `linkflow prune` (linkflow.store.maintenance.prune) on a SQLite store of
`--instances` finished instances (plus a tenth as many still running), each with `--history`
history entries, deleted in batches of `--batch` per transaction (WAL, synchronous=FULL).

    python -m benchmarks.prune                       # 10,000 instances: a few seconds
    python -m benchmarks.prune --instances 1000000   # the issue's size: minutes, ~1 GB of disk

The store is filled in bulk with SQL (not timed), then pruned (timed): instances/s is finished
instances deleted per second of wall time, history included. The store is made in a temporary
folder (or under --work) and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from linkflow.store import Store
from linkflow.store.maintenance import PRUNE_BATCH, prune

HERE = Path(__file__).resolve().parent
TIMER = HERE / "flows" / "durable_timer.yaml"
#: Rows inserted per fill transaction.
FILL_CHUNK = 100_000


def fill(store: Store, finished: int, running: int, history: int) -> None:
    """`finished` instances that finished at times 1..finished, `running` still running; each
    with `history` history entries; one session per instance."""
    name = store.start(TIMER).workflow
    digest = store.definition(name).hash
    total = finished + running
    for low in range(1, total + 1, FILL_CHUNK):
        high = min(low + FILL_CHUNK - 1, total)
        with store.backend.write() as tx:
            tx.run(
                "WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                "INSERT INTO instances (id, workflow, definition, state, data, start_data, "
                "outcome, version, created, updated, entered, due, session, hop) "
                "SELECT 'p-' || i, ?, ?, CASE WHEN i <= ? THEN 'done' ELSE 'waiting' END, "
                "'{}', '{}', CASE WHEN i <= ? THEN 'completed' ELSE NULL END, ?, i, i, i, "
                "NULL, 'p-' || i, 0 FROM n",
                (low, high, name, digest, finished, finished, history),
            )
            tx.run(
                "WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?), "
                "s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < ?) "
                "INSERT INTO history (instance, seq, time, event, source, target, accepted, "
                "payload, refusal, transition, event_id, request, answer) "
                "SELECT 'p-' || i, k, i, 'go', 'waiting', 'waiting', 1, '{}', NULL, 0, NULL, "
                "NULL, NULL FROM n, s",
                (low, high, history),
            )


def measure(instances: int, batch: int, history: int, work: Path) -> dict[str, float]:
    running = max(instances // 10, 1)
    path = work / "prune.db"
    store = Store.open(f"sqlite:///{path}")
    try:
        begin = time.perf_counter()
        fill(store, instances, running, history)
        filled = time.perf_counter() - begin
        size = path.stat().st_size
        begin = time.perf_counter()
        result = prune(store, float(instances) + 0.5, batch=batch)
        seconds = time.perf_counter() - begin
        if result.instances != instances:
            raise AssertionError(f"pruned {result.instances} of {instances} finished instances")
        left = store.instances(limit=running + 10)
        if len(left) != running + 1:  # the running ones, and the one started to register
            raise AssertionError(f"{len(left)} instances left, expected {running + 1}")
    finally:
        store.close()
    return {
        "instances": instances,
        "running_kept": running,
        "history_per_instance": history,
        "batch": batch,
        "batches": result.batches,
        "store_bytes": size,
        "fill_s": round(filled, 3),
        "prune_s": round(seconds, 3),
        "instances_per_s": round(instances / seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.prune", description=__doc__)
    parser.add_argument("--instances", type=int, default=10_000, help="finished (10,000)")
    parser.add_argument("--batch", type=int, default=PRUNE_BATCH, help="per transaction")
    parser.add_argument("--history", type=int, default=3, help="entries per instance (3)")
    parser.add_argument("--work", type=Path, help="folder for the store (default: a temp one)")
    args = parser.parse_args(argv)
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="prune-", dir=args.work))
    else:
        folder = Path(tempfile.mkdtemp(prefix="linkflow-prune-"))
    try:
        figures = measure(args.instances, args.batch, args.history, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    json.dump(figures, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
