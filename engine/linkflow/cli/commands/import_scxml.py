"""`linkflow import scxml FILE`: an SCXML document read into a linkflow workflow (YAML)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE

KINDS = ("scxml",)


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "import",
        help="read an SCXML document into a linkflow workflow (YAML)",
        description="Read a W3C SCXML document into a linkflow workflow, printed or written "
        "with -o. The subset linkflow runs is read (states, compound and parallel states, "
        "finals, transitions with one event and target, conditions, assignments, timeouts, "
        "data, service calls as invoke and send of type http); anything "
        "else (history, script, ...) is reported at its line and column, and nothing is "
        "written. A workflow that calls services is checked with the services.yaml beside "
        "the file written (or beside FILE). What maps to what: docs/interop.md.",
    )
    parser.add_argument("kind", choices=KINDS, help="the format read")
    parser.add_argument("file", metavar="FILE", help="the document")
    parser.add_argument(
        "-o", "--out", metavar="FILE", help="write the workflow to FILE (default: standard output)"
    )
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.console import deliver
    from linkflow.cli.commands.output import report_problems
    from linkflow.errors import Problem
    from linkflow.interop.scxml_import import read_scxml, workflow_yaml
    from linkflow.interop.xml_reader import MAX_BYTES, too_large
    from linkflow.language.effect_builder import calls_services
    from linkflow.language.loader import load_text, load_text_at
    from linkflow.source import SourceLocation

    source = Path(args.file)
    where = SourceLocation(args.file, 1, 1)
    if not source.is_file():
        report_problems([Problem(SourceLocation(args.file), "no such file")], out, "text")
        return EXIT_PROBLEMS
    if source.stat().st_size > MAX_BYTES:  # refused before it is read into memory
        report_problems([Problem(where, too_large(source.stat().st_size))], out, "text")
        return EXIT_PROBLEMS
    doc, problems = read_scxml(source.read_bytes(), args.file)
    if doc is None:
        report_problems(problems, out, "text")
        return EXIT_PROBLEMS
    text = workflow_yaml(doc, source.name)
    shown = args.out or f"{source.stem}.yaml (from {args.file})"
    if calls_services(doc):
        # checked with the services file beside the YAML written (beside the SCXML document
        # without -o): SCXML carries the services' names only
        beside = Path(args.out) if args.out else source.with_suffix(".yaml")
        checked = load_text_at(text, str(beside))
    else:
        checked = load_text(text, shown)
    if checked.problems:
        report_problems(
            checked.problems, out, "text", f"{args.file}: the workflow read from it is not valid"
        )
        return EXIT_PROBLEMS
    return EXIT_OK if deliver("import", text, args.out, out) else EXIT_USAGE
