"""The benchmark summary of docs/performance.md, written from `benchmarks/results.json`.

docs/performance.md shows the targets of the latest full run, met or missed, between two marker
lines; `make bench` rewrites that block after each run, and a test checks that the block is what
the committed results.json says, so the page cannot quote figures no run measured.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.report import amount, limit_text

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- benchmark targets: written by `make bench` from benchmarks/results.json -->"
END = "<!-- end of benchmark targets -->"


def targets_block(results: dict[str, Any]) -> str:
    """The marked block: when and how the run was made, then one row per target."""
    mode = "quick (tiny sizes)" if results["quick"] else "full"
    lines = [
        START,
        f"Run of {results['date']} ({mode}, {results['elapsed_s']:.0f} s) on "
        f"{results['machine']['cpu']}, {results['machine']['usable_cores']} usable cores; "
        "each ratio is taken inside that one run. Details, profiles and notes: "
        "[benchmarks/RESULTS.md](../benchmarks/RESULTS.md).",
        "",
        "| target | measured | limit | result |",
        "|---|---|---|---|",
    ]
    for target in results["targets"].values():
        measured = target["measured"]
        shown = "-" if measured is None else amount(measured, target["unit"])
        verdict = {True: "met", False: "**missed**", None: "not measured"}[target["met"]]
        limit = limit_text(target["limit"], target["unit"], target["compare"])
        lines.append(f"| {target['target']} | {shown} | {limit} | {verdict} |")
    lines.append(END)
    return "\n".join(lines)


def updated(readme: str, results: dict[str, Any]) -> str:
    """The page with its marked block replaced; a page without the markers is an error."""
    head, start, rest = readme.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the page has no benchmark block (the line {START!r})")
    return head + targets_block(results) + tail


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    readme = Path(args[0]) if args else ROOT / "docs" / "performance.md"
    results_path = Path(args[1]) if len(args) > 1 else ROOT / "benchmarks" / "results.json"
    results = json.loads(results_path.read_text(encoding="utf-8"))
    if results["quick"]:
        print(
            "results.json holds a quick run: docs/performance.md keeps its table", file=sys.stderr
        )
        return 1
    readme.write_text(updated(readme.read_text(encoding="utf-8"), results), encoding="utf-8")
    print(f"{readme}: benchmark targets of {results['date']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
