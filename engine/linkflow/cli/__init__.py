"""The `linkflow` command: parse arguments, call the library, return an exit code.

Exit codes: 0 success, 1 problems found (invalid files, refused events, failed scenarios),
2 usage errors. Each command lives in its own module under `linkflow.cli.commands`; those modules
import heavy libraries only inside `run`, so `linkflow --help` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from linkflow.cli.commands import COMMAND_MODULES, EXIT_USAGE
from linkflow.cli.commands.console import did_you_mean, error


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - importlib.metadata (~100 ms): only --version needs it

    try:
        return version("linkflow")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


class _Version(argparse.Action):
    """`--version`, looked up only when asked for: importlib.metadata would otherwise be
    imported by every command, a large share of `linkflow --help`'s start-up."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show the version"
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"linkflow {_version()}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit with 2 and a hint, never a traceback."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n(see '{self.prog} --help')\n")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = _Parser(
        prog="linkflow",
        description="Validate, run, test and inspect declarative YAML workflows.",
        epilog="Exit codes: 0 ok, 1 problems found (or events refused, scenarios failed), "
        "2 usage error.",
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    handlers: dict[str, Any] = {}
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"linkflow.cli.commands.{module_name}")
        sub = module.register(commands)
        handlers[sub.prog.split()[-1]] = module.run
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if words and not words[0].startswith("-") and words[0] not in handlers:
        hint = did_you_mean(words[0], handlers) or f" (commands: {', '.join(handlers)})"
        error("", f"unknown command '{words[0]}'{hint}")
        return EXIT_USAGE
    args = parser.parse_args(words)
    from linkflow.cli.commands.extras import install_hint, missing_for  # noqa: PLC0415 - extras: only a command that runs needs it; `--help` exits in parse_args before

    missing = missing_for(args.command)
    if missing is not None:
        error(args.command, missing)
        return EXIT_USAGE
    try:
        code: int = handlers[args.command](args, sys.stdout)
    except ModuleNotFoundError as err:  # an extra's module, reached late (a postgresql:// URL)
        missing = install_hint(args.command, err.name or "")
        if missing is None:
            raise

        error(args.command, missing)
        return EXIT_USAGE
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    return code
