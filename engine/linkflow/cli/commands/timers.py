"""`linkflow timers run`: fire every timeout that is due, once each, across processes."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK
from linkflow.cli.commands.store_options import add_store, when, with_store

if TYPE_CHECKING:
    from linkflow.store import Sent, Store


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "timers",
        help="fire the timeouts of waiting instances when they come due",
        description="Fire due timeouts. Each fires exactly once, even with several timer "
        "processes on PostgreSQL; a timeout is stamped with its due time, so a chain of waits "
        "counts each from when its state was entered, and what came due while no timer ran "
        "fires on the next run.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    run_ = actions.add_parser("run", help="fire what is due")
    mode = run_.add_mutually_exclusive_group()
    mode.add_argument(
        "--until-idle",
        action="store_true",
        help="fire everything due now, then exit (the default)",
    )
    mode.add_argument(
        "--forever", action="store_true", help="keep firing timeouts as they come due"
    )
    run_.add_argument(
        "--interval",
        metavar="SECONDS",
        type=float,
        default=1.0,
        help="with --forever: the longest sleep between checks (default 1)",
    )
    add_store(run_)
    return parser


def _print(fired: list[Sent], out: TextIO, fmt: str) -> None:
    import json

    for sent in fired:
        if fmt == "json":
            print(json.dumps(sent.as_dict(), default=str), file=out)
        else:
            step = sent.step
            result = f"{step.source} -> {step.target}" if step.accepted else "refused"
            due = when(sent.instance.entered if step.accepted else None)
            print(
                f"{sent.instance.id} ({sent.instance.workflow}) timed out at {due}: {result}",
                file=out,
            )
    out.flush()


def run(args: argparse.Namespace, out: TextIO) -> int:
    def body(store: Store) -> int:
        if not args.forever:
            fired = store.fire_due()
            _print(fired, out, args.format)
            if args.format != "json" and not fired:
                print("nothing due", file=out)
            return EXIT_OK
        try:
            while True:
                _print(store.fire_due(), out, args.format)
                upcoming = store.next_due()
                wait = args.interval if upcoming is None else upcoming - store.clock()
                time.sleep(min(max(wait, 0.01), args.interval))
        except KeyboardInterrupt:
            return EXIT_OK

    return with_store(args, out, "timers", body)
