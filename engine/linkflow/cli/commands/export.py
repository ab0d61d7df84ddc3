"""`linkflow export`: a workflow as an XState v5 machine config (JSON) or an SCXML document."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE

FORMATS = ("xstate", "scxml")


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "export",
        help="write a workflow as an XState v5 machine config (JSON) or an SCXML document",
        description="Write one workflow in another statechart format: xstate (an XState v5 "
        "machine config, JSON, for createMachine) or scxml (a W3C SCXML 1.0 document). The "
        "output is deterministic. A workflow's service calls are written too (XState: invoke "
        "with onDone/onError and a linkflow.notify action; SCXML: an invoke and a send "
        "of type http), by the services' names only: the services file is not exported. What maps "
        "to what: docs/interop.md.",
    )
    parser.add_argument("--format", choices=FORMATS, required=True, help="the format to write")
    parser.add_argument("workflow", metavar="WORKFLOW", help="a workflow file or name")
    parser.add_argument(
        "-o", "--out", metavar="FILE", help="write to FILE (default: standard output)"
    )
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.console import deliver, error
    from linkflow.cli.commands.output import load_one_workflow
    from linkflow.cli.commands.workflow_args import workflow_path

    path = workflow_path(args.workflow, "export")
    if path is None:
        return EXIT_USAGE
    if Path(path).is_dir():
        error("export", f"{path} is a folder: export takes one workflow file or name")
        return EXIT_USAGE
    workflow = load_one_workflow(path, out, "text")
    if workflow is None:
        return EXIT_PROBLEMS
    if args.format == "scxml":
        from linkflow.interop.scxml_effects import export_problem

        problem = export_problem(workflow)  # an invoke named like a state: ids are unique
        if problem:
            error("export", problem)
            return EXIT_PROBLEMS
    if args.format == "xstate":
        from linkflow.interop.xstate import xstate_json

        text = xstate_json(workflow)
    else:
        from linkflow.interop.scxml_export import scxml_text

        text = scxml_text(workflow)
    return EXIT_OK if deliver("export", text, args.out, out) else EXIT_USAGE
