"""`linkflow mutate` on the domain: mutants per second, and what one mutant costs.

The run is what `make check` gates on (`linkflow mutate workflows --scenarios tests/scenarios`),
measured in process: one worker, then every usable core. The anchor, in the same round-robin,
is one pass of the whole scenario suite on the unchanged workflows (what `linkflow test` runs),
so "a mutant costs N suite passes" stays comparable from machine to machine. A quick run
mutates with one operator only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks.figures import Config, Figure
from benchmarks.timing import interleaved

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
SCENARIOS = ROOT / "tests" / "scenarios"
ONE_JOB = "mutate, 1 job"
SUITE = "one pass of the scenario suite (anchor)"


def _mutate_s(jobs: int, operators: tuple[str, ...]) -> tuple[float, int]:
    """Seconds for the whole run (reading, baseline, mutants) and the number of mutants."""
    from engine.analysis.mutate.runner import Spec, load_suite, run_suite

    started = time.perf_counter()
    suite = load_suite(Spec((str(WORKFLOWS),), None, (str(SCENARIOS),), operators))
    results = run_suite(suite, jobs)
    return time.perf_counter() - started, len(results)


def _suite_s() -> float:
    from engine.language.scenario_check import read_scenario
    from engine.testing.scenarios import run_scenario, scenario_files

    files, _ = scenario_files([SCENARIOS])
    docs = [doc for doc in (read_scenario(f)[0] for f in files) if doc is not None]
    started = time.perf_counter()
    for doc in docs:
        run_scenario(doc)
    return time.perf_counter() - started


def figure_mutate(cfg: Config) -> Figure:
    from engine.analysis.mutate.operators import OPERATORS
    from engine.analysis.mutate.runner import default_jobs

    operators = ("complete_final",) if cfg.quick else tuple(OPERATORS)
    cores = default_jobs()
    all_jobs = f"mutate, {cores} jobs"
    fig = Figure(
        "mutate",
        "`linkflow mutate workflows --scenarios tests/scenarios` (in process)",
        "s",
        ["wall time"],
    )
    counts: dict[str, int] = {}

    def mutate(key: str, jobs: int) -> float:
        elapsed, counts[key] = _mutate_s(jobs, operators)
        return elapsed

    subjects: dict[str, Callable[[], float]] = {
        ONE_JOB: partial(mutate, ONE_JOB, 1),
        SUITE: _suite_s,
    }
    if cores > 1:
        subjects[all_jobs] = partial(mutate, all_jobs, cores)
    repeats = max(1, min(cfg.repeats, 3))
    stats = interleaved(subjects, repeats, "s")
    fig.derived_columns = ["mutants/s", "suite passes per mutant"]
    anchor = stats[SUITE].median
    for key, stat in stats.items():
        fig.rows[key] = {"wall time": stat}
        if key in counts:
            per_second = counts[key] / stat.median
            fig.derived[key] = {
                "mutants/s": per_second,
                "suite passes per mutant": (1 / per_second) / anchor,
            }
    mutants = next(iter(counts.values()), 0)
    fig.notes.append(
        f"{mutants} mutants ({', '.join(operators)}) of every workflow in workflows/, tried "
        f"against {SCENARIOS.relative_to(ROOT)}; the time includes reading the files and the "
        f"baseline run. {repeats} repeats, round-robin, with the scenario suite's one pass as "
        "the anchor. The mutants a validation check rejects cost a re-check and no scenario."
    )
    return fig
