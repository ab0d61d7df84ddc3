"""What `linkflow cancel` and `linkflow terminate` share: the operator's name, the version
check, and one line (or one JSON document) for the step (store/operator.py says what each does).
"""

from __future__ import annotations

import argparse
import getpass
from typing import TYPE_CHECKING, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS
from linkflow.cli.commands.console import emit_json
from linkflow.cli.commands.store_options import add_store, with_store

if TYPE_CHECKING:
    from linkflow.store import Sent, Store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instance", metavar="ID", help="the instance id")
    parser.add_argument(
        "--operator",
        metavar="NAME",
        help="who does it, recorded in history (default: your user name on this machine)",
    )
    parser.add_argument(
        "--expect-version",
        metavar="N",
        type=int,
        help="refuse (conflict) unless the instance is still at this version",
    )
    add_store(parser)


def operator_of(args: argparse.Namespace) -> str:
    if args.operator is not None:
        return str(args.operator)
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name known to the system
        return "cli user"


def run_action(args: argparse.Namespace, out: TextIO, action: str) -> int:
    def body(store: Store) -> int:
        by = operator_of(args)
        sent: Sent
        if action == "cancel":
            sent = store.cancel(args.instance, by=by, via="cli", expect_version=args.expect_version)
        else:
            sent = store.terminate(
                args.instance,
                by=by,
                via="cli",
                reason=args.reason,
                expect_version=args.expect_version,
            )
        if args.format == "json":
            emit_json(sent.as_dict(), out)
        elif sent.step.accepted:
            outcome = f" ({sent.instance.outcome})" if sent.instance.outcome else ""
            print(
                f"{action} {args.instance} by {by}: {sent.step.event} {sent.step.source} -> "
                f"{sent.step.target}{outcome}",
                file=out,
            )
        else:
            refusal = sent.step.refusal
            said = refusal.message if refusal is not None else "refused"
            print(f"{action} {args.instance} refused: {said}", file=out)
        return EXIT_OK if sent.step.accepted else EXIT_PROBLEMS

    return with_store(args, out, action, body)
