"""`linkflow history`: every event a stored instance received, taken or refused."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK
from linkflow.cli.commands.console import emit_json
from linkflow.cli.commands.store_options import add_store, when, with_store

if TYPE_CHECKING:
    from linkflow.store import Store


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "history",
        help="list the events a stored instance received, taken or refused",
        description="The history of an instance, oldest first; payloads never hold secrets.",
    )
    parser.add_argument("instance", metavar="ID", help="the instance id")
    add_store(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    def body(store: Store) -> int:
        entries = store.history(args.instance)
        if args.format == "json":
            emit_json([e.as_dict() for e in entries], out)
            return EXIT_OK
        for stored in entries:
            entry = stored.entry
            payload = f" {json.dumps(dict(entry.payload))}" if entry.payload else ""
            if entry.refusal is None:
                what = f"{entry.source} -> {entry.target}"
            else:
                rule = f" [{entry.refusal.rule}]" if entry.refusal.rule else ""
                what = f"refused{rule}: {entry.refusal.message}"
            key = f"  (event id {stored.event_id})" if stored.event_id else ""
            line = f"{stored.seq:>5}  {when(entry.time)}  {entry.event}{payload}: {what}{key}"
            print(line, file=out)
        if not entries:
            print("(no events yet)", file=out)
        return EXIT_OK

    return with_store(args, out, "history", body)
