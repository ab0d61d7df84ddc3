"""`linkflow docs`: a Markdown page per workflow and an index, written or checked."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, TextIO

from engine.cli.commands import EXIT_PROBLEMS, add_workflow_paths


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "docs",
        help="write a Markdown page per workflow, and an index, from the YAML alone",
        description="Write DIR/<workflow>.md for each workflow (what it is for, the click path, "
        "the reader diagram, what is checked, refusals as a person sees them, other endings, "
        "assumptions, then the implementation) and DIR/README.md, the landing page (where to "
        "start, which workflow when, glossary, the rules of RULES.md beside the workflows). "
        "Refusal messages come from running the scenarios. With --check nothing is written: "
        "exits 1 naming each stale or missing file.",
    )
    add_workflow_paths(parser)
    parser.add_argument(
        "--out", default="docs", metavar="DIR", help="output folder (default: docs)"
    )
    parser.add_argument(
        "--diagrams",
        default="diagrams",
        metavar="DIR",
        help="where `linkflow render` writes the diagrams the pages embed (default: diagrams)",
    )
    parser.add_argument(
        "--scenarios",
        default="tests/scenarios",
        metavar="DIR",
        help="scenarios to run for real refusal messages (default: tests/scenarios; a "
        "missing folder gives pages without them)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a page is missing or differs from what would be written",
    )
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from engine.cli.commands.render import load_selection, sync_files

    loaded = load_selection(args.paths, "docs")
    if loaded is None:
        return EXIT_PROBLEMS
    workflows, selected, whole = loaded
    from engine.output.pages import doc_files
    from engine.output.refusal_examples import collect_examples
    from engine.output.rule_list import find_rules

    out_dir = Path(args.out)
    diagrams = Path(os.path.relpath(Path(args.diagrams).resolve(), out_dir.resolve())).as_posix()
    examples = collect_examples([args.scenarios])
    rules = find_rules(args.paths or ["workflows"])
    files = doc_files(workflows, diagrams, examples, rules)
    if selected is not None:
        files = {f"{name}.md": files[f"{name}.md"] for name in selected}
    command = " ".join(["linkflow docs", *args.paths]).strip()
    return sync_files(
        out_dir,
        files,
        check=args.check,
        managed=["md"] if whole else [],
        out=out,
        fix=command,
    )
