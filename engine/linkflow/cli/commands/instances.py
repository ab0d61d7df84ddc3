"""`linkflow instances`: the stored instances, newest first, with the definition each runs.

A page at a time (keyset paging, store/listing.py): when more remain, the last line says how to
go on (`--after CURSOR`; on stderr with `--format json`, so stdout stays one JSON list).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK
from linkflow.cli.commands.console import emit_json
from linkflow.cli.commands.store_options import add_store, when, with_store

if TYPE_CHECKING:
    from linkflow.store import Store
    from linkflow.store.listing import Filters

_DATE = "an ISO 8601 date or date and time, UTC unless it gives an offset"


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "instances",
        help="list stored instances (newest first) with their state and definition version",
        description="List the instances in the store, newest first, a page at a time. Every "
        "filter reads an index; a data filter reads at most 5,000 rows per page (a page may "
        "then be short although more remain: go on with --after). With an --updated-* range "
        "the list is ordered by the time of the last step.",
    )
    parser.add_argument("--workflow", metavar="W", help="only instances of this workflow")
    parser.add_argument(
        "--state",
        metavar="S",
        help="only instances in this state, in a state inside it, or in a parallel state's "
        "configuration holding it (a whole configuration, with +, matches exactly)",
    )
    parser.add_argument("--outcome", metavar="O", help="only instances that ended so")
    parser.add_argument("--created-from", metavar="DATE", help=f"created at or after ({_DATE})")
    parser.add_argument("--created-to", metavar="DATE", help="created before DATE")
    parser.add_argument("--updated-from", metavar="DATE", help="last step at or after DATE")
    parser.add_argument("--updated-to", metavar="DATE", help="last step before DATE")
    parser.add_argument(
        "--data",
        metavar="FIELD=VALUE",
        action="append",
        default=[],
        help="only instances whose data field equals VALUE (a JSON scalar, else the text); "
        "FIELD may be a dotted path; repeat for several",
    )
    parser.add_argument("--limit", metavar="N", type=int, default=100, help="at most N (100)")
    parser.add_argument(
        "--after", metavar="CURSOR", help="go on after a page: the cursor the page before named"
    )
    add_store(parser)
    return parser


def filters_of(args: argparse.Namespace) -> Filters:
    """The listing filters the arguments name (UsageError for a bad date or data filter)."""
    from linkflow.store.listing import Filters, data_condition
    from linkflow.store.maintenance import parse_date

    times = {}
    for name in ("created_from", "created_to", "updated_from", "updated_to"):
        raw = getattr(args, name)
        times[name] = None if raw is None else parse_date(raw)
    data = dict(data_condition(text) for text in args.data)
    return Filters(
        workflow=args.workflow, state=args.state, outcome=args.outcome, data=data, **times
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    def body(store: Store) -> int:
        from linkflow.errors import UsageError
        from linkflow.store.listing import decode_cursor, encode_cursor

        if args.limit < 1:
            raise UsageError("--limit must be 1 or more")
        after = None if args.after is None else decode_cursor(args.after)
        page = store.page(filters_of(args), limit=args.limit, after=after)
        found = page.records
        more = None if page.after is None else encode_cursor(page.after)
        if args.format == "json":
            emit_json([r.as_dict() for r in found], out)
            if more is not None:
                print(f"more instances: go on with --after {more}", file=sys.stderr)
            return EXIT_OK
        if not found:
            print("(no instances)" if more is None else "(none on this page)", file=out)
        else:
            _table(found, out)
        if more is not None:
            print(f"more instances: go on with --after {more}", file=out)
        return EXIT_OK

    return with_store(args, out, "instances", body)


def _table(found: list[Any], out: TextIO) -> None:
    rows = [("ID", "WORKFLOW", "DEFINITION", "STATE", "OUTCOME", "VERSION", "UPDATED")]
    rows += [
        (
            r.id,
            r.workflow,
            r.definition[:12],
            r.state,
            r.outcome or "-",
            str(r.version),
            when(r.updated),
        )
        for r in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)
