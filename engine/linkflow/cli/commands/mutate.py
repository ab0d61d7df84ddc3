"""`linkflow mutate`: would the scenarios notice if a workflow were broken?"""

from __future__ import annotations

import argparse
import time
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_format
from linkflow.cli.commands.console import emit_json, error, say


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "mutate",
        help="mutation testing: make small mistakes in the workflows, see if a scenario fails",
        description="Make one small mistake at a time in the built workflow models (drop or "
        "negate a guard use, redirect a transition or a timeout to a state that keeps the graph "
        "sound, drop an action, swap add and set, end a refusing final state completed, unmark "
        "a secret field, widen a `from:`), re-check each with the language's own checks (a "
        "mistake they reject is counted as rejected; an invariant that names the changed guard, "
        "secret field or write is set aside for that mutant), then run the scenarios that can "
        "reach that workflow on it: killed when an expectation fails, crashed when the only "
        "failure is a step the engine could not complete (reported with what crashed, not "
        "counted in the score), survived when all pass. Survivors are printed with the "
        "file:line of the original element, the nearest scenario step that reaches it, and "
        "what a scenario would have to check. A survivor nothing could notice is justified "
        "with `# mutate: equivalent OPERATOR [SUBJECT] -- WHY` on its line or just above it. "
        "Exits 1 when the score is below --fail-under, a scenario fails on the unchanged "
        "workflows, or a justification is stale.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="WORKFLOW|FOLDER",
        help="workflow files, folders or names to mutate (default: workflows)",
    )
    parser.add_argument(
        "--scenarios",
        action="append",
        metavar="DIR",
        help="scenario files or folders (repeatable; default: tests/scenarios)",
    )
    add_format(parser)
    parser.add_argument(
        "--fail-under",
        type=float,
        default=0.0,
        metavar="N",
        help="exit 1 when fewer than N%% of the non-equivalent mutants that did not crash are "
        "killed by an expectation (or the budget ran out before all were tried)",
    )
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes (default: the usable cores)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="stop trying mutants after this long; the rest are reported not run (300)",
    )
    parser.add_argument(
        "--operator",
        action="append",
        metavar="NAME",
        help="only this operator (repeatable): drop_guard, negate_guard, redirect, drop_action, "
        "swap_add_set, complete_final, unmark_secret, retarget_timeout, widen_from",
    )
    return parser


def _usage(message: str) -> int:
    error("mutate", message)
    return EXIT_USAGE


def _option_problem(args: argparse.Namespace) -> str:
    """Why a numeric option cannot be used (the first such), or ''."""
    checks = (
        (not 0 <= args.fail_under <= 100, "--fail-under must be between 0 and 100"),
        (args.jobs is not None and args.jobs < 1, "--jobs must be at least 1"),
        (args.budget <= 0, "--budget must be more than 0 seconds"),
    )
    return next((message for bad, message in checks if bad), "")


def _short_of(fail_under: float, complete: bool, score: float) -> bool:
    """Whether the run falls short of `--fail-under` (said why): a mutant not tried, or a
    lower score."""
    if fail_under and not complete:
        say(f"--fail-under {fail_under:g}%: not every mutant was tried (raise --budget)", "fail")
        return True
    if score < fail_under:
        say(f"mutation score {score:.1f}% is below --fail-under {fail_under:g}%", "fail")
        return True
    return False


def run(args: argparse.Namespace, out: TextIO) -> int:
    bad_option = _option_problem(args)
    if bad_option:
        return _usage(bad_option)
    from linkflow.analysis.mutate.operators import OPERATORS
    from linkflow.analysis.mutate.report import Report
    from linkflow.analysis.mutate.runner import Spec, build_suite, default_jobs, run_suite
    from linkflow.cli.commands.console import did_you_mean
    from linkflow.cli.commands.render import load_selection
    from linkflow.cli.commands.workflow_args import default_workflows, split_arguments

    unknown = [name for name in args.operator or () if name not in OPERATORS]
    if unknown:
        hint = did_you_mean(unknown[0], OPERATORS) or f" (operators: {', '.join(OPERATORS)})"
        return _usage(f"unknown operator {', '.join(unknown)}{hint}")

    loaded = load_selection(args.paths, "mutate", out, args.format)
    if loaded is None:
        return EXIT_PROBLEMS
    workflows, selected, _ = loaded
    paths, _, _ = split_arguments(args.paths)  # names are looked up in the workflows folder
    spec = Spec(
        tuple(paths) or (str(default_workflows()),),
        tuple(selected) if selected is not None else None,
        tuple(args.scenarios or ["tests/scenarios"]),
        tuple(args.operator or OPERATORS),
    )
    started = time.perf_counter()
    suite = build_suite(spec, workflows)
    if suite.problems:  # a scenario that fails already would kill every mutant
        for problem in suite.problems:
            say(str(problem), "problem")
        error(
            "mutate", "fix these first: the scenarios must load and pass on the unchanged workflows"
        )
        return EXIT_PROBLEMS
    if not suite.scenarios:
        error("mutate", f"no scenario files in {', '.join(spec.scenario_paths)}")
        return EXIT_USAGE
    for name in suite.unreached():
        say(
            f"linkflow mutate: warning: no scenario reaches workflow '{name}' (scenarios: "
            f"{', '.join(spec.scenario_paths)}): every mutant of it survives",
            "warning",
        )
    jobs = args.jobs or default_jobs()
    results = run_suite(suite, jobs, args.budget)
    report = Report(
        results,
        len(suite.scenarios),
        jobs,
        time.perf_counter() - started,
        suite.justification_problems,
    )
    if args.format == "json":
        emit_json(report.as_dict(), out)
    else:
        print(report.text(), file=out)
    for problem in report.problems:
        say(str(problem), "problem")
    failed = bool(report.problems)
    if _short_of(args.fail_under, report.complete, report.score):
        failed = True
    return EXIT_PROBLEMS if failed else EXIT_OK
