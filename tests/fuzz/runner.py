"""The parent side of the fuzz suite: cases go to tests/fuzz/harness.py in batches, each batch
in its own subprocess. A batch that dies (a native crash, a timeout) is run again case by case,
so the report names the case that crashed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: No single case may take longer than this (the issue's bound).
MAX_CASE_SECONDS = 3.0
BATCH = 60


@dataclass
class Report:
    cases: int = 0
    batches: int = 0
    slowest: float = 0.0
    #: (case id, what was wrong)
    findings: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, other: Report) -> None:
        self.cases += other.cases
        self.batches += other.batches
        self.slowest = max(self.slowest, other.slowest)
        self.findings += other.findings


def _child(cases: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]], str]:
    env = dict(os.environ, PYTHONFAULTHANDLER="1", PYTHONHASHSEED="0")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tests.fuzz.harness"],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=30 + MAX_CASE_SECONDS * 2 * len(cases),
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
        return -9, [json.loads(line) for line in out.splitlines() if line.strip()], "timeout"
    results = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, results, done.stderr[-2000:]


def run_cases(cases: list[dict[str, Any]], batch: int = BATCH) -> Report:
    report = Report()
    for start in range(0, len(cases), batch):
        chunk = cases[start : start + batch]
        report.batches += 1
        code, results, stderr = _child(chunk)
        _collect(report, results)
        if code == 0 and len(results) == len(chunk):
            continue
        # The batch died: run what did not report, one case per process, to name the case.
        found_before = len(report.findings)
        finished = {r["id"] for r in results}
        for case in chunk:
            if case["id"] in finished:
                continue
            report.batches += 1
            single_code, single, single_err = _child([case])
            _collect(report, single)
            if single_code != 0 or not single:
                why = f"signal {-single_code}" if single_code < 0 else f"exit {single_code}"
                report.findings.append((case["id"], f"the process died ({why}): {single_err}"))
        if len(report.findings) == found_before:
            report.findings.append(("batch", f"a batch died but no single case did: {stderr}"))
    report.cases = len(cases)
    return report


def _collect(report: Report, results: list[dict[str, Any]]) -> None:
    for result in results:
        report.slowest = max(report.slowest, result["seconds"])
        if result["seconds"] > MAX_CASE_SECONDS:
            report.findings.append((result["id"], f"took {result['seconds']:.1f} s"))
        report.findings += [(result["id"], finding) for finding in result["findings"]]
