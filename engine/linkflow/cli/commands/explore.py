"""`linkflow explore`: every path of a workflow, as a decision table, plus loops, contradictions,
events that can never be accepted and the workflow's invariants."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, add_format
from linkflow.cli.commands.console import emit_json
from linkflow.cli.commands.output import report_problems

if TYPE_CHECKING:
    from linkflow.errors import Problem
    from linkflow.language.model import Workflow


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "explore",
        help="explore every path with guards as free booleans: decision table, loops, invariants",
        description="Explore every path from the initial state, treating each guard as a free "
        "boolean (respecting `!guard` and `exclusive` groups), and print a decision table: "
        "which guard outcomes lead to which outcome, by which events. Also reports loops, "
        "states reachable only under contradictory guard outcomes, events that can never be "
        "accepted, and the workflow's invariants. Workflows it hands off to are loaded from "
        "the same folder. Exits 1 when an invariant is broken.",
    )
    parser.add_argument(
        "workflow",
        metavar="WORKFLOW",
        help="a workflow file, or a workflow's name (looked up in the nearest workflows/ folder)",
    )
    add_format(parser, ("text", "json", "markdown"))
    parser.add_argument(
        "--max-depth", type=int, default=40, metavar="N", help="longest path, in events (40)"
    )
    parser.add_argument(
        "--max-loops",
        type=int,
        default=1,
        metavar="N",
        help="how many times a path may go round a loop (1)",
    )
    parser.add_argument(
        "--max-paths", type=int, default=2000, metavar="N", help="most table rows (2000)"
    )
    parser.add_argument(
        "--max-nodes", type=int, default=50_000, metavar="N", help="most search steps (50000)"
    )
    return parser


def load_in_context(path: str) -> tuple[Workflow | None, dict[str, Workflow], list[Problem]]:
    """The workflow in `path`, and the workflows it can hand off to (from the same folder)."""
    from linkflow.language.loader import load

    result = load([path], kinds=["workflow"])
    if result.ok and result.workflows:
        workflow = next(iter(result.workflows.values()))
        return workflow, dict(result.workflows), []
    handoff_only = result.workflows and all("hands off to" in p.message for p in result.problems)
    if not handoff_only:
        return None, {}, result.problems or []
    workflow = next(iter(result.workflows.values()))
    around = load([Path(path).parent], kinds=["workflow"])
    mine = around.workflows.get(workflow.name)
    if mine is None or Path(mine.file).resolve() != Path(path).resolve():
        return None, {}, result.problems
    return mine, dict(around.workflows), []


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.workflow_args import workflow_path

    path = workflow_path(args.workflow, "explore")
    if path is None:
        return EXIT_PROBLEMS
    workflow, workflows, problems = load_in_context(path)
    if workflow is None:
        extra = "" if problems else f"{args.workflow}: the file holds no workflow"
        report_problems(problems, out, "json" if args.format == "json" else "text", extra)
        return EXIT_PROBLEMS

    from linkflow.analysis.explore import explore
    from linkflow.analysis.explore_report import report_json, report_markdown, report_text
    from linkflow.language.invariants import check_invariant

    exploration = explore(
        workflow,
        max_depth=args.max_depth,
        max_loops=args.max_loops,
        max_paths=args.max_paths,
        max_nodes=args.max_nodes,
    )
    found = {
        name: check_invariant(workflow, inv, workflows) for name, inv in workflow.invariants.items()
    }
    broken = any(found.values())
    if args.format == "json":
        items = [
            {
                "name": name,
                "kind": workflow.invariants[name].kind.value,
                "rule": workflow.invariants[name].rule,
                "holds": not violations,
                "violations": [v.as_dict() for v in violations],
            }
            for name, violations in found.items()
        ]
        emit_json(report_json(exploration, items), out)
    else:
        texts = [
            (name, workflow.invariants[name].rule, [v.text() for v in violations])
            for name, violations in found.items()
        ]
        render = report_markdown if args.format == "markdown" else report_text
        print(render(exploration, texts), file=out)
    return EXIT_PROBLEMS if broken else EXIT_OK
