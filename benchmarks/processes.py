"""Whole-process timings of the `linkflow` command: start-up, validate, test, and the tools on a
generated 1,000-state workflow. Each command is a fresh subprocess; repeats are round-robin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from benchmarks.figures import Config, Figure
from benchmarks.generate import write_scenarios, write_workflow
from benchmarks.timing import Stat, interleaved

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Command:
    key: str
    args: tuple[str, ...]
    #: Exit codes that mean the command did its job (validate returns 1 on invalid files).
    ok_codes: tuple[int, ...] = (0,)


def linkflow_argv() -> list[str]:
    """How to start linkflow: the venv's console script, or `python -m linkflow`."""
    script = Path(sys.executable).with_name("linkflow")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "linkflow"]


#: Seconds after which a command is stopped and reported as timed out.
TIMEOUT_S = 120.0


def run_once(argv: list[str], timeout: float = TIMEOUT_S) -> tuple[float, int, str]:
    """Wall time, exit code and last line of output of one run (code -1: timed out)."""
    start = time.perf_counter_ns()
    try:
        done = subprocess.run(
            argv,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env=dict(os.environ),
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return timeout, -1, f"timed out after {timeout:.0f} s"
    elapsed = (time.perf_counter_ns() - start) / 1e9
    lines = (done.stdout if done.returncode == 0 else done.stderr or done.stdout).strip()
    tail = lines.splitlines()
    return elapsed, done.returncode, tail[-1].strip() if tail else ""


def compile_bytecode() -> None:
    """Byte-compile the project's modules, as installing a package does. The shell these
    benchmarks run in may set PYTHONDONTWRITEBYTECODE: then every process would compile every
    module from source again, which no installed linkflow does (dependencies are compiled by
    pip). Python reads existing bytecode whatever that variable says."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "engine")],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )


def available_commands() -> set[str]:
    """The sub-commands `linkflow --help` lists."""
    done = subprocess.run(
        [*linkflow_argv(), "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    found = re.search(r"\{([a-z,_-]+)\}", done.stdout)
    if found:
        return set(found.group(1).split(","))
    return set(re.findall(r"^ {4}([a-z][a-z_-]*) ", done.stdout, re.M))


def figure_processes(cfg: Config, work: Path) -> tuple[Figure, Path]:
    """Time the commands; returns the figure and the generated workflow's path."""
    column = "wall time"
    fig = Figure("processes", "The `linkflow` command as a whole process", "s", [column])
    compile_bytecode()
    fig.notes.append(
        "The project's modules are byte-compiled first, as installing linkflow does (the "
        "benchmark shell may set PYTHONDONTWRITEBYTECODE, which would make every process "
        "compile every module from source)."
    )
    commands_here = available_commands()
    # The workflow sits in the scenarios' folder: a scenario may not reach outside its project.
    (work / "walks").mkdir(parents=True, exist_ok=True)
    generated = write_workflow(
        work / "walks" / "generated.yaml", cfg.generated_states, cfg.generated_transitions
    )
    big = f"{cfg.generated_states:,}-state generated workflow"
    fig.notes.append(
        f"The generated workflow (benchmarks/generate.py) has {cfg.generated_states:,} states and "
        f"{cfg.generated_transitions:,} transitions; each command runs as a fresh process "
        f"({'the console script' if len(linkflow_argv()) == 1 else 'python -m linkflow'}), "
        "repeats round-robin."
    )
    commands = [
        Command("linkflow --help", ("--help",)),
        Command("linkflow validate workflows/", ("validate", "workflows"), (0, 1)),
        Command(f"linkflow validate ({big})", ("validate", str(generated))),
    ]
    workflows = sorted((ROOT / "workflows").glob("*.y*ml"))
    if not workflows:
        fig.notes.append("workflows/ holds no workflow yet: `validate workflows/` timed on none.")
    scenarios = ROOT / "tests" / "scenarios"
    if "test" not in commands_here:
        fig.notes.append("`linkflow test` does not exist yet: skipped.")
    elif not scenarios.exists():
        fig.notes.append("tests/scenarios does not exist yet: `linkflow test` skipped.")
    else:
        commands.append(
            Command("linkflow test tests/scenarios", ("test", "tests/scenarios"), (0, 1))
        )
    walks = write_scenarios(work / "walks", generated, states=cfg.generated_states)
    fig.notes.append(
        "Coverage on the generated workflow runs 20 generated scenarios that walk its spine "
        "to different depths (benchmarks/generate.py `write_scenarios`), about 10,000 events."
    )
    for tool, args in (("explore", (str(generated),)), ("coverage", (str(walks),))):
        if tool in commands_here:
            commands.append(Command(f"linkflow {tool} ({big})", (tool, *args), (0,)))
        else:
            fig.notes.append(f"`linkflow {tool}` does not exist yet: skipped.")

    outcomes: dict[str, tuple[int, str]] = {}

    def subject(command: Command) -> float:
        timeout = 30.0 if cfg.quick else TIMEOUT_S
        elapsed, code, tail = run_once([*linkflow_argv(), *command.args], timeout)
        outcomes[command.key] = (code, tail)
        return elapsed

    stats: dict[str, Stat] = interleaved(
        {c.key: partial(subject, c) for c in commands}, cfg.process_repeats, "s"
    )
    for command in commands:
        stat = stats[command.key]
        code, tail = outcomes[command.key]
        tail = tail.replace(f"{work}{os.sep}", "")  # the run's temporary folder, machine-bound
        shown = "" if command.args[0] == "--help" else f": {tail}"
        stat.note = f"exit {code}{shown}"[:160]
        if code not in command.ok_codes:
            fig.notes.append(f"`{command.key}` exited with {code}: {tail}")
        fig.rows[command.key] = {column: stat}
    return fig, generated
