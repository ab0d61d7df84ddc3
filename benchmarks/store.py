"""The durable store: what one committed event costs against a bare SQLite commit, whether
start and send stay flat as instances pile up, and the bytes a finished instance keeps.

The anchor is measured in the same run, on the same disk, with the same settings (WAL,
synchronous=FULL): one transaction that updates one row and inserts one, as any hand-written
durable state machine would do at the least.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks.figures import Config, Figure
from benchmarks.timing import Stat, interleaved, load_average
from linkflow.runtime.world import World
from linkflow.store import Store

HERE = Path(__file__).resolve().parent
COUNTER = HERE / "flows" / "durable_counter.yaml"
ROOT = HERE.parent
LOGIN = ROOT / "workflows" / "link_login.yaml"
DEMO_WORLD = ROOT / "workflows" / "worlds" / "ads_manager_demo.yaml"
COLUMN = "SQLite, WAL, synchronous=FULL"
BARE = "bare SQLite commit (1 update + 1 insert)"
EVENT = "linkflow durable event (Store.send, accepted)"


def _bare_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE state (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, state INTEGER, value TEXT)")
    conn.execute("INSERT INTO state VALUES (1, 'low')")
    return conn


def _bare_commit(conn: sqlite3.Connection, i: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE state SET value = ? WHERE id = 1", (str(i),))
    conn.execute("INSERT INTO log (state, value) VALUES (1, ?)", (str(i),))
    conn.execute("COMMIT")


def _paired_us(
    bare_commit: Callable[[int], object], store: Store, instance: str, count: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """`count` bare commits and `count` durable events, alternating one by one, so a disk
    whose fsync latency drifts (a shared machine) weighs on both alike; (wall, CPU) µs per op
    of each. CPU is this thread's (`time.thread_time`): the client's share, all of SQLite's."""
    clock, cpu = time.perf_counter_ns, time.thread_time_ns
    bare = event = bare_cpu = event_cpu = 0
    for i in range(count):
        c0, t0 = cpu(), clock()
        bare_commit(i)
        c1, t1 = cpu(), clock()
        store.send(instance, "flip")
        c2, t2 = cpu(), clock()
        bare += t1 - t0
        event += t2 - t1
        bare_cpu += c1 - c0
        event_cpu += c2 - c1
    return (bare / 1e3 / count, bare_cpu / 1e3 / count), (
        event / 1e3 / count,
        event_cpu / 1e3 / count,
    )


def paired_stats(
    bare_commit: Callable[[int], object],
    store: Store,
    instance: str,
    count: int,
    repeats: int,
    rows: tuple[str, str],
) -> dict[str, Stat]:
    """`_paired_us` once per repeat: µs per op (wall and CPU) of the bare commit and of the
    event, with the load average of each repeat."""
    stats = {row: Stat("µs", ops=count) for row in rows}
    for _ in range(repeats):
        load = load_average()
        measured = _paired_us(bare_commit, store, instance, count)
        for row, (wall, cpu) in zip(rows, measured, strict=True):
            stats[row].values.append(wall)
            stats[row].cpu.append(cpu)
            stats[row].load.append(load)
    return stats


def cpu_ratios(fig: Figure, bare: str, column: str) -> None:
    """The derived column "CPU / bare commit" of each row that has CPU times."""
    anchor = fig.rows[bare][column].cpu_median
    for row, cells in fig.rows.items():
        if cells[column].cpu:
            fig.derived.setdefault(row, {})["CPU / bare commit"] = cells[column].cpu_median / anchor


#: What the CPU figures mean, for every durable figure that has them.
CPU_NOTE = (
    "CPU: this thread's CPU time per operation (`time.thread_time`), beside the wall time: "
    "other processes on the machine and the disk's fsync latency lengthen the wall time, "
    "hardly the CPU time. ⚠ marks a value taken while the 1-minute load average was above 1.0 "
    "(the load of each repeat is in results.json)."
)


