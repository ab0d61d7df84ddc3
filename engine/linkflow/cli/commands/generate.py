"""`linkflow generate`: skeleton scenarios for what the scenario suite does not cover."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_format
from linkflow.cli.commands.console import emit_json, error
from linkflow.cli.commands.output import report_problems


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "generate",
        help="write skeleton scenarios for uncovered transitions and never-refused guards",
        description="Write skeleton scenario files, each on the shortest path to a transition "
        "or guard refusal, with the guard outcomes every step needs as notes. With --missing, "
        "only for what the scenarios under --scenarios do not cover. Existing files are never "
        "overwritten. Fill in the world and expectations, then move them next to the others.",
    )
    parser.add_argument(
        "workflow",
        metavar="WORKFLOW",
        help="a workflow file, or a workflow's name (looked up in the nearest workflows/ folder)",
    )
    parser.add_argument(
        "--missing",
        action="store_true",
        help="only what the scenario suite does not cover (else: every transition and guard)",
    )
    parser.add_argument(
        "--scenarios",
        nargs="*",
        default=["tests/scenarios"],
        metavar="PATH",
        help="the scenario suite measured by --missing (default: tests/scenarios)",
    )
    parser.add_argument(
        "--out",
        default="tests/scenarios_todo",
        metavar="DIR",
        help="where to write the skeletons (default: tests/scenarios_todo, as deep as "
        "tests/scenarios, so relative paths in them survive the move; marked unfinished, "
        "so pytest and `linkflow test` skip them)",
    )
    add_format(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.explore import load_in_context
    from linkflow.cli.commands.workflow_args import workflow_path

    source = workflow_path(args.workflow, "generate")
    if source is None:
        return EXIT_PROBLEMS
    workflow, _, problems = load_in_context(source)
    if workflow is None:
        extra = "" if problems else f"{args.workflow}: the file holds no workflow"
        report_problems(problems, out, args.format, extra)
        return EXIT_PROBLEMS
    from linkflow.analysis.coverage import run_suite
    from linkflow.analysis.generate import skeletons, write_skeletons

    coverage = None
    if args.missing:
        existing = [p for p in args.scenarios if Path(p).exists()]
        if not existing and args.scenarios != ["tests/scenarios"]:
            error("generate", "no such scenario path")
            return EXIT_USAGE
        report = run_suite(existing)
        found = report.workflows.get(workflow.name)
        if found is None:
            from linkflow.analysis.coverage import WorkflowCoverage

            found = WorkflowCoverage(workflow)
        coverage = found
    out_dir = Path(args.out)
    made = skeletons(workflow, coverage, out_dir)
    written = write_skeletons(made, out_dir)
    if args.format == "json":
        items = [
            {
                "file": str(out_dir / s.file_name),
                "scenario": s.name,
                "target": s.target,
                "written": out_dir / s.file_name in written,
            }
            for s in made
        ]
        emit_json({"workflow": workflow.name, "skeletons": items}, out)
        return EXIT_OK
    for skeleton in made:
        path = out_dir / skeleton.file_name
        mark = "wrote" if path in written else "kept "
        print(f"{mark} {path}: {skeleton.target}", file=out)
    if not made:
        print(f"{workflow.name}: everything is covered; nothing to generate", file=out)
    return EXIT_OK
