"""Firing due timers for real: 100,000 instances whose timeouts are all due, fired by
`Store.fire_due` (SQLite, WAL, synchronous=FULL), each repeat on a fresh store."""

from __future__ import annotations

import cProfile
import pstats
import shutil
import statistics
import time
from pathlib import Path

from benchmarks.figures import Config, Figure
from benchmarks.timing import Stat
from linkflow.store import Store
from linkflow.store.timers import FIRE_BATCH

HERE = Path(__file__).resolve().parent
TIMER = HERE / "flows" / "durable_timer.yaml"
ROW = "fire_due: every due timer"


def _due_store(path: Path, due: int) -> Store:
    """A store holding `due` instances of the timer workflow, each with its timeout due."""
    store = Store.open(f"sqlite:///{path}")
    name = store.start(TIMER).workflow
    digest = store.definition(name).hash
    with store.backend.write() as tx:
        tx.run(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO instances (id, workflow, definition, state, data, start_data, "
            "outcome, version, created, updated, entered, due, session, hop) "
            "SELECT 'timer-' || i, ?, ?, 'waiting', '{}', '{}', NULL, 1, i, i, i, "
            "i + 1, 'timer-' || i, 0 FROM n",
            (due, name, digest),
        )
    return store


def figure_store_timers(cfg: Config, work: Path) -> Figure:
    """Seconds to fire every one of `due` due timers, measured (not projected)."""
    due = 200 if cfg.quick else 100_000
    repeats = cfg.repeats if cfg.quick else min(cfg.repeats, 3)
    column = f"{due:,} due timers"
    fig = Figure(
        "store_timers",
        "Firing due timers (SQLite, WAL, synchronous=FULL)",
        "s",
        [column],
        derived_columns=["timers/s", "CPU s"],
    )
    fig.notes.append(
        f"{due:,} instances of benchmarks/flows/durable_timer.yaml are stored in bulk, each "
        "waiting with its timeout already due (plus the one started to register the "
        "workflow, not yet due); one `Store.fire_due(now)` then fires them all, timed. "
        f"fire_due claims up to FIRE_BATCH ({FIRE_BATCH}) due instances per transaction and writes "
        "their history, instance and feed rows as one batched statement each: one commit "
        f"for {FIRE_BATCH} timers. A fresh store each repeat ({repeats} repeats). CPU s: the "
        "process's CPU time while firing (median), what the wall time would be on an idle core "
        "but for the fsyncs."
    )
    stat = Stat("s", ops=due)
    cpu_s: list[float] = []
    for repeat in range(repeats):
        folder = work / f"timers-{repeat}"
        store = _due_store(folder / "timers.db", due)
        try:
            moment = float(due + 10)
            begin, cpu = time.perf_counter_ns(), time.process_time()
            sent = store.fire_due(now=moment)
            stat.values.append((time.perf_counter_ns() - begin) / 1e9)
            cpu_s.append(time.process_time() - cpu)
            if len(sent) != due or not all(s.step.accepted for s in sent):
                raise AssertionError(f"fire_due fired {len(sent)} of {due} due timers")
            if len(store.feed(after=0, limit=due + 1)) != due:
                raise AssertionError("fire_due did not write one feed entry per timer")
        finally:
            store.close()
        shutil.rmtree(folder)
    fig.notes.append(_where_time_goes(work, 100 if cfg.quick else 5_000))
    fig.rows[ROW] = {column: stat}
    fig.derived[ROW] = {"timers/s": due / stat.median, "CPU s": statistics.median(cpu_s)}
    return fig


def _where_time_goes(work: Path, due: int) -> str:
    """One more `fire_due` of `due` timers under cProfile, untimed: the shares of the
    runtime's timeout step, of SQLite and of the store's own Python."""
    folder = work / "timers-profile"
    store = _due_store(folder / "timers.db", due)
    profiler = cProfile.Profile()
    try:
        profiler.runcall(store.fire_due, float(due + 10))
    finally:
        store.close()
        shutil.rmtree(folder)
    raw = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(own for (_, _, own, _, _) in raw.values()) or 1e-12
    step = sum(cum for (_, _, name), (_, _, _, cum, _) in raw.items() if name == "time_out")
    sqlite = sum(
        own
        for (_, _, name), (_, _, own, _, _) in raw.items()
        if "sqlite3" in name and ("execute" in name or "fetch" in name)
    )
    return (
        f"Where the time goes (cProfile of one more fire_due of {due:,} timers, untimed): "
        f"the runtime's timeout step (`Instance.time_out`: state, "
        f"history entry) {step / total:.0%}; SQLite (claims, batched inserts "
        f"and updates, commits with their fsync) {sqlite / total:.0%}; the store's own "
        f"Python (rows parsed, steps staged into batches) {1 - (step + sqlite) / total:.0%}."
    )
