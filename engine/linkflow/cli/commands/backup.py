"""`linkflow backup`: a consistent copy of a SQLite store while the service goes on writing.

A PostgreSQL store is backed up with the server's own tools: the command says which, with the
command lines to run, and exits 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from linkflow.cli.commands.store_options import add_store, fail


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "backup",
        help="copy a SQLite store to a file while it is in use",
        description="Copy a SQLite store to FILE with SQLite's online backup API: the copy "
        "holds every commit made before it began and none after, while the service goes on "
        "writing; it is checked (PRAGMA integrity_check) before it takes FILE's name. For a "
        "PostgreSQL store, prints the pg_dump and pg_basebackup command lines and exits 2. "
        "Restore: stop the service, put the copy in the store's place (or point --store at "
        "it). See docs/operations.md.",
    )
    parser.add_argument("file", metavar="FILE", help="where to write the copy")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    add_store(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.errors import LinkflowError, UsageError
    from linkflow.store.maintenance import backup_sqlite, postgres_commands
    from linkflow.store.url import parse, resolve

    try:
        url = parse(resolve(args.store))
    except UsageError as err:
        return fail("backup", str(err), out, args.format, EXIT_USAGE)
    if url.backend != "sqlite":
        commands = postgres_commands(url, args.file)
        message = (
            "linkflow backs up SQLite stores only; back up PostgreSQL with its own tools, "
            "a logical dump or a physical base backup:\n  " + "\n  ".join(commands)
        )
        if args.format == "json":
            print(json.dumps({"ok": False, "error": message, "commands": commands}), file=out)
        from linkflow.cli.commands.console import error

        error("backup", message)
        return EXIT_USAGE
    try:
        result = backup_sqlite(url.path, Path(args.file), force=args.force)
    except UsageError as err:
        return fail("backup", str(err), out, args.format, EXIT_USAGE)
    except LinkflowError as err:
        return fail("backup", str(err), out, args.format, EXIT_PROBLEMS)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "ok": True,
                    "file": str(result.path),
                    "bytes": result.bytes,
                    "seconds": round(result.seconds, 3),
                }
            ),
            file=out,
        )
    else:
        print(
            f"backed up {url.path} to {result.path} ({result.bytes} bytes, "
            f"{result.seconds:.2f} s); integrity check ok",
            file=out,
        )
    return EXIT_OK
