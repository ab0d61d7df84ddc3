"""`linkflow validate`: check definition files and report every problem, located."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from engine.cli.commands import EXIT_OK, EXIT_PROBLEMS, add_format
from engine.cli.commands.output import print_problems


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "validate",
        help="check workflow and world files; report every problem as file:line:column",
        description="Check workflow and world files. Every problem of every file is reported.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        default=["workflows"],
        metavar="PATH",
        help="files or folders (default: workflows)",
    )
    add_format(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from engine.language.loader import load

    result = load(args.paths)
    if args.format == "json":
        report = {
            "ok": result.ok,
            "files": len(result.files),
            "problems": [p.as_dict() for p in result.problems],
        }
        print(json.dumps(report, indent=2), file=out)
    else:
        print_problems(result.problems, out)
        files = len(result.files)
        noun = "file" if files == 1 else "files"
        if result.ok:
            print(f"ok: {files} {noun} valid", file=out)
        else:
            count = len(result.problems)
            print(f"{count} problem{'s' if count != 1 else ''} in {files} {noun}", file=out)
    return EXIT_OK if result.ok else EXIT_PROBLEMS
