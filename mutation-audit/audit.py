"""Mutation audit of the engine (issue 23, item 3): `make mutation-audit`.

Tool: mutmut 3 (pinned in the `audit` extra). Why mutmut and not cosmic-ray 8, after trying both
on runtime/choices.py with tests/test_choices.py:

* mutmut never edits the checkout: it writes a trampolined copy of the source under `mutants/`
  and switches mutants with an environment variable. cosmic-ray rewrites the module in place and
  restores it afterwards, so an interrupted run (timeout, Ctrl-C, OOM on a shared machine) leaves
  engine code mutated; here it may never happen.
* mutmut records which tests reach each function (one instrumented run) and runs only those per
  mutant, in a process forked from an already warm pytest; cosmic-ray starts the whole test
  command per mutant (about 3-5 s of pytest start-up each on this machine before any test runs).
* The subprocess-heavy tests (`python -m linkflow ...`) still see the mutant: the mutant's name is
  in MUTANT_UNDER_TEST, which children inherit, and PYTHONPATH points them at the mutated copy.
  Limitation: functions reached ONLY through a child process record no test, so mutmut reports
  their mutants as "no tests", never as survivors; the report counts them apart.

mutmut 3 knows the `src/` layout only (it strips a `src.` prefix to name modules), and ours is
`engine/`: so the audit stages a copy of the checkout under mutation-audit/work/ (git-ignored)
with engine/ renamed src/, and runs mutmut there. Nothing under engine/ is ever written.

Steps: stage, generate the mutants and the test map (mutmut run with a filter that matches
nothing), choose the sample (every mutant, or every k-th per module: --every K, or a cap per
module: --max-per-module N, picked with a fixed --seed), run them (--max-children 2, under the
caller's `nice`), then write the report (--report) with paths relative to the checkout.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "mutmut"

#: What is mutated, relative to engine/ (the checkout's source root).
TARGETS = [
    "linkflow/runtime/*.py",
    "linkflow/store/*.py",
    "linkflow/service/access.py",
    "linkflow/testing/scenarios.py",
]

#: The fast tests that cover those modules (no PostgreSQL: `-k "not postgres"`).
TESTS = [
    "tests/test_runtime.py",
    "tests/test_guard_batch.py",
    "tests/test_history_fields.py",
    "tests/test_choices.py",
    "tests/test_typed_data.py",
    "tests/test_state_change.py",
    "tests/test_secrets.py",
    "tests/hostile",
    "tests/test_store.py",
    "tests/test_store_batch.py",
    "tests/service/test_access.py",
    "tests/test_scenarios_runner.py",
    "tests/test_coverage.py",
]

PYTEST_ARGS = [
    "-x",
    "-q",
    "-p",
    "no:cacheprovider",
    "-k",
    "not postgres",
    "-W",
    "default",
    # reads the import graph from engine/, which the staged copy calls src/
    "--deselect",
    "tests/test_state_change.py::test_only_the_adapter_imports_transitions",
]


def module_of(key: str) -> str:
    """`linkflow.store.steps.xǁStepsǁrun__mutmut_3` -> `linkflow/store/steps.py`."""
    mod = key.partition("__mutmut_")[0].rsplit(".", 1)[0]
    return mod.replace(".", "/") + ".py"


def group_of(path: str) -> str:
    for prefix in ("linkflow/runtime/", "linkflow/store/"):
        if path.startswith(prefix):
            return prefix.rstrip("/")
    return path


def stage(tests: list[str], targets: list[str]) -> None:
    """A copy of the checkout (tracked and untracked, not ignored) with engine/ as src/."""
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    listing = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    tops = set()
    for name in filter(None, listing.split("\0")):
        if name.startswith(("mutation-audit/", "docs/", "benchmarks/", "diagrams/")):
            continue
        src = ROOT / name
        rel = "src/" + name[len("engine/") :] if name.startswith("engine/") else name
        tops.add(rel.split("/", 1)[0])
        dest = WORK / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():  # a committed symlink (engine/linkflow/schemas): mutmut skips those
            shutil.copytree(src, dest)
        elif src.is_file():
            shutil.copy2(src, dest)
    also = sorted(t for t in tops if t not in ("src", "tests", "pyproject.toml"))
    config = {
        "source_paths": ["src"],
        "only_mutate": ["src/" + t for t in targets],
        "also_copy": also,
        "pytest_add_cli_args": PYTEST_ARGS,
        "pytest_add_cli_args_test_selection": tests,
        "use_git_change_detection": False,
        "timeout_multiplier": 10.0,
        "timeout_constant": 5.0,
    }
    with (WORK / "pyproject.toml").open("a") as f:
        f.write("\n[tool.mutmut]\n")
        for key, value in config.items():
            f.write(f"{key} = {json.dumps(value)}\n")


def mutmut(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # children (`python -m linkflow`) import the mutated copy, not the editable install
    env["PYTHONPATH"] = str(WORK / "mutants" / "src")
    env.pop("MUTANT_UNDER_TEST", None)
    exe = Path(sys.executable).with_name("mutmut")
    print("$ mutmut", " ".join(args[:6]), "..." if len(args) > 6 else "", flush=True)
    return subprocess.run([str(exe), *args], cwd=WORK, env=env, text=True, check=False)


CHILD_RESULTS = WORK / "child-results.json"
RECHECK = WORK / "recheck.json"
RUN_INFO = WORK / "run-info.json"

#: Modules whose code runs only in child processes (`linkflow serve`, `python -m linkflow`), so
#: mutmut's in-process test map finds no test for them: their sampled mutants run here instead,
#: one pytest process per mutant, the mutant named in MUTANT_UNDER_TEST (which the trampolines
#: in the mutated copy read in every process).
IN_CHILDREN = {"linkflow/service/access.py": ["tests/service/test_access.py"]}


def all_results() -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for meta in (WORK / "mutants" / "src").rglob("*.py.meta"):
        found.update(json.loads(meta.read_text())["exit_code_by_key"])
    if CHILD_RESULTS.exists():
        found.update(json.loads(CHILD_RESULTS.read_text()))
    return found


def run_in_children(
    keys: list[str],
    timeout: float,
    deadline: float,
    save: bool = True,
    tests: list[str] | None = None,
    store: Path = CHILD_RESULTS,
) -> dict:
    """Each mutant in its own pytest process (exit 1 killed, 0 survived, 36 timeout)."""
    done = json.loads(store.read_text()) if save and store.exists() else {}
    for key in keys:
        if time.time() > deadline:
            print("deadline: the rest stay unchecked", flush=True)
            break
        env = dict(os.environ, MUTANT_UNDER_TEST=key, PYTHONPATH=str(WORK / "mutants" / "src"))
        chosen_tests = tests or IN_CHILDREN[module_of(key)]
        cmd = [sys.executable, "-m", "pytest", *PYTEST_ARGS, *chosen_tests]
        try:
            code = subprocess.run(
                cmd,
                cwd=WORK / "mutants",
                env=env,
                timeout=timeout,
                capture_output=True,
                check=False,
            ).returncode
            done[key] = 1 if code != 0 else 0
        except subprocess.TimeoutExpired:
            done[key] = 36
        print(f"{STATUS[done[key]]:9} {key}", flush=True)
        if save:
            store.write_text(json.dumps(done, indent=1))
    return done


def choose(keys: list[str], every: int, cap: int, seed: int) -> list[str]:
    by_module: dict[str, list[str]] = defaultdict(list)
    for key in sorted(keys):
        by_module[module_of(key)].append(key)
    rng = random.Random(seed)
    chosen = []
    for module in sorted(by_module):
        names = by_module[module]
        if every > 1:
            offset = rng.randrange(every)
            names = names[offset::every]
        if cap and len(names) > cap:
            names = sorted(rng.sample(names, cap))
        chosen += names
    return chosen


STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    36: "timeout",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "type check",
    None: "not checked",
    -9: "killed (signal)",
    -11: "killed (signal)",
}


def where_and_what(key: str) -> tuple[int, str]:
    """The line in the original file and a one-line diff of the mutation."""
    sys.path.insert(0, str(Path(sys.executable).parent))
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: PLC0415

    path = module_of(key)
    cwd = os.getcwd()
    os.chdir(WORK)
    try:
        diff = get_diff_for_mutant(key, path=Path("src") / path)
    except Exception as err:  # the report should still be written
        return 0, f"(no diff: {err})"
    finally:
        os.chdir(cwd)
    minus = [
        ln[1:].strip()
        for ln in diff.splitlines()
        if ln.startswith("-") and not ln.startswith("---")
    ]
    plus = [
        ln[1:].strip()
        for ln in diff.splitlines()
        if ln.startswith("+") and not ln.startswith("+++")
    ]
    hunk = re.search(r"@@ -(\d+)", diff)
    offset = int(hunk.group(1)) if hunk else 1
    old_lines = []
    for ln in diff.splitlines():
        if ln.startswith("@@"):
            continue
        if ln.startswith(("---", "+++")):
            continue
        if ln.startswith("+"):
            continue
        old_lines.append(ln)
        if ln.startswith("-"):
            break
    first_changed = offset + len(old_lines) - 1
    func = key.partition("__mutmut_")[0].rsplit(".", 1)[1]
    name = func.rsplit("ǁ", 1)[-1] if "ǁ" in func else func[2:]
    klass = func.split("ǁ")[1] if "ǁ" in func else None
    source = (ROOT / "engine" / path).read_text()
    start = 0
    for node in ast.walk(ast.parse(source)):
        if klass and isinstance(node, ast.ClassDef) and node.name == klass:
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and sub.name == name:
                    start = sub.decorator_list[0].lineno if sub.decorator_list else sub.lineno
        elif (
            not klass
            and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name == name
        ):
            start = start or (node.decorator_list[0].lineno if node.decorator_list else node.lineno)
    line = start + first_changed - 1 if start else 0
    what = f"`{' / '.join(minus)[:150]}` -> `{' / '.join(plus)[:150]}`"
    return line, what


def report(
    chosen: list[str],
    results: dict[str, int | None],
    args: argparse.Namespace,
    total_by_module: dict[str, int],
    seconds: float,
) -> str:
    rows = defaultdict(lambda: defaultdict(int))
    for key in chosen:
        rows[module_of(key)][STATUS.get(results.get(key), "other")] += 1
    out = [
        "# Mutation audit of the engine",
        "",
        "Written by `make mutation-audit` (mutation-audit/audit.py, mutmut 3.8.1).",
        "",
    ]
    sample = (
        "every mutant"
        if args.every <= 1 and not args.max_per_module
        else f"a sample: every {args.every}-th mutant per module (random offset)"
        + (f", at most {args.max_per_module} per module" if args.max_per_module else "")
        + f", seed {args.seed}"
    )
    info = json.loads(RUN_INFO.read_text()) if RUN_INFO.exists() else {}
    sample = info.get("sample", sample)
    seconds = info.get("seconds", seconds)
    out += [
        f"Run: {sample}; {len(chosen)} mutants run in {seconds / 60:.0f} min, "
        f"{args.max_children} workers. Tests: "
        + ", ".join(f"`{t}`" for t in args.tests)
        + f" (`{' '.join(PYTEST_ARGS)}`).",
        "",
        "Kill rate = (killed + timeout) / (killed + timeout + survived); `no tests` (no test "
        "reaches the function in-process) is counted apart and is a gap of its own.",
        "",
    ]
    statuses = ["killed", "timeout", "survived", "no tests", "not checked", "other"]
    out.append("| module | mutants (all) | run | " + " | ".join(statuses) + " | kill rate |")
    out.append("|---|---:|---:|" + "---:|" * len(statuses) + "---:|")

    def line_for(name: str, counts: dict[str, int], total: int) -> str:
        run = sum(counts.values())
        k, t, s = (
            counts["killed"] + counts["killed (signal)"],
            counts["timeout"],
            counts["survived"],
        )
        rate = f"{100 * (k + t) / (k + t + s):.0f}%" if k + t + s else "-"
        cells = [
            str(k),
            str(t),
            str(s),
            str(counts["no tests"]),
            str(counts["not checked"]),
            str(counts["other"] + counts["type check"]),
        ]
        return f"| {name} | {total} | {run} | " + " | ".join(cells) + f" | {rate} |"

    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    group_total: dict[str, int] = defaultdict(int)
    for module in sorted(set(total_by_module) | set(rows)):
        g = group_of(module)
        for status, n in rows[module].items():
            groups[g][status] += n
        group_total[g] += total_by_module.get(module, 0)
    for g in sorted(groups):
        out.append(line_for(f"**engine/{g}**", groups[g], group_total[g]))
    out += [
        "",
        "Per file:",
        "",
        "| file | mutants (all) | run | " + " | ".join(statuses) + " | kill rate |",
        "|---|---:|---:|" + "---:|" * len(statuses) + "---:|",
    ]
    for module in sorted(total_by_module):
        out.append(line_for(f"engine/{module}", rows[module], total_by_module[module]))
    out += ["", "## Survivors", "", "| file:line | mutant | mutation |", "|---|---|---|"]
    for key in chosen:
        if STATUS.get(results.get(key)) == "survived":
            line, what = where_and_what(key)
            what = what.replace("|", "\\|")
            out.append(f"| engine/{module_of(key)}:{line} | `{key.rsplit('.', 1)[1]}` | {what} |")
    out += ["", "## No test reaches the function (in-process)", ""]
    nt = [k for k in chosen if STATUS.get(results.get(k)) == "no tests"]
    by_func = defaultdict(int)
    for k in nt:
        by_func[k.partition("__mutmut_")[0]] += 1
    for func, n in sorted(by_func.items()):
        out.append(f"- `{func}` ({n} mutants)")
    if RECHECK.exists():
        out += [
            "",
            "## Rechecked, each in a fresh process, with this branch's tests",
            "",
            "| file:line | mutant | mutation | before | now |",
            "|---|---|---|---|---|",
        ]
        for key, code in sorted(json.loads(RECHECK.read_text()).items()):
            line, what = where_and_what(key)
            what = what.replace("|", "\\|")
            before = STATUS.get(results.get(key), "not in the sample")
            out.append(
                f"| engine/{module_of(key)}:{line} | `{key.rsplit('.', 1)[1]}` | {what} "
                f"| {before} | {STATUS[code]} |"
            )
    return "\n".join(out) + "\n"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", default=str(HERE / "REPORT.md"))
    parser.add_argument("--every", type=int, default=1, help="run every k-th mutant per module")
    parser.add_argument(
        "--max-per-module", type=int, default=0, help="cap per file (random, seeded)"
    )
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--tests", nargs="*", default=TESTS)
    parser.add_argument("--targets", nargs="*", default=TARGETS, help="globs under engine/")
    parser.add_argument("--only", nargs="*", default=[], help="mutant names or globs (reruns)")
    parser.add_argument(
        "--report-only", action="store_true", help="write the report from the last run"
    )
    parser.add_argument("--child-timeout", type=float, default=300.0)
    parser.add_argument(
        "--deadline",
        type=float,
        default=float("inf"),
        help="epoch seconds: start no child-process mutant after it",
    )
    parser.add_argument("--recheck", nargs="*", default=[], help="mutants: a fresh process each")
    parser.add_argument("--recheck-tests", nargs="*", default=[], help="the tests for --recheck")
    parser.add_argument("--generate-only", action="store_true", help="stage, generate, stop")
    parser.add_argument("--restage", action="store_true", help="stage again (after editing tests)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()

    started = time.monotonic()
    if not args.report_only and not args.recheck:
        if args.restage or not (WORK / "mutants").exists():
            stage(args.tests, args.targets)
            # generates every mutant and the test map; the filter matches nothing on purpose
            mutmut("run", "--max-children", str(args.max_children), "__generate_only__")
        if args.generate_only:
            return 0
        if args.only:  # a rerun (after adding tests): the report still covers the sample
            to_run = args.only
        else:
            keys = [k for k, v in all_results().items() if v is None]
            to_run = choose(keys, args.every, args.max_per_module, args.seed)
            (WORK / "chosen.json").write_text(json.dumps(to_run))
        batch = 5000  # one mutmut run: each run starts with a clean test pass
        in_process = [k for k in to_run if module_of(k) not in IN_CHILDREN]
        for i in range(0, len(in_process), batch):
            mutmut("run", "--max-children", str(args.max_children), *in_process[i : i + batch])
        if not args.only:
            CHILD_RESULTS.unlink(missing_ok=True)
        child_keys = [k for k in to_run if module_of(k) in IN_CHILDREN]
        if child_keys:  # a clean pass first: the tests must pass without a mutant
            tests = sorted({t for k in child_keys for t in IN_CHILDREN[module_of(k)]})
            none = "none.x_none__mutmut_0"  # no such mutant: every function runs unmutated
            clean = run_in_children([none], args.child_timeout, 1e18, save=False, tests=tests)
            if clean[none] != 0:
                sys.exit("the child-process tests fail without a mutant")
            run_in_children(child_keys, args.child_timeout, args.deadline)
        if not args.only:
            every = f"every {args.every}-th mutant per module (random offset)"
            cap = f", at most {args.max_per_module} per module" if args.max_per_module else ""
            full = args.every <= 1 and not args.max_per_module
            sample = "every mutant" if full else f"a sample: {every}{cap}, seed {args.seed}"
            info = {"sample": sample, "seconds": time.monotonic() - started}
            RUN_INFO.write_text(json.dumps(info))
    if args.recheck:
        # the branch's tests now, over the mutated copy (run it when no mutmut run is going)
        shutil.copytree(ROOT / "tests", WORK / "mutants" / "tests", dirs_exist_ok=True)
        run_in_children(
            args.recheck, args.child_timeout, 1e18, tests=args.recheck_tests, store=RECHECK
        )
        return 0
    results = all_results()
    chosen_file = WORK / "chosen.json"
    chosen = json.loads(chosen_file.read_text()) if chosen_file.exists() else list(results)
    chosen = [k for k in sorted(results) if k in set(chosen)] or sorted(results)
    total_by_module: dict[str, int] = defaultdict(int)
    for key in results:
        total_by_module[module_of(key)] += 1
    text = report(chosen, results, args, total_by_module, time.monotonic() - started)
    Path(args.report).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
