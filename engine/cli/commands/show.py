"""`linkflow show`: a workflow in words."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from engine.cli.commands import EXIT_OK, EXIT_PROBLEMS, add_format
from engine.cli.commands.output import load_one_workflow


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "show",
        help="describe a workflow in words: states, events, guards, transitions",
        description="Describe a workflow in words.",
    )
    parser.add_argument("workflow", metavar="WORKFLOW", help="the workflow file")
    add_format(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    workflow = load_one_workflow(args.workflow, out, args.format)
    if workflow is None:
        return EXIT_PROBLEMS
    from engine.output.describe import describe_workflow, workflow_summary

    if args.format == "json":
        print(json.dumps(workflow_summary(workflow), indent=2), file=out)
    else:
        print(describe_workflow(workflow), file=out)
    return EXIT_OK
