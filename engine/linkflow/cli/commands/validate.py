"""`linkflow validate`: check definition files and report every problem, located."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_format
from linkflow.cli.commands.console import emit_json, error, paint, say
from linkflow.cli.commands.output import print_problems, root_causes


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "validate",
        help="check workflow and world files; report every problem as file:line:column",
        description="Check workflow and world files. Every problem of every file is reported.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders (default: workflows)",
    )
    add_format(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    if not args.paths and not Path("workflows").exists():
        error("validate", "no workflows/ folder here, and no PATH given")
        say("(name the files or folders to check, or start a project with `linkflow init`)")
        return EXIT_USAGE
    from linkflow.language.loader import load

    result = load(args.paths or ["workflows"])
    problems = root_causes(result.problems)
    if args.format == "json":
        report = {
            "ok": result.ok,
            "files": len(result.files),
            "problems": [p.as_dict() for p in problems],
        }
        emit_json(report, out)
    else:
        print_problems(problems, out)
        files = len(result.files)
        noun = "file" if files == 1 else "files"
        if result.ok:
            print(paint(f"ok: {files} {noun} valid", "ok", out), file=out)
        else:
            count = len(problems)
            summary = f"{count} problem{'s' if count != 1 else ''} in {files} {noun}"
            print(paint(summary, "fail", out), file=out)
    return EXIT_OK if result.ok else EXIT_PROBLEMS
