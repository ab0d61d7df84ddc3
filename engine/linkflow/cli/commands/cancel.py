"""`linkflow cancel`: an operator cancels a stored instance through its workflow's own path to
a cancelled end (refused with the reason when it has none from the current state)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from linkflow.cli.commands.operator_action import add_arguments, run_action


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "cancel",
        help="cancel a stored instance the workflow's own way (an operator action)",
        description="Take the workflow's own way from the instance's state to a cancelled end "
        "(its guards apply). Refused, with the reason and nothing written, when the workflow "
        "has no such way from there or the instance already ended; `terminate` ends it "
        "regardless. Recorded in history as an operator action with --operator.",
    )
    add_arguments(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    return run_action(args, out, "cancel")
