"""`linkflow effects list|show|retry`: the calls steps caused, and what became of them."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_USAGE
from linkflow.cli.commands.console import emit_json
from linkflow.cli.commands.store_options import add_store, fail, when, with_store

if TYPE_CHECKING:
    from linkflow.store import Store

#: Every status (store/outbox.py; repeated here so `--help` needs no store import).
STATUSES = ("pending", "running", "done", "failed", "late", "dead", "cancelled")


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "effects",
        help="list the calls steps caused (the outbox), show one, retry a dead one",
        description="A step that invokes a service or notifies one writes the call to the "
        "outbox in its own transaction; `linkflow worker` (or `linkflow serve`) performs it. "
        "Statuses: pending, running, done, failed, late (answered after the instance left "
        "the state), dead (attempts ran out), cancelled (never made: the instance moved on).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser("list", help="effects, newest first, with the counts")
    listing.add_argument("--status", choices=STATUSES, help="only effects with this status")
    listing.add_argument("--instance", metavar="ID", help="only this instance's effects")
    listing.add_argument(
        "--limit", type=int, default=50, metavar="N", help="at most N (default 50)"
    )
    add_store(listing)
    show = actions.add_parser("show", help="one effect: its call, attempts, last error, result")
    show.add_argument("id", metavar="ID")
    add_store(show)
    retry = actions.add_parser("retry", help="put a dead or failed effect back to pending")
    retry.add_argument("id", metavar="ID")
    add_store(retry)
    return parser


def _line(row: dict[str, Any]) -> str:
    tries = f"{row['attempts']}/{row['max_attempts']}"
    return (
        f"{row['id']}  {row['status']:<9} {row['kind']:<10} {row['name']}  "
        f"instance {row['instance']}  attempts {tries}  {when(row['created'])}"
    )


def _list(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.store.outbox import Outbox

    if args.limit < 1:
        return fail("effects list", "--limit must be 1 or more", out, args.format, EXIT_USAGE)
    outbox = Outbox(store)
    page = outbox.page(status=args.status, instance=args.instance, limit=args.limit)
    counts = outbox.counts()
    rows = [e.as_dict() for e in page.effects]
    if args.format == "json":
        emit_json({"counts": counts, "effects": rows, "more": page.next is not None}, out)
        return EXIT_OK
    print(
        f"pending {counts['pending']} (retrying {counts['retrying']}), running "
        f"{counts['running']}, dead {counts['dead']}, failed {counts['failed']}, done "
        f"{counts['done']}, late {counts['late']}, cancelled {counts['cancelled']}",
        file=out,
    )
    for row in rows:
        print(_line(row), file=out)
    if not rows:
        print("no effects", file=out)
    elif page.next is not None:
        print(f"(more: raise --limit above {args.limit})", file=out)
    return EXIT_OK


def _show(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.store.outbox import Outbox

    row = Outbox(store).get(args.id).as_dict()
    if args.format == "json":
        emit_json(row, out)
        return EXIT_OK
    print(_line(row), file=out)
    print(f"  call       {row['method']} {row['url']} (service {row['service']})", file=out)
    if row["state"]:
        print(f"  state      {row['state']}", file=out)
    print(f"  key        {row['idempotency_key']}", file=out)
    if row["status"] == "pending":
        print(f"  due        {when(row['due'])}", file=out)
    if row["last_error"]:
        print(f"  last error {row['last_error']}", file=out)
    if row["result"] is not None:
        print(f"  result     {json.dumps(row['result'], sort_keys=True)}", file=out)
    return EXIT_OK


def _retry(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.store.outbox import Outbox

    effect = Outbox(store).retry(args.id)
    if args.format == "json":
        emit_json(effect.as_dict(), out)
    else:
        print(f"{effect.id} is pending again (attempts start over)", file=out)
    return EXIT_OK


ACTIONS = {"list": _list, "show": _show, "retry": _retry}


def run(args: argparse.Namespace, out: TextIO) -> int:
    return with_store(
        args, out, f"effects {args.action}", lambda store: ACTIONS[args.action](store, args, out)
    )
