"""What the store commands share: `--store`, opening the store, one-line errors, times.

Every failure the store reports (unknown id, conflict, unreachable or unwritable store, a
schema from a newer linkflow) becomes one line on stderr (and `{"ok": false, "error": ...}`
on stdout with `--format json`) and exit 1; a usage error exits 2. Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from linkflow.cli.commands import EXIT_PROBLEMS, EXIT_USAGE, add_format

if TYPE_CHECKING:
    from linkflow.store import Store


def add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="URL",
        help="where instances are kept: sqlite:///PATH or postgresql://... "
        "(default: $LINKFLOW_STORE, else sqlite:///.linkflow/linkflow.db)",
    )
    add_format(parser)


def fail(command: str, message: str, out: TextIO, fmt: str, code: int = EXIT_PROBLEMS) -> int:
    from linkflow.cli.commands.console import error

    if fmt == "json":
        print(json.dumps({"ok": False, "error": message}), file=out)
    error(command, message)
    return code


def with_store(
    args: argparse.Namespace, out: TextIO, command: str, body: Callable[[Store], int]
) -> int:
    """Open the store named by the arguments, run `body`, and turn every failure into a line."""
    from linkflow.errors import DefinitionError, LinkflowError, UsageError
    from linkflow.store import Store

    try:
        store = Store.open(args.store)
    except UsageError as err:
        return fail(command, str(err), out, args.format, EXIT_USAGE)
    except LinkflowError as err:
        return fail(command, str(err), out, args.format)
    try:
        return body(store)
    except DefinitionError as err:
        from linkflow.cli.commands.output import report_problems

        report_problems(err.problems, out, args.format)
        return EXIT_PROBLEMS
    except UsageError as err:
        return fail(command, str(err), out, args.format, EXIT_USAGE)
    except LinkflowError as err:
        return fail(command, str(err), out, args.format)
    finally:
        store.close()


def when(seconds: float | None) -> str:
    """A stored time as people read it (UTC)."""
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + "Z"
