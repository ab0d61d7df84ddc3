"""The durable figures on PostgreSQL: one event against a bare commit, the five-event flow
against django-fsm-2, start and send with many instances stored, bytes per finished instance.

One throwaway cluster serves them all (tests/support/postgres.py: initdb in a temporary
folder, a unix socket only, owned by `nobody` when run as root), started with fsync=on,
synchronous_commit=on and full_page_writes=on: every commit waits for the disk, as on a
production server. Without PostgreSQL's binaries each figure fails with a note saying so,
and its targets read "not measured".
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.durable_flow import _Linkflow, paired_flows
from benchmarks.figures import Config, Figure
from benchmarks.store import COUNTER, DEMO_WORLD, LOGIN, _start_and_send_us, paired_stats
from benchmarks.store import _fill as fill
from benchmarks.targets import Target
from benchmarks.timing import Stat, interleaved
from linkflow.runtime.world import World
from linkflow.store import Store
from tests.support.postgres import PostgresServer, PostgresUnavailable, start_server

SETTINGS = "fsync=on, synchronous_commit=on, full_page_writes=on"
COLUMN = "PostgreSQL, unix socket, " + SETTINGS
BARE = "bare PostgreSQL commit (1 update + 1 insert)"
EVENT = "linkflow durable event (Store.send, accepted)"
TRIPS = "round trips"


def round_trips(conn: Any, operation: Callable[[], object]) -> int:
    """How many times `operation` waited for the server on `conn`: libpq's protocol trace
    (PQtrace) lists each message sent (F) and received (B); a round trip is a turn from
    sending to receiving. Pipelined statements share one."""
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        conn.pgconn.set_trace_flags(1)  # PQTRACE_SUPPRESS_TIMESTAMPS
        try:
            operation()
        finally:
            conn.pgconn.untrace()
        trace.seek(0)
        senders = [line[0] for line in trace.read().splitlines() if line[:1] in ("F", "B")]
    if not senders:
        raise AssertionError("the traced connection was not the one used")
    return sum(
        1
        for before, now in zip(["B", *senders], senders, strict=False)
        if (before, now) == ("F", "B")
    )


def waiting_share(operation: Callable[[], object], count: int) -> tuple[float, float]:
    """`count` runs of `operation`: µs per run, and the share of it spent in psycopg's waits
    on the server (sending, the server's work, the commit's fsync, reading answers); the
    rest is the client's own work (Python, the driver)."""
    import psycopg  # noqa: PLC0415 - psycopg, the postgres extra: missing, the postgres figures are skipped

    waited = [0]
    wait = psycopg.Connection.wait

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        begin = time.perf_counter_ns()
        try:
            return wait(self, *args, **kwargs)
        finally:
            waited[0] += time.perf_counter_ns() - begin

    psycopg.Connection.wait = timed  # type: ignore[method-assign]
    try:
        begin = time.perf_counter_ns()
        for _ in range(count):
            operation()
        total = time.perf_counter_ns() - begin
    finally:
        psycopg.Connection.wait = wait  # type: ignore[method-assign]
    return total / 1e3 / count, waited[0] / total


