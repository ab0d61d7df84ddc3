"""`linkflow status`: where a stored instance is, following its handoffs to the current one."""

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
        "status",
        help="show a stored instance: state, data, outcome, what can be sent now",
        description="Show an instance; when it handed off, the instance that took over. "
        "Lists every event with whether it can be sent now, and why not (with the rule).",
    )
    parser.add_argument("instance", metavar="ID", help="the instance id (or its session's)")
    add_store(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    def body(store: Store) -> int:
        from linkflow.store.outbox import Outbox

        record = store.current(args.instance)
        options = store.available(record.id)
        effects = Outbox(store).counts(record.id)
        if args.format == "json":
            report = record.as_dict()
            report["effects"] = effects
            report["asked_for"] = args.instance
            report["events"] = [
                {"event": o.event, "available": o.available, "reason": o.reason, "rule": o.rule}
                for o in options
            ]
            emit_json(report, out)
            return EXIT_OK
        if record.id != args.instance:
            print(f"{args.instance} handed off; now in {record.id}", file=out)
        ending = f" ({record.outcome})" if record.outcome else ""
        print(f"instance   {record.id}", file=out)
        print(f"workflow   {record.workflow} (definition {record.definition[:12]})", file=out)
        print(f"state      {record.state}{ending}   version {record.version}", file=out)
        print(f"updated    {when(record.updated)}", file=out)
        if record.due is not None:
            print(f"times out  {when(record.due)}", file=out)
        print(f"data       {json.dumps(dict(record.data))}", file=out)
        if any(effects.values()):
            print(
                f"effects    pending {effects['pending']} (retrying {effects['retrying']}), "
                f"running {effects['running']}, dead {effects['dead']}, failed "
                f"{effects['failed']}, done {effects['done']}, late {effects['late']}",
                file=out,
            )
        if not record.finished:
            print("events", file=out)
            for option in options:
                if option.available is False and option.reason.startswith("not accepted in"):
                    continue  # other states' events are noise here
                mark = {True: "yes", False: "no ", None: "?  "}[option.available]
                rule = f" [{option.rule}]" if option.rule else ""
                said = f": {option.reason}{rule}" if option.reason or rule else ""
                print(f"  {mark} {option.event}{said}", file=out)
        return EXIT_OK

    return with_store(args, out, "status", body)
