"""`linkflow feed`: the change feed, every accepted step in commit order, from a number on."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK
from linkflow.cli.commands.store_options import add_store, when, with_store

if TYPE_CHECKING:
    from linkflow.store import FeedEntry, Store


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "feed",
        help="print the change feed: every accepted step, numbered in commit order",
        description="Print accepted steps numbered above --after, one a line (JSON lines with "
        "--format json). Resume from the last number seen: none is missed or repeated. Without "
        "--follow it prints one page (--limit) and, when more entries remain, says how to go "
        "on (on stderr with --format json).",
    )
    parser.add_argument(
        "--after", metavar="N", type=int, default=0, help="start after this number (0)"
    )
    parser.add_argument(
        "--limit",
        metavar="N",
        type=int,
        default=1000,
        help="without --follow: at most N entries (default 1000)",
    )
    parser.add_argument("--follow", action="store_true", help="keep printing new steps")
    parser.add_argument(
        "--interval",
        metavar="SECONDS",
        type=float,
        default=0.5,
        help="with --follow: how often to look for new steps (default 0.5)",
    )
    add_store(parser)
    return parser


def _line(entry: FeedEntry, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(entry.as_dict())
    ending = f" ({entry.outcome})" if entry.outcome else ""
    return (
        f"{entry.seq:>6}  {when(entry.time)}  {entry.instance} {entry.workflow}: "
        f"{entry.event} {entry.source} -> {entry.target}{ending}"
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    def body(store: Store) -> int:
        from linkflow.errors import UsageError

        if args.limit < 1:
            raise UsageError("--limit must be 1 or more")
        if args.after < 0:
            raise UsageError("--after must be a feed number, 0 or more")
        if not args.follow:
            return _one_page(store, args, out)
        after = args.after
        try:
            while True:
                entries = store.feed(after)
                for entry in entries:
                    print(_line(entry, args.format), file=out)
                    after = entry.seq
                out.flush()
                if len(entries) < 1000:
                    time.sleep(args.interval)
        except KeyboardInterrupt:
            return EXIT_OK

    return with_store(args, out, "feed", body)


def _one_page(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    """Up to --limit entries; one more is read to know whether any remain."""
    entries = store.feed(args.after, args.limit + 1)
    page = entries[: args.limit]
    for entry in page:
        print(_line(entry, args.format), file=out)
    if len(entries) > args.limit:
        note = f"more entries: go on with --after {page[-1].seq}"
        print(note, file=sys.stderr if args.format == "json" else out)
    return EXIT_OK
