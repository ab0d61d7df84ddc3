"""`linkflow webhooks add|list|remove|retry|run`: signed webhooks out of the change feed."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_USAGE
from linkflow.cli.commands.store_options import add_store, fail, when, with_store

if TYPE_CHECKING:
    from linkflow.store import Store
    from linkflow.store.webhooks import Webhooks

PATTERNS_HELP = (
    "feed entries to send: '*' (all), workflow:GLOB, event:GLOB, outcome:GLOB (entries that end "
    "their instance), or a bare GLOB (the event name); an entry matching any pattern is sent"
)


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "webhooks",
        help="send change-feed entries to subscribers as signed webhooks",
        description="Subscribers receive the change feed's entries that match their patterns, "
        "POSTed as JSON signed by the Standard Webhooks scheme, in order per instance, retried "
        "with backoff and dead-lettered after a bounded number of attempts. The signing secret "
        "stays in the file the subscriber names; the store keeps only its path.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    add = actions.add_parser("add", help="add a subscriber")
    add.add_argument("url", metavar="URL", help="where entries are POSTed (http:// or https://)")
    add.add_argument("--events", nargs="+", required=True, metavar="PATTERN", help=PATTERNS_HELP)
    add.add_argument(
        "--secret-file",
        required=True,
        metavar="FILE",
        help="the file holding the signing secret ('whsec_' + base64); read at each delivery",
    )
    add.add_argument(
        "--after",
        type=int,
        metavar="SEQ",
        help="send the entries after this feed number (default: from now on)",
    )
    add_store(add)
    listing = actions.add_parser("list", help="list subscribers with their delivery state")
    add_store(listing)
    remove = actions.add_parser("remove", help="remove a subscriber and its deliveries")
    remove.add_argument("id", metavar="ID")
    add_store(remove)
    dead = actions.add_parser("dead", help="list a subscriber's dead deliveries and why")
    dead.add_argument("id", metavar="ID")
    add_store(dead)
    retry = actions.add_parser("retry", help="requeue a subscriber's dead deliveries")
    retry.add_argument("id", metavar="ID")
    add_store(retry)
    run_ = actions.add_parser("run", help="deliver (the service also does, in-process)")
    mode = run_.add_mutually_exclusive_group()
    mode.add_argument(
        "--until-idle",
        action="store_true",
        help="deliver until nothing is pending, then exit (the default)",
    )
    mode.add_argument("--forever", action="store_true", help="keep delivering as entries come")
    run_.add_argument("--attempts", type=int, default=8, help="attempts before dead (default 8)")
    run_.add_argument(
        "--backoff",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="the first retry's delay, doubled each time up to --max-delay (default 1)",
    )
    run_.add_argument("--max-delay", type=float, default=300.0, metavar="SECONDS")
    run_.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS")
    run_.add_argument("--concurrency", type=int, default=16, metavar="N")
    run_.add_argument(
        "--lease",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long another deliverer waits before taking over a stopped one's subscribers",
    )
    run_.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="the longest sleep between looks at the feed (default 1)",
    )
    add_store(run_)
    return parser


def _print_subscriber(row: dict[str, Any], out: TextIO) -> None:
    last = row["last_delivered"]
    print(
        f"{row['id']}  {row['url']}  events: {' '.join(row['events'])}\n"
        f"  delivered {row['delivered']} (last feed entry {'-' if last is None else last}), "
        f"pending {row['pending']}, retrying {row['retrying']}, dead {row['dead']}, "
        f"read up to feed entry {row['scanned']}, since {when(row['created'])}",
        file=out,
    )
    if row["last_error"]:
        print(f"  last error: {row['last_error']}", file=out)


def _policy(args: argparse.Namespace) -> Any:
    from linkflow.effects.webhooks import Policy

    numbers = {
        "--attempts": args.attempts,
        "--concurrency": args.concurrency,
        "--backoff": args.backoff,
        "--max-delay": args.max_delay,
        "--timeout": args.timeout,
        "--lease": args.lease,
        "--interval": args.interval,
    }
    for name, value in numbers.items():
        if not value > 0:
            raise ValueError(f"{name} must be more than 0 (got {value})")
    return Policy(
        attempts=args.attempts,
        backoff=args.backoff,
        max_delay=args.max_delay,
        timeout=args.timeout,
        concurrency=args.concurrency,
        lease=args.lease,
    )


def _add(hooks: Webhooks, args: argparse.Namespace, out: TextIO) -> None:
    from linkflow.effects.webhooks import check_secret_file

    path = check_secret_file(args.secret_file)
    added = hooks.add(args.url, args.events, path, after=args.after)
    if args.format == "json":
        print(json.dumps(added.as_dict()), file=out)
    else:
        print(f"added {added.id}: {added.url} (from feed entry {added.scanned})", file=out)


def _list(hooks: Webhooks, args: argparse.Namespace, out: TextIO) -> None:
    rows = [s.as_dict() for s in hooks.subscribers()]
    if args.format == "json":
        print(json.dumps({"webhooks": rows}), file=out)
        return
    for row in rows:
        _print_subscriber(row, out)
    if not rows:
        print("no webhook subscribers", file=out)


def _remove(hooks: Webhooks, args: argparse.Namespace, out: TextIO) -> None:
    hooks.remove(args.id)
    text = json.dumps({"removed": args.id}) if args.format == "json" else f"removed {args.id}"
    print(text, file=out)


def _dead(hooks: Webhooks, args: argparse.Namespace, out: TextIO) -> None:
    rows = hooks.dead(args.id)
    if args.format == "json":
        print(json.dumps({"id": args.id, "dead": rows}), file=out)
        return
    for row in rows:
        print(
            f"feed entry {row['seq']} (instance {row['instance']}), "
            f"{row['attempts']} attempts: {row['last_error']}",
            file=out,
        )
    if not rows:
        print(f"no dead deliveries for {args.id}", file=out)


def _retry(hooks: Webhooks, args: argparse.Namespace, out: TextIO) -> None:
    count = hooks.retry(args.id)
    if args.format == "json":
        print(json.dumps({"id": args.id, "requeued": count}), file=out)
    else:
        print(f"requeued {count} dead deliveries of {args.id}", file=out)


ACTIONS = {"add": _add, "list": _list, "remove": _remove, "dead": _dead, "retry": _retry}


def run(args: argparse.Namespace, out: TextIO) -> int:
    if args.action == "run":
        try:
            policy = _policy(args)
        except ValueError as err:
            return fail("webhooks run", str(err), out, args.format, EXIT_USAGE)

    def body(store: Store) -> int:
        from linkflow.store.webhooks import Webhooks

        if args.action == "run":
            return _deliver(store, policy, args, out)
        ACTIONS[args.action](Webhooks(store), args, out)
        return EXIT_OK

    return with_store(args, out, f"webhooks {args.action}", body)


def _deliver(store: Store, policy: Any, args: argparse.Namespace, out: TextIO) -> int:
    import asyncio
    import logging

    from linkflow.effects.webhooks import Deliverer

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # httpx logs every request with its URL at INFO: the failures are what an operator needs
    logging.getLogger("httpx").setLevel(logging.WARNING)
    deliverer = Deliverer(store, policy)
    try:
        counts = asyncio.run(deliverer.run(until_idle=not args.forever, poll=args.interval))
    except KeyboardInterrupt:
        counts = dict(deliverer.counts)
    if args.format == "json":
        print(json.dumps(counts), file=out)
    else:
        print(
            f"delivered {counts['delivered']}, failed attempts {counts['failed']}, "
            f"dead {counts['dead']}",
            file=out,
        )
    return EXIT_OK
