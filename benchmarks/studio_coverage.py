"""The studio's Coverage view on the project's scenario suite, before and after it reused
results by file hash (issue 24, item 7).

    python -m benchmarks.studio_coverage                   # tests/scenarios, 5 repeats
    python -m benchmarks.studio_coverage --folder DIR --repeats 10

"before" is what the view did on every Measure: run every scenario file (linkflow.analysis
.coverage.run_suite) and draw every workflow's overlay. "after" is linkflow.studio.coverage_view
as it is: its first call runs and draws everything (it has nothing to reuse yet); the calls
after it rerun only the files whose text changed (none here) and redraw only overlays whose
coverage changed. Both run in this one process, after one warm-up load of the workflows, so
the difference is the work skipped, not start-up. Prints JSON: seconds per call (median and
worst of the repeats).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from linkflow.analysis.coverage import run_suite
from linkflow.output.diagram import workflow_diagram
from linkflow.output.diagram_coverage import overlay_coverage
from linkflow.output.files import draw
from linkflow.studio.coverage_view import coverage_view


def before(folder: str) -> int:
    """The view's work before: every file run, every overlay drawn."""
    report = run_suite([folder])
    for cov in report.workflows.values():
        draw(overlay_coverage(cov.workflow, workflow_diagram(cov.workflow), cov), "svg")
    return report.scenarios


def after(folder: str) -> int:
    return int(coverage_view(folder)["scenarios"])


def timed(call: Callable[[str], int], folder: str, repeats: int) -> dict[str, Any]:
    seconds = []
    files = 0
    for _ in range(repeats):
        started = time.perf_counter()
        files = call(folder)
        seconds.append(time.perf_counter() - started)
    return {
        "files": files,
        "median_s": round(statistics.median(seconds), 4),
        "worst_s": round(max(seconds), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default="tests/scenarios")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    run_suite([args.folder])  # the workflows and worlds, loaded once per process (both pay it)
    first = time.perf_counter()
    after(args.folder)
    result = {
        "folder": args.folder,
        "before": timed(before, args.folder, args.repeats),
        "after_first_s": round(time.perf_counter() - first, 4),
        "after": timed(after, args.folder, args.repeats),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
