"""The fuzz suite: mutated copies of the project's own files, and hypothesis-generated
workflows, payloads and expressions, each batch run in a subprocess (a native crash is caught
and its case named). Every case: no traceback, a location on every problem, at most 3 s,
refusals change nothing, the canary secret found nowhere.

`make test` runs a bounded run (the `ci` hypothesis profile, a fixed seed); `make fuzz` runs a
long one (HYPOTHESIS_PROFILE=fuzz, a fresh seed, printed)."""

from __future__ import annotations

import os
import random
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings

from tests.fuzz.cases import generated_cases, mutation_cases
from tests.fuzz.runner import run_cases

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
MUTATIONS = int(os.environ.get("FUZZ_MUTATIONS", "20000" if LONG else "200"))
GENERATED = int(os.environ.get("FUZZ_GENERATED", "5000" if LONG else "200"))


def _check(report_findings: list[tuple[str, str]]) -> None:
    shown = "\n".join(f"{case}: {what}" for case, what in report_findings[:20])
    assert report_findings == [], f"{len(report_findings)} finding(s):\n{shown}"


def test_mutations_of_the_project_files() -> None:
    seed = random.randrange(2**32) if LONG else 14
    print(f"mutation fuzz: {MUTATIONS} cases, seed {seed}")
    report = run_cases(mutation_cases(MUTATIONS, seed))
    print(f"{report.cases} cases in {report.batches} processes, slowest {report.slowest:.2f} s")
    _check(report.findings)


def generated(count: int) -> list[dict[str, Any]]:
    """`count` cases drawn by hypothesis (in this process: drawing is cheap, running is not,
    so the cases are collected first and run in batches of subprocesses)."""
    cases: list[dict[str, Any]] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=not LONG,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(generated_cases(0))
    def gather(case: dict[str, Any]) -> None:
        cases.append(dict(case, id=f"{case['id']}-{len(cases)}"))

    gather()
    return cases


def test_generated_workflows_payloads_and_expressions() -> None:
    cases = generated(GENERATED)
    kinds = Counter(case["kind"] for case in cases)
    assert set(kinds) == {"expression", "run"}, kinds
    report = run_cases(cases)
    print(f"{report.cases} generated cases ({dict(kinds)}), slowest {report.slowest:.2f} s")
    _check(report.findings)
