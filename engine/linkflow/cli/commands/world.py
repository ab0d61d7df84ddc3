"""`linkflow world`: load a world file into the store, or show its records."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK
from linkflow.cli.commands.console import emit_json
from linkflow.cli.commands.store_options import add_store, fail, with_store

if TYPE_CHECKING:
    from linkflow.store import Store


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "world",
        help="load a world file into the store, or show its records",
        description="The world the stored instances act on. `load` imports a world file (each "
        "record replaces the stored record of its key); `show` prints records.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    load = actions.add_parser("load", help="import a world file")
    load.add_argument("file", metavar="FILE", help="a world file")
    add_store(load)
    show = actions.add_parser("show", help="print a collection, or one record of it")
    show.add_argument("collection", metavar="COLLECTION")
    show.add_argument("key", metavar="KEY", nargs="?")
    add_store(show)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    def body(store: Store) -> int:
        if args.action == "load":
            count = store.load_world(args.file)
            if args.format == "json":
                emit_json({"ok": True, "records": count}, out)
            else:
                print(f"loaded {count} records from {args.file}", file=out)
            return EXIT_OK
        records = store.world(args.collection, args.key)
        if args.key is not None and not records:
            what = f"no record '{args.key}' in collection '{args.collection}'"
            return fail("world", what, out, args.format)
        shown: Any = records[args.key] if args.key is not None else records
        if args.format == "json":
            emit_json(shown, out)
        elif not records:
            print(f"(collection '{args.collection}' has no records)", file=out)
        else:
            print(json.dumps(shown, indent=2), file=out)
        return EXIT_OK

    return with_store(args, out, "world", body)
