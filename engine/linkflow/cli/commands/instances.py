"""`linkflow instances`: the stored instances, newest first, with the definition each runs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK
from linkflow.cli.commands.console import emit_json
from linkflow.cli.commands.store_options import add_store, when, with_store

if TYPE_CHECKING:
    from linkflow.store import Store


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "instances",
        help="list stored instances (newest first) with their state and definition version",
        description="List the instances in the store, newest first.",
    )
    parser.add_argument("--workflow", metavar="W", help="only instances of this workflow")
    parser.add_argument("--state", metavar="S", help="only instances in this state")
    parser.add_argument("--outcome", metavar="O", help="only instances that ended so")
    parser.add_argument("--limit", metavar="N", type=int, default=100, help="at most N (100)")
    add_store(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    def body(store: Store) -> int:
        found = store.instances(
            workflow=args.workflow, state=args.state, outcome=args.outcome, limit=args.limit
        )
        if args.format == "json":
            emit_json([r.as_dict() for r in found], out)
            return EXIT_OK
        if not found:
            print("(no instances)", file=out)
            return EXIT_OK
        rows = [("ID", "WORKFLOW", "DEFINITION", "STATE", "OUTCOME", "VERSION", "UPDATED")]
        rows += [
            (
                r.id,
                r.workflow,
                r.definition[:12],
                r.state,
                r.outcome or "-",
                str(r.version),
                when(r.updated),
            )
            for r in found
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out
            )
        return EXIT_OK

    return with_store(args, out, "instances", body)
