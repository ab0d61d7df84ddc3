"""One module per `linkflow` command: each has `register(subparsers)` and `run(args, out)`.

Keep these modules light at import time: import heavy libraries inside `run`.
"""

from __future__ import annotations

import argparse

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

#: The commands, in the order `linkflow --help` lists them.
COMMAND_MODULES = [
    "init",
    "validate",
    "run",
    "show",
    "test",
    "render",
    "docs",
    "explore",
    "coverage",
    "generate",
    "mutate",
    "schema",
    "export",
    "import_scxml",
    "start",
    "send",
    "status",
    "history",
    "instances",
    "cancel",
    "terminate",
    "world",
    "timers",
    "feed",
    "webhooks",
    "effects",
    "worker",
    "backup",
    "prune",
    "serve",
    "studio",
]


def add_format(
    parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("text", "json")
) -> None:
    parser.add_argument(
        "--format", choices=choices, default="text", help="output format (default: text)"
    )


def add_scenario_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        default=["tests/scenarios"],
        metavar="PATH",
        help="scenario files or folders (default: tests/scenarios)",
    )


def add_workflow_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="WORKFLOW|FOLDER",
        help="workflow files, folders or workflow names (default: workflows)",
    )