def _bare_db(url: str) -> Any:
    import psycopg  # noqa: PLC0415 - psycopg, the postgres extra: missing, the postgres figures are skipped

    conn = psycopg.connect(url, autocommit=True)
    conn.execute("CREATE TABLE state (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("CREATE TABLE log (id BIGSERIAL PRIMARY KEY, state INTEGER, value TEXT)")
    conn.execute("INSERT INTO state VALUES (1, 'low')")
    return conn


def _bare_commit(conn: Any, i: int) -> None:
    """What hand-written psycopg code does: a transaction, two statements, a commit."""
    with conn.transaction():
        conn.execute("UPDATE state SET value = %s WHERE id = 1", (str(i),))
        conn.execute("INSERT INTO log (state, value) VALUES (1, %s)", (str(i),))


class PostgresFigures:
    """Starts the cluster on first use; `close` stops it."""

    def __init__(self, cfg: Config, work: Path) -> None:
        self.cfg = cfg
        self.work = work
        self.server: PostgresServer | None = None
        self.failure = ""

    def database(self) -> str:
        if self.server is None:
            if self.failure:
                raise PostgresUnavailable(self.failure)
            try:
                self.server = start_server(durable=True)
            except PostgresUnavailable as err:
                self.failure = (
                    f"PostgreSQL figures not measured: {err} (`make postgresql` installs it)"
                )
                raise PostgresUnavailable(self.failure) from None
        return self.server.database()

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def steps(self) -> list[tuple[str, Callable[[], Figure]]]:
        return [
            ("pg_store", self.figure_store),
            ("pg_flow", self.figure_flow),
            ("pg_scaling", self.figure_scaling),
            ("pg_bytes", self.figure_bytes),
        ]

    # -- one event against a bare commit ------------------------------------------------------

    def figure_store(self) -> Figure:
        count = 10 if self.cfg.quick else 300
        fig = Figure(
            "pg_store",
            "One durable event against a bare PostgreSQL commit",
            "µs",
            [COLUMN],
            derived_columns=["/ bare commit", TRIPS],
        )
        bare = _bare_db(self.database())
        store = Store.open(self.database())
        store.load_world(World({"counters": {"c1": {"value": 0}}}))
        instance = store.start(COUNTER, {"key": "c1"}).id
        try:
            for i in range(10):  # warm up: prepared statements, the pool, the first pages
                _bare_commit(bare, i)
                store.send(instance, "flip")
            bare_trips = round_trips(bare, partial(_bare_commit, bare, 0))
            backend: Any = store.backend
            with backend.pool.connection() as pooled:
                pass  # the pool's one connection: the next send uses it again
            event_trips = round_trips(pooled, partial(store.send, instance, "flip"))
            probes = 10 if self.cfg.quick else 100
            bare_us, bare_waiting = waiting_share(partial(_bare_commit, bare, 0), probes)
            event_us, event_waiting = waiting_share(partial(store.send, instance, "flip"), probes)
            stats = paired_stats(
                partial(_bare_commit, bare), store, instance, count, self.cfg.repeats, (BARE, EVENT)
            )
        finally:
            bare.close()
            store.close()
        fig.rows = {key: {COLUMN: stat} for key, stat in stats.items()}
        fig.derived[BARE] = {TRIPS: float(bare_trips)}
        fig.derived[EVENT] = {
            "/ bare commit": stats[EVENT].median / stats[BARE].median,
            TRIPS: float(event_trips),
        }
        fig.notes.append(
            f"{count} operations of each per repeat, alternating one by one, each in its own "
            f"transaction, on one cluster ({SETTINGS}). The anchor: psycopg 3 on one "
            "connection, `with conn.transaction()`: BEGIN; UPDATE one row; INSERT one row; "
            "COMMIT. The event: `flip` on benchmarks/flows/durable_counter.yaml through "
            "`Store.send` (pooled connection, instance row and one world record read with "
            "FOR UPDATE, history, world record, instance row and feed row (numbered from a "
            "sequence) "
            "written; PostgreSQL writes run in psycopg's pipeline mode). Round trips: turns from "
            "sending to receiving in libpq's protocol trace of one more operation of each "
            f"(untimed): bare {bare_trips}, event {event_trips}."
        )
        fig.notes.append(
            f"Where the time goes ({probes} more of each, untimed, psycopg's waits on the "
            f"server timed): bare commit {bare_us:,.0f} µs, {bare_waiting:.0%} waiting on the "
            f"server (its work, the commit's fsync, the socket), the rest client CPU; linkflow "
            f"event {event_us:,.0f} µs, {event_waiting:.0%} waiting on the server; its client "
            f"CPU ({event_us * (1 - event_waiting):,.0f} µs against "
            f"{bare_us * (1 - bare_waiting):,.0f}) is the runtime's step, the store's rows "
            "and psycopg adapting and queueing 9 statements (BEGIN, 2 locked reads, 5 writes, "
            "COMMIT) where the anchor sends 4."
        )
        return fig

    # -- the five-event flow against django-fsm-2 ------------------------------------------------

    def figure_flow(self) -> Figure:
        from benchmarks.django_fsm_flow import DjangoFlow  # noqa: PLC0415 - Django, a compared library: missing, it skips one figure

        flows = 2 if self.cfg.quick else 40
        fig = Figure(
            "pg_flow",
            "The five-event flow on PostgreSQL, durably: µs per event",
            "µs",
            [COLUMN],
            derived_columns=["/ bare commit", "events/s"],
        )
        bare = _bare_db(self.database())
        linkflow = _Linkflow(self.database())
        django = DjangoFlow(self.database())
        try:
            stats = paired_flows(
                BARE, partial(_bare_commit, bare), linkflow, django, flows, self.cfg.repeats
            )
        finally:
            bare.close()
            linkflow.store.close()
            from django.db import connections  # noqa: PLC0415 - Django: its models and database only after settings.configure()

            connections["default"].close()
        for key, stat in stats.items():
            fig.rows[key] = {COLUMN: stat}
            fig.derived[key] = {
                "/ bare commit": stat.median / stats[BARE].median,
                "events/s": 1e6 / stat.median,
            }
        fig.notes.append(
            f"{flows} fresh instances per repeat, five events each, one transaction per event, "
            f"each side on its own database of one cluster ({SETTINGS}). linkflow: "
            "`Store.send` on benchmarks/flows/link_login.yaml: the guards are read from the "
            "YAML and evaluated by the engine against world records read (FOR UPDATE) in the "
            "transaction; approve writes three world records; every event writes a history "
            "row (payload minus secrets) and a change-feed row numbered in commit order. "
            "django-fsm-2: FSMField + ConcurrentTransitionMixin (optimistic lock on the "
            "state), guards as Python condition methods reading world rows through the ORM "
            "(no row locks), approve saving three world rows, one TransitionLog row per event "
            "written by the benchmark's own code (django-fsm keeps no history), no change "
            "feed, no idempotency key, no secret scrubbing."
        )
        return fig

    # -- many instances stored -----------------------------------------------------------------

    def figure_scaling(self) -> Figure:
        small, large = (1_000, 20_000) if self.cfg.quick else (1_000, 1_000_000)
        count = 10 if self.cfg.quick else 200
        columns = [f"{small:,} stored", f"{large:,} stored"]
        fig = Figure(
            "pg_scaling",
            "Start and send with many instances stored (PostgreSQL)",
            "µs",
            columns,
            derived_columns=["large / small"],
        )
        stores: dict[str, Store] = {}
        fill_s: dict[int, float] = {}
        try:
            for column, size in zip(columns, (small, large), strict=True):
                store = Store.open(self.database())
                store.load_world(World({"counters": {"c1": {"value": 0}}}))
                store.start(COUNTER, {"key": "c1"})
                begin = time.perf_counter()
                _fill(store, size)
                fill_s[size] = time.perf_counter() - begin
                stores[column] = store
            starts = {c: Stat("µs", ops=count) for c in columns}
            sends = {c: Stat("µs", ops=count) for c in columns}

            def measure(column: str) -> float:
                start_us, send_us = _start_and_send_us(stores[column], count)
                starts[column].values.append(start_us)
                sends[column].values.append(send_us)
                return start_us

            interleaved({c: partial(measure, c) for c in columns}, self.cfg.repeats, "µs")
        finally:
            for store in stores.values():
                store.close()
        fig.rows = {"start": starts, "send": sends}
        for row in fig.rows:
            fig.derived[row] = {
                "large / small": fig.median(row, columns[1]) / fig.median(row, columns[0])
            }
        fig.notes.append(
            f"Each store is filled with finished instances and one history entry each by one "
            f"server-side INSERT ... SELECT (a recursive series) per table, then ANALYZE "
            f"({large:,} took {fill_s[large]:.0f} s); then {count} instances are started and "
            f"sent one event each (with an event id), one transaction each ({SETTINGS})."
        )
        return fig

    # -- bytes per finished instance -----------------------------------------------------------

    def figure_bytes(self) -> Figure:
        count = 20 if self.cfg.quick else 200
        column = f"{count} finished link_login instances"
        fig = Figure(
            "pg_bytes", "Bytes stored per finished instance (PostgreSQL)", "bytes", [column]
        )
        url = self.database()
        with Store.open(url) as store:
            for _ in range(count):
                store.load_world(DEMO_WORLD)
                record = store.start(
                    LOGIN,
                    {"actor": "ana", "business_center": "acme_brands", "ad_account": "acme_us"},
                )
                store.send(
                    record.id, "log_in", {"username": "ana_cooks", "password": "open-sesame-42"}
                )
                store.send(record.id, "approve")
                assert store.send(record.id, "refresh").instance.outcome == "completed"
        import psycopg  # noqa: PLC0415 - psycopg, the postgres extra: missing, the postgres figures are skipped

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM FULL instances")
            conn.execute("VACUUM FULL history")
            sizes = {}
            for table in ("instances", "history"):
                row = conn.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()
                sizes[table] = int(row[0]) if row else 0
        for table, label in (("instances", "instance row"), ("history", "history (3 entries)")):
            fig.rows[label] = {column: Stat("bytes", [sizes[table] / count], ops=count)}
        fig.notes.append(
            "The same instances as the SQLite figure; bytes are pg_total_relation_size (the "
            "table, its TOAST and its indexes, in 8 KB pages) after VACUUM FULL (no dead row "
            "versions), over the count. Page granularity weighs on small counts."
        )
        return fig


def _fill(store: Store, instances: int) -> None:
    """The SQLite figure's bulk fill (one INSERT ... SELECT per table), then ANALYZE."""
    fill(store, instances)
    with store.backend.write() as tx:  # fresh planner statistics, as autovacuum would give
        tx.run("ANALYZE instances")
        tx.run("ANALYZE history")


def postgres_targets(figures: dict[str, Figure]) -> list[Any]:
    """The PostgreSQL targets; each reads "not measured" when its figure is missing."""

    def ratio(key: str, top: str, bottom: str, column: str | None = None) -> float:
        fig = figures.get(key)
        if fig is None:
            return math.nan
        col = column or fig.columns[0]
        return fig.median(_row(fig, top), col) / fig.median(_row(fig, bottom), col)

    targets = [
        Target(
            "pg_durable_event",
            f"one durable PostgreSQL event ({SETTINGS}) ≤ 1.5x a bare commit of update + insert",
            ratio("pg_store", "linkflow", "bare"),
            1.5,
            "x",
            "<=",
        ),
        Target(
            "pg_durable_vs_django",
            "durable five-event flow on PostgreSQL: linkflow's events/s ≥ 2x django-fsm-2's",
            ratio("pg_flow", "django", "linkflow"),
            2.0,
            "x",
            ">=",
        ),
    ]
    scaling = figures.get("pg_scaling")
    small, large = scaling.columns if scaling else ("1,000 stored", "1,000,000 stored")
    for row in ("start", "send"):
        measured = math.nan
        if scaling is not None:
            measured = scaling.median(row, large) / scaling.median(row, small)
        targets.append(
            Target(
                f"pg_store_{row}_scaling",
                f"durable {row} on PostgreSQL with {large} ≤ 1.2x with {small}",
                measured,
                1.2,
                "x",
                "<=",
            )
        )
    return targets


def _row(figure: Figure, prefix: str) -> str:
    return next(r for r in figure.rows if r.startswith(prefix))
