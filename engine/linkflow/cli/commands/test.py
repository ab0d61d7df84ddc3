"""`linkflow test`: run scenario files without writing Python."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, add_format, add_scenario_paths
from linkflow.cli.commands.console import emit_json, paint


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "test",
        help="run scenario files and report each as passed or failed",
        description="Run scenario files (YAML with a top-level `scenario:` key). "
        "Ends with a line 'N passed, N failed'; exits 1 when any failed.",
    )
    add_scenario_paths(parser)
    parser.add_argument(
        "-k", dest="keyword", metavar="TEXT", help="only scenarios whose name contains TEXT"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print the path taken by every scenario, not only failed ones",
    )
    add_format(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.language.scenario_check import is_skeleton
    from linkflow.testing.scenarios import run_scenario_file, scenario_files

    files, problems = scenario_files(args.paths)
    skipped = [path for path in files if is_skeleton(path)]
    results = [run_scenario_file(path) for path in files if path not in skipped]
    if args.keyword:
        results = [r for r in results if args.keyword in r.name]
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    if args.format == "json":
        report = {
            "passed": passed,
            "failed": failed,
            "skipped": [str(path) for path in skipped],
            "problems": [p.as_dict() for p in problems],
            "scenarios": [r.as_dict() for r in results],
        }
        emit_json(report, out)
    else:
        from pathlib import Path

        from linkflow.cli.commands.output import near, print_problems

        # A broken workflow breaks every scenario that runs it: say what is wrong once.
        def shared(result: Any) -> list[Any]:
            mine = Path(result.file).resolve()
            return [near(p) for p in result.problems if Path(p.location.file).resolve() != mine]

        print_problems([*problems, *(p for r in results for p in shared(r))], out)
        for path in skipped:
            print(f"SKIP {path}  (an unfinished skeleton from `linkflow generate`)", file=out)
        for result in results:
            mark = paint("PASS", "pass", out) if result.passed else paint("FAIL", "fail", out)
            print(f"{mark} {result.name}  ({result.location})", file=out)
            if result.passed and not args.verbose:
                continue
            _print_details(result, shared(result), out)
        summary = f"{passed} passed, {failed} failed"
        if skipped:
            summary += f", {len(skipped)} skipped"
        print(paint(summary, "fail" if failed else "pass", out), file=out)
    ok = failed == 0 and not problems and (results or not files)
    return EXIT_OK if ok else EXIT_PROBLEMS


def _print_details(result: Any, elsewhere: list[Any], out: TextIO) -> None:
    """Under a scenario's PASS or FAIL line: its problems (those in its workflows, `elsewhere`,
    counted only: they are printed above), its failures and the path it took."""
    from linkflow.cli.commands.output import near, root_causes

    if elsewhere:
        count = len(root_causes(elsewhere))
        print(f"     cannot run: {count} problem(s) in its workflows, above", file=out)
    for problem in result.problems:
        if near(problem) not in elsewhere:
            print(f"     {problem}", file=out)
    for failure in result.failures:
        print(f"     {failure}", file=out)
    if result.steps:
        print("     path taken:", file=out)
        for line in result.path_lines():
            print(f"      {line}", file=out)
        print(f"     to see it: {result.trace_command()}", file=out)
