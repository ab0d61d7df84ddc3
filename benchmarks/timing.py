"""Measuring: repeats run round-robin over the subjects, so drift hits every subject alike.

A subject is a callable that does its own (untimed) setup and returns one timed value; the
harness calls each subject once per repeat, rotating which goes first.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: A figure taken while the 1-minute load average was above this is marked: other processes
#: wanted the cores too, so its wall time may include waiting for one (its CPU time less so).
LOADED = 1.0


def load_average() -> float:
    """The 1-minute load average now (NaN where the system does not tell)."""
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover - every POSIX system the bench runs on has it
        return math.nan


@dataclass
class Stat:
    """The values one subject gave over the repeats, in `unit`."""

    unit: str
    values: list[float] = field(default_factory=list)
    #: How many operations each value averages over (0 when not applicable).
    ops: int = 0
    note: str = ""
    #: CPU time of the measuring thread per operation, one per repeat, in `unit` (durable
    #: figures): a loaded machine or a slow disk lengthens the wall time, not this.
    cpu: list[float] = field(default_factory=list)
    #: The 1-minute load average when each repeat was taken.
    load: list[float] = field(default_factory=list)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    @property
    def loaded(self) -> bool:
        """Whether a repeat was taken above load `LOADED`."""
        return any(value > LOADED for value in self.load)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def low(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def high(self) -> float:
        return max(self.values) if self.values else float("nan")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "unit": self.unit,
            "median": self.median,
            "min": self.low,
            "max": self.high,
            "values": list(self.values),
            "repeats": len(self.values),
        }
        if self.ops:
            out["ops_per_repeat"] = self.ops
        if self.cpu:
            out["cpu_median"] = self.cpu_median
            out["cpu_values"] = list(self.cpu)
        if self.load:
            out["load_values"] = list(self.load)
            out["loaded"] = self.loaded
        if self.note:
            out["note"] = self.note
        return out


def interleaved(
    subjects: Mapping[str, Callable[[], float]], repeats: int, unit: str
) -> dict[str, Stat]:
    """Run every subject once per repeat, round-robin, rotating the starting subject."""
    keys = list(subjects)
    stats = {key: Stat(unit) for key in keys}
    for repeat in range(repeats):
        shift = repeat % len(keys) if keys else 0
        for key in keys[shift:] + keys[:shift]:
            stats[key].values.append(subjects[key]())
    return stats


def per_item_us(action: Callable[[Any], Any], items: Sequence[Any]) -> float:
    """Microseconds per item of `action(item)` over `items`.

    A full collection runs first, so no garbage another subject left behind (python-statemachine
    and sismic leave a lot) triggers a generation-2 pass inside this subject's timed loop.
    """
    gc.collect()
    start = time.perf_counter_ns()
    for item in items:
        action(item)
    elapsed = time.perf_counter_ns() - start
    return elapsed / len(items) / 1e3


def create_us(create: Callable[[], Any], count: int, keep: list[Any]) -> float:
    """Microseconds per instance to create `count` instances, appended to the live list `keep`."""
    gc.collect()
    append = keep.append
    start = time.perf_counter_ns()
    for _ in range(count):
        append(create())
    elapsed = time.perf_counter_ns() - start
    return elapsed / count / 1e3


def calibrate(
    probe: Callable[[int], float],
    target_s: float,
    low: int,
    high: int,
    start: int = 20,
    setup_budget_s: float = 0.0,
) -> int:
    """How many operations make one timed batch last about `target_s` seconds.

    `probe(n)` runs n operations (with their untimed setup) and returns microseconds per
    operation. With `setup_budget_s`, the batch is also kept small enough that its untimed
    setup (creating instances, say) takes about that long at most.
    """
    probe(start)  # warm-up: first calls compile, fill caches
    begun = time.perf_counter_ns()
    per_op_us = max(probe(start), 0.01)
    wall_us = (time.perf_counter_ns() - begun) / 1e3 / start
    wanted = int(target_s * 1e6 / per_op_us)
    setup_us = wall_us - per_op_us
    if setup_budget_s > 0 and setup_us > 0:
        wanted = min(wanted, int(setup_budget_s * 1e6 / setup_us))
    return max(low, min(high, wanted))


def seconds(run: Callable[[], Any]) -> float:
    start = time.perf_counter_ns()
    run()
    return (time.perf_counter_ns() - start) / 1e9


def summarize(values: Iterable[float]) -> str:
    data = list(values)
    return f"{statistics.median(data):.3g} [{min(data):.3g}-{max(data):.3g}]"
