"""`linkflow mutate` on the domain: mutants per second, and what the run costs.

The run is the one `make check` gates on (`linkflow mutate workflows --scenarios
tests/scenarios`), each repeat a fresh process (nothing cached from an earlier repeat): with one
worker, then with every usable core. The anchor, in the same round-robin, is `linkflow test
tests/scenarios`, one pass of the scenario suite, so "the mutation run costs N suite runs" stays
comparable from machine to machine. A quick run mutates with one operator only.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks.figures import Config, Figure
from benchmarks.processes import TIMEOUT_S, linkflow_argv
from benchmarks.timing import interleaved
from linkflow.analysis.mutate.operators import OPERATORS
from linkflow.analysis.mutate.runner import default_jobs

ROOT = Path(__file__).resolve().parent.parent
ONE_JOB = "mutate, 1 job"
SUITE = "linkflow test tests/scenarios (anchor)"
MUTATE = ["mutate", "workflows", "--scenarios", "tests/scenarios", "--format", "json"]


def _cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _process_s(args: list[str], cpu: list[float]) -> tuple[float, str]:
    """Wall time and standard output of one `linkflow` process; its CPU seconds (its worker
    processes' included) go to `cpu`: a busy machine stretches the wall time, not those."""
    cpu_before = _cpu_s()
    started = time.perf_counter()
    done = subprocess.run(
        [*linkflow_argv(), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT_S,
    )
    elapsed = time.perf_counter() - started
    cpu.append(_cpu_s() - cpu_before)
    if done.returncode != 0:
        raise RuntimeError(f"linkflow {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return elapsed, done.stdout


def figure_mutate(cfg: Config) -> Figure:
    operators = ("complete_final",) if cfg.quick else tuple(OPERATORS)
    chosen = [arg for name in operators for arg in ("--operator", name)]
    cores = default_jobs()
    fig = Figure(
        "mutate", "`linkflow mutate workflows --scenarios tests/scenarios`", "s", ["wall time"]
    )
    counts: dict[str, int] = {}
    cpu: dict[str, list[float]] = {}

    def mutate(key: str, jobs: int) -> float:
        args = [*MUTATE, "--jobs", str(jobs), *chosen]
        elapsed, out = _process_s(args, cpu.setdefault(key, []))
        counts[key] = json.loads(out)["total"]["mutants"]
        return elapsed

    def suite() -> float:
        return _process_s(["test", "tests/scenarios"], cpu.setdefault(SUITE, []))[0]

    subjects: dict[str, Callable[[], float]] = {
        ONE_JOB: partial(mutate, ONE_JOB, 1),
        SUITE: suite,
    }
    if cores > 1:
        subjects[f"mutate, {cores} jobs"] = partial(mutate, f"mutate, {cores} jobs", cores)
    repeats = 1 if cfg.quick else max(1, min(cfg.repeats, 3))
    stats = interleaved(subjects, repeats, "s")
    fig.derived_columns = ["mutants/s", "CPU s", "suite runs"]
    anchor = stats[SUITE].median
    for key, stat in stats.items():
        fig.rows[key] = {"wall time": stat}
        fig.derived[key] = {"CPU s": statistics.median(cpu[key])}
        if key in counts:
            fig.derived[key]["mutants/s"] = counts[key] / stat.median
            fig.derived[key]["suite runs"] = stat.median / anchor
    fig.notes.append(
        f"{next(iter(counts.values()), 0)} mutants ({', '.join(operators)}) of every workflow "
        "in workflows/, tried against tests/scenarios; each repeat is a fresh process, so the "
        f"time includes start-up, reading the files and the baseline run. {repeats} repeats, "
        "round-robin; `suite runs` is the run's wall time over that of `linkflow test "
        "tests/scenarios`, and `CPU s` the user and system seconds of the processes (median), "
        "which a busy machine does not stretch. A mutant the validation checks reject costs a "
        "re-check and no scenario."
    )
    return fig
