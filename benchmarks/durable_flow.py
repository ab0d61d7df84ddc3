"""The five-event flow, durably: a bare SQLite commit, linkflow's store and django-fsm-2.

All three on SQLite files in the same folder, WAL, synchronous=FULL, one transaction per
event. Each instance's turn runs five bare commits, linkflow's five events and django-fsm's
five events back to back, so a disk whose fsync latency drifts weighs on all three alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import domain
from benchmarks.figures import Config, Figure
from benchmarks.impls.linkflow_impl import WORKFLOW_FILE
from benchmarks.store import CPU_NOTE, _bare_commit, _bare_db, cpu_ratios
from benchmarks.timing import Stat, load_average
from linkflow.runtime.world import World
from linkflow.store import Store

COLUMN = "SQLite, WAL, synchronous=FULL"
BARE = "bare SQLite commit (1 update + 1 insert)"
LINKFLOW = "linkflow (Store.send: guards, actions, history, change feed)"
DJANGO = "django-fsm-2 + ConcurrentTransitionMixin (no change feed)"
NOT_MEASURED = (
    "PostgreSQL: see the figure `pg_flow` (a cluster with fsync and synchronous commit on). "
    "Not measured here: the HTTP service's events/s and p50/p99 latency (its own figures)."
)


class _Linkflow:
    def __init__(self, url: str) -> None:
        self.store = Store.open(url)
        self.store.load_world(World(domain.make_world(1000), name="bench"))
        self.good = {"username": domain.ACCOUNT, "password": domain.PASSWORD}

    def create(self) -> str:
        return self.store.start(WORKFLOW_FILE, domain.instance_data()).id

    def run_flow(self, instance: str) -> None:
        for event in domain.EVENTS:
            sent = self.store.send(instance, event, self.good if event == "login" else None)
            if not sent.step.accepted:
                raise AssertionError(f"linkflow refused {event}: {sent.step.refusal}")

    def check(self, instance: str) -> None:
        record = self.store.get(instance)
        if record.state != domain.FINAL or record.data["dropdown"] != [domain.ACCOUNT]:
            raise AssertionError(f"linkflow's durable flow ended in {record.state}")


def figure_durable_flow(cfg: Config, work: Path) -> Figure:
    from benchmarks.django_fsm_flow import DjangoFlow  # noqa: PLC0415 - Django, a compared library: missing, it skips one figure

    flows = 2 if cfg.quick else 40
    fig = Figure(
        "durable_flow",
        "The five-event flow, durably: µs per event",
        "µs",
        [COLUMN],
        derived_columns=["/ bare commit", "CPU / bare commit", "events/s"],
    )
    fig.notes.append(
        f"{flows} fresh instances per repeat, each run through the five events (one "
        "transaction per event) by linkflow and django-fsm-2, with five bare commits beside "
        "them. linkflow: `Store.send` on benchmarks/flows/link_login.yaml with a world of "
        "1,000 accounts in the store (guards read world records, approve writes three, "
        "history and change-feed rows). django-fsm-2: FSMField with ConcurrentTransitionMixin, "
        "guards as transition conditions reading world records through the ORM, approve "
        "saving three world records, one TransitionLog row per event (benchmarks/"
        "django_fsm_flow.py); django-fsm has no change feed, so it writes none."
    )
    fig.notes.append(NOT_MEASURED)
    fig.notes.append(CPU_NOTE)
    bare = _bare_db(work / "flow-bare.db")
    linkflow = _Linkflow(f"sqlite:///{work / 'flow-linkflow.db'}")
    django = DjangoFlow(f"sqlite:///{work / 'flow-django.db'}")
    try:
        stats = paired_flows(
            BARE, partial(_bare_commit, bare), linkflow, django, flows, cfg.repeats
        )
    finally:
        bare.close()
        linkflow.store.close()
    for key, stat in stats.items():
        fig.rows[key] = {COLUMN: stat}
        fig.derived[key] = {
            "/ bare commit": stat.median / stats[BARE].median,
            "events/s": 1e6 / stat.median,
        }
    cpu_ratios(fig, BARE, COLUMN)
    return fig


def paired_flows(
    bare: str,
    bare_commit: Callable[[int], object],
    linkflow: _Linkflow,
    django: Any,
    flows: int,
    repeats: int,
) -> dict[str, Stat]:
    """µs per event (rows `bare`, LINKFLOW, DJANGO) of five bare commits, linkflow's five
    events and django-fsm's, back to back for each of `flows` fresh instances per repeat
    (after one warm-up repeat)."""
    stats = {bare: Stat("µs"), LINKFLOW: Stat("µs"), DJANGO: Stat("µs")}
    clock, cpu = time.perf_counter_ns, time.thread_time_ns
    events = len(domain.EVENTS)
    for repeat in range(repeats + 1):  # the first is a warm-up
        ours = [linkflow.create() for _ in range(flows)]
        theirs = [django.create() for _ in range(flows)]
        load = load_average()
        spent = dict.fromkeys(stats, 0)
        used = dict.fromkeys(stats, 0)
        for i, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            c0, t0 = cpu(), clock()
            for k in range(events):
                bare_commit(i * events + k)
            c1, t1 = cpu(), clock()
            linkflow.run_flow(mine)
            c2, t2 = cpu(), clock()
            django.run_flow(other)
            c3, t3 = cpu(), clock()
            for key, wall, busy in (
                (bare, t1 - t0, c1 - c0),
                (LINKFLOW, t2 - t1, c2 - c1),
                (DJANGO, t3 - t2, c3 - c2),
            ):
                spent[key] += wall
                used[key] += busy
        linkflow.check(ours[-1])
        django.check(theirs[-1])
        if repeat:
            for key, ns in spent.items():
                stats[key].values.append(ns / 1e3 / (flows * events))
                stats[key].cpu.append(used[key] / 1e3 / (flows * events))
                stats[key].load.append(load)
    for stat in stats.values():
        stat.ops = flows * events
    return stats
