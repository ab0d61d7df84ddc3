"""`linkflow worker`: perform the effects steps wrote to the outbox, until stopped."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_USAGE
from linkflow.cli.commands.store_options import add_store, fail, with_store

if TYPE_CHECKING:
    from linkflow.effects.worker import Options
    from linkflow.store import Store


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "worker",
        help="perform the calls steps caused (invoke, notify), until stopped",
        description="Claims due effects from the store's outbox with a lease, performs them "
        "over HTTP (with an Idempotency-Key, retries with backoff), and gives each invoke's "
        "answer back to its instance as an event. Several workers may share a PostgreSQL "
        "store. SIGTERM or SIGINT stops it cleanly: calls in flight finish first. "
        "`linkflow serve` runs one in-process unless given --no-effects.",
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, metavar="N", help="calls at once (default 32)"
    )
    parser.add_argument(
        "--lease",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a claim lasts before another worker may take it over (default 30)",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="the longest sleep between looks at the outbox (default 1)",
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="perform what is due now, then exit (a retry due later stays pending)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="one line per attempt on stderr, as text or JSON (default: text)",
    )
    add_store(parser)
    return parser


def _options(args: argparse.Namespace) -> Options:
    from linkflow.effects.worker import Options

    return Options(concurrency=args.concurrency, lease=args.lease, poll=args.poll).check()


def run(args: argparse.Namespace, out: TextIO) -> int:
    try:
        options = _options(args)
    except ValueError as err:
        return fail("worker", str(err), out, args.format, EXIT_USAGE)
    return with_store(args, out, "worker", lambda store: _work(store, options, args, out))


def _work(store: Store, options: Options, args: argparse.Namespace, out: TextIO) -> int:
    import asyncio
    import signal

    from linkflow.effects.worker import Worker
    from linkflow.service.request_log import configure_logging

    configure_logging(args.log_format)
    worker = Worker(store, options)

    async def main() -> dict[str, int]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop.set)
        return await worker.run(once=args.once, stop=stop)

    counts = asyncio.run(main())
    counts["attempts"] = worker.attempts
    if args.format == "json":
        print(json.dumps(counts), file=out)
    else:
        print(
            f"attempts {counts['attempts']}: done {counts['done']}, failed {counts['failed']}, "
            f"late {counts['late']}, dead {counts['dead']}, cancelled {counts['cancelled']}, "
            f"to retry {counts['retried']}",
            file=out,
        )
    return EXIT_OK
