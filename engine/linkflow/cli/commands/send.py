"""`linkflow send`: one event to a stored instance, in one transaction; prints the step."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from linkflow.cli.commands.console import emit_json
from linkflow.cli.commands.store_options import add_store, fail, with_store

if TYPE_CHECKING:
    from linkflow.store import Store


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "send",
        help="send one event to a stored instance and print the step",
        description="Send an event to an instance in the store. When the instance handed off, "
        "the event goes to the instance that runs its chain now (as `status` shows it), and "
        "the answer names the instance that took it. Exits 1 when it is refused (the refusal "
        "names the guard and rule). With --event-id, sending again returns the recorded step "
        "and applies nothing.",
    )
    parser.add_argument("instance", metavar="ID", help="the instance id (or its session's)")
    parser.add_argument("event", metavar="EVENT[=JSON]", help="the event, with its payload")
    parser.add_argument("--event-id", metavar="KEY", help="an idempotency key for this event")
    parser.add_argument(
        "--expect-version",
        metavar="N",
        type=int,
        help="refuse (conflict) unless the instance is still at this version",
    )
    parser.add_argument("--current", action="store_true", help=argparse.SUPPRESS)
    add_store(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.run import format_step, parse_event

    try:
        event, payload = parse_event(args.event)
    except ValueError as err:
        return fail("send", str(err), out, args.format, EXIT_USAGE)

    def body(store: Store) -> int:
        target = store.delivery_target(args.instance, args.event_id)
        sent = store.send(
            target,
            event,
            payload,
            event_id=args.event_id,
            expect_version=args.expect_version,
        )
        if args.format == "json":
            emit_json(sent.as_dict(), out)
        else:
            again = " (already sent with this event id: nothing applied)" if sent.replayed else ""
            if sent.instance.id != args.instance:
                print(f"{args.instance} handed off; taken by {sent.instance.id}", file=out)
            print(f"{format_step(sent.step)}{again}", file=out)
            if sent.handed_to is not None:
                handed = sent.handed_to
                print(f"-> hands over to workflow '{handed.workflow}': {handed.id}", file=out)
        return EXIT_OK if sent.step.accepted else EXIT_PROBLEMS

    return with_store(args, out, "send", body)
