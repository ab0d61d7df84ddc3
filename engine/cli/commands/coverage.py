"""`linkflow coverage`: which states, transitions and guard outcomes the scenarios exercise."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from engine.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_scenario_paths

if TYPE_CHECKING:
    from engine.analysis.coverage import CoverageReport


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "coverage",
        help="run the scenarios and measure states, transitions and guard outcomes covered",
        description="Run scenario files and measure, per workflow (every workflow of the "
        "folders the scenarios load), the states visited, the transitions taken and the guard "
        "outcomes seen (each guard use both holding and refusing). Prints a table and what "
        "is not covered; exits 1 when transition or guard-outcome coverage is below --fail-under.",
    )
    add_scenario_paths(parser)
    parser.add_argument(
        "--fail-under",
        type=float,
        default=0.0,
        metavar="N",
        help="exit 1 when the percentage of transitions taken, or of guard outcomes seen, "
        "is below N",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE")
    parser.add_argument(
        "--diagrams",
        metavar="DIR",
        help="also draw each workflow into DIR/<workflow>.svg and .dot with what is not "
        "covered highlighted: transitions no scenario took red and dashed, guards never "
        "refused (or never held) orange, the rest faded",
    )
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    if not 0 <= args.fail_under <= 100:
        print("linkflow coverage: error: --fail-under must be between 0 and 100", file=sys.stderr)
        return EXIT_USAGE
    from engine.analysis.coverage import run_suite

    report = run_suite(args.paths)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(f"{report.scenarios} scenario file(s)", file=out)
    print(report.table(), file=out)
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    if args.diagrams and not write_diagrams(report, Path(args.diagrams), out):
        return EXIT_PROBLEMS
    failed = False
    for kind, words in (("transitions", "transition"), ("guard_outcomes", "guard outcome")):
        percent = report.percent(kind)
        if percent < args.fail_under:
            print(
                f"{words} coverage {percent:.1f}% is below --fail-under {args.fail_under:g}%",
                file=sys.stderr,
            )
            failed = True
    return EXIT_PROBLEMS if failed or report.problems else EXIT_OK


def write_diagrams(report: CoverageReport, out_dir: Path, out: TextIO) -> bool:
    """Write DIR/<workflow>.dot and .svg with the coverage overlay; False (after saying
    why) when Graphviz cannot draw."""
    import graphviz

    from engine.output.diagram import overlay_coverage, workflow_diagram
    from engine.output.files import draw

    files: dict[str, bytes] = {}
    for name, cov in sorted(report.workflows.items()):
        diagram = overlay_coverage(cov.workflow, workflow_diagram(cov.workflow), cov)
        files[f"{name}.dot"] = draw(diagram, "dot")
        try:
            files[f"{name}.svg"] = draw(diagram, "svg")
        except graphviz.ExecutableNotFound as err:
            print(f"linkflow coverage: error: cannot draw SVG: {err}", file=sys.stderr)
            return False
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, content in files.items():
        (out_dir / file_name).write_bytes(content)
    print(f"wrote {len(files)} coverage diagram file(s) to {out_dir}", file=out)
    return True
