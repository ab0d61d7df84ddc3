"""`linkflow show`: a workflow in words."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, add_format
from linkflow.cli.commands.console import emit_json
from linkflow.cli.commands.output import load_one_workflow


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "show",
        help="describe a workflow in words: states, events, guards, transitions",
        description="Describe a workflow in words.",
    )
    parser.add_argument(
        "workflow",
        metavar="WORKFLOW",
        help="a workflow file, or a workflow's name (looked up in the nearest workflows/ folder)",
    )
    add_format(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.workflow_args import workflow_path

    path = workflow_path(args.workflow, "show")
    workflow = None if path is None else load_one_workflow(path, out, args.format)
    if workflow is None:
        return EXIT_PROBLEMS
    from linkflow.output.describe import describe_workflow, workflow_summary

    if args.format == "json":
        emit_json(workflow_summary(workflow), out)
    else:
        print(describe_workflow(workflow), file=out)
    return EXIT_OK
