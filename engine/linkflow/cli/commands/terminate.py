"""`linkflow terminate`: an operator ends a stored instance now (outcome `terminated`, its
timer stopped, no action run), whatever its workflow says."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from linkflow.cli.commands.operator_action import add_arguments, run_action


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "terminate",
        help="end a stored instance now with outcome terminated (an operator action)",
        description="End the instance now: outcome `terminated`, state left as it was, its "
        "timer stopped, no action run, no handoff. Refused when it already ended. Recorded "
        "in history and the feed as an operator action with --operator and --reason.",
    )
    add_arguments(parser)
    parser.add_argument("--reason", metavar="TEXT", help="why, recorded in history")
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    return run_action(args, out, "terminate")
