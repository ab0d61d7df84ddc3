"""`linkflow render`: one diagram per workflow plus an overview, written or checked."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_workflow_paths
from linkflow.cli.commands.console import emit_json, error, say
from linkflow.cli.commands.workflow_args import (
    default_workflows,
    no_workflow_named,
    split_arguments,
)

if TYPE_CHECKING:
    from linkflow.language.model import Workflow
    from linkflow.output.diagram import TraceStep

FORMATS = ("svg", "png", "dot", "mermaid")
DEFAULT_FORMATS = "svg,dot,mermaid"
VIEWS = ("reader", "engineer", "both")


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "render",
        help="draw each workflow (SVG, PNG, DOT, Mermaid) and an overview of the handoffs",
        description="Draw one diagram per workflow, plus diagrams/overview.* of how the "
        "workflows hand over to each other (when a whole folder, or several workflows, are "
        "drawn). Arguments are workflow files, folders, or workflow names (looked up in the "
        "folders given, default: workflows). With --check nothing is written: exits 1 naming "
        "each stale or missing file.",
    )
    add_workflow_paths(parser)
    parser.add_argument(
        "--file-types",
        default=DEFAULT_FORMATS,
        metavar="LIST",
        help=f"comma-separated, from {', '.join(FORMATS)} (default: {DEFAULT_FORMATS})",
    )
    # `--format` is the output format, as in every command; a list of file types given to it
    # (its meaning before --file-types existed) still works, with a deprecation message.
    parser.add_argument(
        "--format",
        default="text",
        metavar="text|json",
        help="text for people, json (on stdout; messages stay on stderr) for programs "
        "(default: text)",
    )
    parser.add_argument(
        "--view",
        choices=VIEWS,
        default="both",
        help="reader: what a person sees and clicks, with a legend (files <workflow>.reader.*); "
        "engineer: ids, guards and actions (files <workflow>.*, plus the overview); "
        "default: both",
    )
    parser.add_argument(
        "--out", default="diagrams", metavar="DIR", help="output folder (default: diagrams)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a file is missing or differs from what would be written",
    )
    parser.add_argument(
        "--trace",
        metavar="SCENARIO",
        help="run a scenario file and draw the path it took (visited states and taken edges "
        "highlighted and numbered), into DIR/traces/<scenario>/",
    )
    return parser


def parse_formats(text: str) -> list[str]:
    wanted = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise ValueError(
            f"unknown format {', '.join(repr(u) for u in unknown) or 'list'}: "
            f"choose from {', '.join(FORMATS)}"
        )
    return list(dict.fromkeys(wanted))


def output_format(args: argparse.Namespace, command: str) -> str | None:
    """The output format, moving a file-type list given as `--format` (the old spelling) to
    `--file-types`; None after saying why neither fits."""
    if args.format in ("text", "json"):
        return str(args.format)
    try:
        parse_formats(args.format)
    except ValueError:
        error(command, f"--format must be text or json, not '{args.format}'")
        return None
    say(
        f"linkflow {command}: deprecated: --format {args.format} names file types; "
        f"write --file-types {args.format} (--format is text or json in every command)",
        "warning",
    )
    args.file_types = args.format
    return "text"


def load_selection(
    arguments: Sequence[str],
    command: str,
    out: TextIO | None = None,
    fmt: str = "text",
) -> tuple[Mapping[str, Workflow], list[str] | None, bool] | None:
    """Load the workflows; return (all loaded, the selected names or None for all, whether
    the whole folder was asked for), or None after reporting why not."""
    from linkflow.cli.commands.output import report_problems
    from linkflow.language.loader import load

    paths, names, unknown = split_arguments(arguments)
    if unknown:
        for argument in unknown:
            error(command, f"no such file or folder: {argument}")
        return None
    whole = not names and all(Path(p).is_dir() for p in paths)
    files = [p for p in paths if Path(p).is_file()]
    result = load(paths or [default_workflows()], kinds=["workflow"])
    if not result.ok:
        report_problems(result.problems, sys.stdout if out is None else out, fmt)
        return None
    selected: list[str] | None = None
    if names or files:
        selected = list(names)
        for workflow in result.workflows.values():
            if any(Path(workflow.file) == Path(f) for f in files):
                selected.append(workflow.name)
        missing = [n for n in names if n not in result.workflows]
        if missing:
            where = ", ".join(paths) or str(default_workflows())
            error(command, no_workflow_named(missing, result.workflows, where))
            return None
    if not result.workflows:
        error(command, "no workflow found")
        return None
    return result.workflows, selected, whole


def sync_files(
    out_dir: Path,
    files: Mapping[str, bytes],
    *,
    check: bool,
    managed: Sequence[str] = (),
    out: TextIO,
    fix: str,
    fmt: str = "text",
    marker: bytes = b"",
) -> int:
    """Write `files` into `out_dir` (only those that changed), or with `check` compare them.

    With `managed` suffixes, a file of that suffix in `out_dir` that would not be written is
    reported as stale when checking (its workflow is gone). With a `marker`, an existing file
    that does not hold it was not generated, and is never overwritten.
    """
    missing = [out_dir / n for n in sorted(files) if not (out_dir / n).is_file()]
    differ = [
        out_dir / n
        for n, content in sorted(files.items())
        if (out_dir / n).is_file() and (out_dir / n).read_bytes() != content
    ]
    foreign = [p for p in differ if marker and marker not in p.read_bytes()]
    orphans = _orphans(out_dir, files, managed, marker)
    report: dict[str, Any] = {"out": str(out_dir), "check": check}
    if check:
        return _check_files(out_dir, files, missing, differ, orphans, report, out, fix, fmt)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for path in [*missing, *differ]:
        if path in foreign:
            continue
        path.write_bytes(files[path.name])
        written.append(str(path))
        if fmt == "text":
            print(f"wrote {path}", file=out)
    command = fix.split()[1]
    for path in foreign:
        error(
            command,
            f"not overwriting {path}: `linkflow {command}` did not generate it "
            "(move it away, or choose another --out)",
        )
    for path in orphans:
        say(f"note: {path} is not generated by any workflow any more", "warning")
    unchanged = len(files) - len(written) - len(foreign)
    report.update(
        ok=not foreign,
        written=written,
        unchanged=unchanged,
        not_overwritten=[str(p) for p in foreign],
        orphans=[str(p) for p in orphans],
    )
    if fmt == "json":
        emit_json(report, out)
    else:
        print(f"{len(written)} written, {unchanged} unchanged in {out_dir}", file=out)
    return EXIT_PROBLEMS if foreign else EXIT_OK


def _orphans(
    out_dir: Path, files: Mapping[str, bytes], managed: Sequence[str], marker: bytes
) -> list[Path]:
    """Files of a `managed` suffix in `out_dir` that would not be written (with a `marker`,
    only those that hold it: the generated ones)."""
    if not (managed and out_dir.is_dir()):
        return []
    orphans = sorted(
        p
        for p in out_dir.iterdir()
        if p.is_file() and p.suffix.lstrip(".") in managed and p.name not in files
    )
    if marker:
        orphans = [p for p in orphans if marker in p.read_bytes()]
    return orphans


def _check_files(
    out_dir: Path,
    files: Mapping[str, bytes],
    missing: list[Path],
    differ: list[Path],
    orphans: list[Path],
    report: dict[str, Any],
    out: TextIO,
    fix: str,
    fmt: str,
) -> int:
    """`--check`: say which files are missing or stale, writing nothing."""
    stale = [f"missing: {p}" for p in missing] + [f"stale: {p}" for p in differ]
    stale.extend(f"stale: {p} (no workflow generates it any more)" for p in orphans)
    for line in stale:
        say(line, "problem")
    if stale:
        count = len(stale)
        say(f"{count} file{'s' if count != 1 else ''} out of date: run `{fix}`", "fail")
    elif fmt == "text":
        say(f"ok: {len(files)} files in {out_dir} are up to date", "ok", out)
    report.update(ok=not stale, stale=stale, files=len(files))
    if fmt == "json":
        emit_json(report, out)
    return EXIT_PROBLEMS if stale else EXIT_OK


def scenario_trace(path: str) -> tuple[list[TraceStep], str, list[str]] | None:
    """The steps a scenario took, its name and any failures; None after printing problems."""
    from linkflow.cli.commands.output import print_problems
    from linkflow.output.diagram import TraceStep
    from linkflow.testing.scenarios import run_scenario_file

    result = run_scenario_file(path)
    if result.problems:
        print_problems(result.problems, sys.stderr)
        return None
    steps = [TraceStep(*step) for step in result.trace()]
    return steps, result.name, [str(f) for f in result.failures]


def _formats_or_problem(args: argparse.Namespace) -> tuple[list[str], str]:
    """The `--file-types` asked for, and why the options cannot be used together, or ''."""
    try:
        formats = parse_formats(args.file_types)
    except ValueError as err:
        return [], str(err)
    if args.check and args.trace:
        return formats, "--check cannot be used with --trace"
    if args.trace and not Path(args.trace).is_file():
        return formats, f"no such scenario file: {args.trace}"
    return formats, ""


def run(args: argparse.Namespace, out: TextIO) -> int:
    fmt = output_format(args, "render")
    if fmt is None:
        return EXIT_USAGE
    formats, problem = _formats_or_problem(args)
    if problem:
        error("render", problem)
        return EXIT_USAGE
    loaded = load_selection(args.paths, "render", out, fmt)
    if loaded is None:
        return EXIT_PROBLEMS
    workflows, selected, whole = loaded
    from linkflow.output.diagram_model import View
    from linkflow.output.files import EXTENSIONS, VIEWS, diagram_files

    views = VIEWS if args.view == "both" else (View(args.view),)

    out_dir = Path(args.out)
    if args.trace:
        traced = scenario_trace(args.trace)
        if traced is None:
            return EXIT_PROBLEMS
        steps, scenario, failures = traced
        for failure in failures:
            say(f"note: the scenario fails: {failure}", "warning")
        visited = sorted({s.workflow for s in steps if s.workflow in workflows})
        chosen = selected if selected is not None else visited
        files = diagram_files(
            workflows,
            formats,
            selected=chosen,
            overview=len(visited) > 1,
            trace=steps,
            views=(View.ENGINEER,),
        )
        return sync_files(
            out_dir / "traces" / scenario,
            files,
            check=False,
            out=out,
            fix="linkflow render",
            fmt=fmt,
        )
    overview = selected is None and len(workflows) > 1
    files = diagram_files(workflows, formats, selected=selected, overview=overview, views=views)
    managed = [EXTENSIONS[f] for f in formats] if whole and args.view == "both" else []
    view = [] if args.view == "both" else ["--view", args.view]
    command = "linkflow render " + " ".join([*args.paths, "--file-types", ",".join(formats), *view])
    return sync_files(
        out_dir, files, check=args.check, managed=managed, out=out, fix=command.strip(), fmt=fmt
    )
