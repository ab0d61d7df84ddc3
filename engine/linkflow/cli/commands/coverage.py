"""`linkflow coverage`: which states, transitions and guard outcomes the scenarios exercise."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_format, add_scenario_paths
from linkflow.cli.commands.console import emit_json, error, say

if TYPE_CHECKING:
    from linkflow.analysis.coverage import CoverageReport


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "coverage",
        help="run the scenarios and measure states, transitions and guard outcomes covered",
        description="Run scenario files and measure, per workflow (every workflow of the "
        "folders the scenarios load), the states visited, the transitions taken and the guard "
        "outcomes seen (each guard use both holding and refusing). Prints a table and what "
        "is not covered; exits 1 when transition or guard-outcome coverage is below --fail-under. "
        "A workflow's name among the paths narrows the report to that workflow.",
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
    add_format(parser)
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
        error("coverage", "--fail-under must be between 0 and 100")
        return EXIT_USAGE
    from linkflow.analysis.coverage import run_suite
    from linkflow.cli.commands.workflow_args import NAME, no_workflow_named

    # a workflow name narrows the report to it; the other arguments are scenario paths
    names = [p for p in args.paths if not Path(p).exists() and NAME.match(p)]
    paths = [p for p in args.paths if p not in names] or ["tests/scenarios"]
    report = run_suite(paths)
    if names:
        missing = [n for n in names if n not in report.workflows]
        if missing:
            error("coverage", no_workflow_named(missing, report.workflows, ", ".join(paths)))
            return EXIT_PROBLEMS
        report.workflows = {n: c for n, c in report.workflows.items() if n in names}
    for problem in report.problems:
        say(str(problem), "problem")
    if report.scenarios == 0:
        # 0 of 0 covered is no measurement at all, not 100 %.
        if not report.problems:
            error("coverage", f"no scenario files in {', '.join(paths)}")
            say("(write scenarios there, or start from `linkflow generate WORKFLOW`)")
        if args.format == "json":
            emit_json({"ok": False, **report.as_dict()}, out)
        return EXIT_PROBLEMS if report.problems else EXIT_USAGE
    if args.format == "json":
        emit_json(report.as_dict(), out)
    else:
        print(f"{report.scenarios} scenario file(s)", file=out)
        print(report.table(), file=out)
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    if args.diagrams and not write_diagrams(
        report, Path(args.diagrams), out if args.format == "text" else None
    ):
        return EXIT_PROBLEMS
    failed = _below_fail_under(report, args.fail_under)
    return EXIT_PROBLEMS if failed or report.problems else EXIT_OK


def _below_fail_under(report: CoverageReport, fail_under: float) -> bool:
    """Whether transition or guard-outcome coverage is below `--fail-under` (each said)."""
    failed = False
    for kind, words in (("transitions", "transition"), ("guard_outcomes", "guard outcome")):
        percent = report.percent(kind)
        if percent < fail_under:
            say(f"{words} coverage {percent:.1f}% is below --fail-under {fail_under:g}%", "fail")
            failed = True
    return failed


def write_diagrams(report: CoverageReport, out_dir: Path, out: TextIO | None) -> bool:
    """Write DIR/<workflow>.dot and .svg with the coverage overlay; False (after saying
    why) when Graphviz cannot draw."""
    import graphviz

    from linkflow.output.diagram import workflow_diagram
    from linkflow.output.diagram_coverage import overlay_coverage
    from linkflow.output.files import draw

    files: dict[str, bytes] = {}
    for name, cov in sorted(report.workflows.items()):
        diagram = overlay_coverage(cov.workflow, workflow_diagram(cov.workflow), cov)
        files[f"{name}.dot"] = draw(diagram, "dot")
        try:
            files[f"{name}.svg"] = draw(diagram, "svg")
        except graphviz.ExecutableNotFound as err:
            error("coverage", f"cannot draw SVG: {err}")
            return False
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, content in files.items():
        (out_dir / file_name).write_bytes(content)
    if out is not None:
        print(f"wrote {len(files)} coverage diagram file(s) to {out_dir}", file=out)
    return True
