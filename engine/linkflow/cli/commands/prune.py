"""`linkflow prune`: delete finished instances that finished before a date, in batches."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK
from linkflow.cli.commands.store_options import add_store, with_store

if TYPE_CHECKING:
    from linkflow.store import Store


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "prune",
        help="delete finished instances that finished before a date",
        description="Delete every finished instance that finished before DATE, with its "
        "history and recorded event-id answers, when every instance of its handoff chain "
        "finished before DATE too; running instances are never touched. One transaction per "
        "batch. Change-feed entries are kept: `feed --after N` reads the same before and "
        "after. See docs/operations.md.",
    )
    parser.add_argument(
        "--finished-before",
        metavar="DATE",
        required=True,
        help="an ISO 8601 date or date and time, UTC unless it gives an offset "
        "(2026-01-31, 2026-01-31T12:00:00Z)",
    )
    parser.add_argument(
        "--batch",
        metavar="N",
        type=int,
        default=1000,
        help="instances deleted per transaction (default 1000)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted; delete nothing"
    )
    add_store(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.store.maintenance import parse_date, prune

    def body(store: Store) -> int:
        before = parse_date(args.finished_before)
        result = prune(store, before, batch=args.batch, dry_run=args.dry_run)
        if args.format == "json":
            print(
                json.dumps(
                    {
                        "ok": True,
                        "dry_run": result.dry_run,
                        "instances": result.instances,
                        "batches": result.batches,
                        "seconds": round(result.seconds, 3),
                    }
                ),
                file=out,
            )
        elif result.dry_run:
            print(f"would delete {result.instances} finished instances", file=out)
        else:
            print(
                f"deleted {result.instances} finished instances in {result.batches} "
                f"transactions ({result.seconds:.2f} s)",
                file=out,
            )
        return EXIT_OK

    return with_store(args, out, "prune", body)
