"""`linkflow start`: a new durable instance of a workflow; prints its id."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_USAGE
from linkflow.cli.commands.console import did_you_mean, emit_json
from linkflow.cli.commands.store_options import add_store, fail, with_store

if TYPE_CHECKING:
    from linkflow.store import Store


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "start",
        help="start a durable instance of a workflow in the store; print its id",
        description="Start an instance in the store. WORKFLOW is a YAML file (stored, with the "
        "workflows it hands off to, as a new definition version when it changed) or the name "
        "of a workflow already stored. With --id, starting again with the same data returns "
        "the same instance; other data under that id is an error.",
    )
    parser.add_argument(
        "workflow",
        metavar="WORKFLOW",
        help="a workflow file, or a workflow's name (looked up in the nearest workflows/ "
        "folder, then in the store)",
    )
    parser.add_argument(
        "--data", metavar="FILE|JSON", help="initial data: a JSON or YAML file, or inline JSON"
    )
    parser.add_argument("--id", metavar="ID", help="the instance id (default: a new random id)")
    add_store(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.run import load_data

    data, problem = load_data(args.data)
    if data is None:
        return fail("start", problem, out, args.format, EXIT_USAGE)

    from linkflow.cli.commands.workflow_args import default_workflows, named_workflow

    target, known = named_workflow(args.workflow)

    def body(store: Store) -> int:
        from linkflow.store import NotFound

        try:
            record = store.start(target, data, instance_id=args.id)
        except NotFound:
            hint = did_you_mean(args.workflow, known) if known else ""
            if not hint:
                raise
            where = default_workflows()
            return fail(
                "start",
                f"no workflow named '{args.workflow}' in {where} or the store{hint}",
                out,
                args.format,
            )
        if args.format == "json":
            emit_json(record.as_dict(), out)
        else:
            print(record.id, file=out)
        return EXIT_OK

    return with_store(args, out, "start", body)