def count_statements(conn: sqlite3.Connection, run: Callable[[], object]) -> float:
    """How many statements `run` makes SQLite run on `conn` (top-level ones: SQLite reports
    a statement's inner programs as "-- ..." lines)."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    return float(sum(1 for line in seen if not line.lstrip().startswith("--")))


def _counter_store(path: Path) -> tuple[Store, str]:
    store = Store.open(f"sqlite:///{path}")
    store.load_world(World({"counters": {"c1": {"value": 0}}}))
    return store, store.start(COUNTER, {"key": "c1"}).id


def figure_store(cfg: Config, work: Path) -> Figure:
    count = 10 if cfg.quick else 300
    fig = Figure(
        "store",
        "One durable event against a bare SQLite commit",
        "µs",
        [COLUMN],
        derived_columns=["/ bare commit", "CPU / bare commit", "statements"],
    )
    fig.notes.append(
        f"{count} operations of each per repeat, alternating one by one. The event: `flip` on "
        "benchmarks/flows/durable_counter.yaml (one binding read, data and one world record "
        "written, history and feed entries), one transaction per event. The anchor: BEGIN "
        "IMMEDIATE; UPDATE one row; INSERT one row; COMMIT."
    )
    fig.notes.append(CPU_NOTE)
    fig.notes.append(
        "statements: those SQLite ran for one event, BEGIN and COMMIT included (counted with "
        "the connection's trace callback, after the warm-up; a statement's inner programs, such "
        "as the data version read inside a RETURNING clause, are part of it)."
    )
    bare = _bare_db(work / "bare.db")
    store, instance = _counter_store(work / "durable.db")
    try:
        commit = partial(_bare_commit, bare)
        _paired_us(commit, store, instance, 10)  # warm up: compile, first pages
        statements = {BARE: count_statements(bare, lambda: commit(0))}
        conn = store.backend.conn  # type: ignore[attr-defined]
        statements[EVENT] = count_statements(conn, lambda: store.send(instance, "flip"))
        stats = paired_stats(commit, store, instance, count, cfg.repeats, (BARE, EVENT))
    finally:
        bare.close()
        store.close()
    for key, stat in stats.items():
        fig.rows[key] = {COLUMN: stat}
        fig.derived[key] = {"statements": statements[key]}
    fig.derived[EVENT]["/ bare commit"] = stats[EVENT].median / stats[BARE].median
    cpu_ratios(fig, BARE, COLUMN)
    return fig


def _fill(store: Store, instances: int) -> None:
    """`instances` finished instances of the counter, each with one history entry, in bulk."""
    definition = store.definition("durable_counter").hash
    with store.backend.write() as tx:
        tx.run(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO instances (id, workflow, definition, state, data, start_data, outcome, "
            "version, created, updated, entered, due, session, hop) "
            "SELECT 'filler-' || i, 'durable_counter', ?, 'stopped', "
            '\'{"key":"c1","count":0}\', \'{"key":"c1"}\', \'completed\', 1, i, i, i, NULL, '
            "'filler-' || i, 0 FROM n",
            (instances, definition),
        )
        tx.run(
            "INSERT INTO history (instance, seq, time, event, source, target, accepted, event_id, "
            "request) SELECT id, 1, created, 'stop', 'low', 'stopped', 1, 'e-' || id, 'x' "
            "FROM instances WHERE id LIKE 'filler-%'"
        )


def _start_and_send_us(store: Store, count: int) -> tuple[float, float]:
    started = []
    begin = time.perf_counter_ns()
    for _ in range(count):
        started.append(store.start("durable_counter", {"key": "c1"}).id)
    middle = time.perf_counter_ns()
    for i, instance in enumerate(started):
        store.send(instance, "flip", event_id=f"bench-{i}")
    end = time.perf_counter_ns()
    return (middle - begin) / 1e3 / count, (end - middle) / 1e3 / count


def figure_store_scaling(cfg: Config, work: Path) -> Figure:
    small, large = (1_000, 20_000) if cfg.quick else (1_000, 1_000_000)
    count = 10 if cfg.quick else 200
    columns = [f"{small:,} stored", f"{large:,} stored"]
    fig = Figure(
        "store_scaling",
        "Start and send with many instances stored",
        "µs",
        columns,
        derived_columns=["large / small"],
    )
    fig.notes.append(
        f"Each store is filled in bulk with finished instances (one history entry with an "
        f"event id each), then {count} instances are started and sent one event each "
        "(with an event id, so the idempotency lookup is timed too); one transaction each."
    )
    stores = {}
    for column, size in zip(columns, (small, large), strict=True):
        store, _ = _counter_store(work / f"scaling-{size}.db")
        _fill(store, size)
        stores[column] = store
    starts: dict[str, Stat] = {c: Stat("µs", ops=count) for c in columns}
    sends: dict[str, Stat] = {c: Stat("µs", ops=count) for c in columns}

    def measure(column: str) -> float:
        start_us, send_us = _start_and_send_us(stores[column], count)
        starts[column].values.append(start_us)
        sends[column].values.append(send_us)
        return start_us

    try:
        interleaved({c: partial(measure, c) for c in columns}, cfg.repeats, "µs")
    finally:
        for store in stores.values():
            store.close()
    fig.rows["start"] = starts
    fig.rows["send"] = sends
    for row in ("start", "send"):
        fig.derived[row] = {
            "large / small": fig.median(row, columns[1]) / fig.median(row, columns[0])
        }
    return fig


def figure_store_bytes(cfg: Config, work: Path) -> Figure:
    """Bytes on disk (table and index pages, from SQLite's dbstat) per finished instance."""
    count = 20 if cfg.quick else 200
    column = f"{count} finished link_login instances"
    fig = Figure("store_bytes", "Bytes stored per finished instance", "bytes", [column])
    fig.notes.append(
        "Each instance runs log_in, approve and refresh to `done` (the world reloaded first, "
        "so each links the same account). Bytes are SQLite pages (tables and their indexes, "
        "from dbstat) of the instances table, and apart of the history table, over the count."
    )
    path = work / "bytes.db"
    with Store.open(f"sqlite:///{path}") as store:
        for _ in range(count):
            store.load_world(DEMO_WORLD)
            record = store.start(
                LOGIN, {"actor": "ana", "business_center": "acme_brands", "ad_account": "acme_us"}
            )
            store.send(record.id, "log_in", {"username": "ana_cooks", "password": "open-sesame-42"})
            store.send(record.id, "approve")
            assert store.send(record.id, "refresh").instance.outcome == "completed"
    conn = sqlite3.connect(path)
    try:
        conn.execute("VACUUM")
        pages = dict(
            conn.execute(
                "SELECT tbl_name, SUM(pgsize) FROM dbstat JOIN sqlite_schema USING (name) "
                "WHERE tbl_name IN ('instances', 'history') GROUP BY tbl_name"
            ).fetchall()
        )
    finally:
        conn.close()
    for table, label in (("instances", "instance row"), ("history", "history (3 entries)")):
        fig.rows[label] = {column: Stat("bytes", [pages[table] / count], ops=count)}
    return fig
