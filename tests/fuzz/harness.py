"""The child side of the fuzz suite: runs a batch of cases in one process and reports, per
case, what it saw. The parent (tests/fuzz/runner.py) starts it in a subprocess, so a native
crash (a segmentation fault in a library) kills only the child and is seen as a signal.

A case is JSON: {"id", "kind", ...}. Kinds:
- "validate": files to write ({relative path: text}) and the paths to validate and test;
  every problem must carry a line and a column.
- "run": a workflow (and world) text and events to send through the Python API; a refusal
  must change nothing, and the canary (sent as a secret field) must be found nowhere.
- "expression": a CEL source and an activation; only ExpressionError may come out.
Every case: no exception escapes, no "Traceback" in any output, and its time is reported.

Usage: python -m tests.fuzz.harness < cases.json > results.jsonl
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from linkflow.cli import main as cli_main
from linkflow.errors import DefinitionError, UsageError
from linkflow.language.expressions import Expression, ExpressionError
from linkflow.language.loader import load_workflow
from linkflow.language.schema import validator_for
from linkflow.runtime.engine import Engine
from linkflow.runtime.session import EngineCache, Session
from linkflow.runtime.world_loader import load_world

#: A field every fuzzed payload may carry as a secret, with this value: it must never show.
CANARY = "canary-7f3a-secret"


def _cli(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli_main(args)
        except SystemExit as exit_:  # argparse
            code = exit_.code if isinstance(exit_.code, int) else 2
    return int(code or 0), out.getvalue() + err.getvalue()


def _unlocated(report: dict[str, Any]) -> list[str]:
    problems = list(report.get("problems") or [])
    for scenario in report.get("scenarios") or []:
        problems += scenario.get("problems") or []
        problems += scenario.get("failures") or []
    return [
        str(p.get("message"))
        for p in problems
        if not isinstance(p.get("line"), int) or not isinstance(p.get("column"), int)
    ]


def run_validate(case: dict[str, Any], folder: Path) -> list[str]:
    findings: list[str] = []
    for rel, text in case["files"].items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
    for command in ("validate", "test"):
        targets = [str(folder / p) for p in case.get(command, [])]
        if not targets:
            continue
        code, output = _cli([command, "--format", "json", *targets])
        if "Traceback" in output:
            findings.append(f"{command}: traceback in the output")
        if code not in (0, 1):
            findings.append(f"{command}: exit {code}")
        try:
            report = json.loads(output[output.index("{") :]) if "{" in output else {}
        except ValueError:
            findings.append(f"{command}: output is not JSON: {output[:200]!r}")
            continue
        findings += [f"{command}: problem without a location: {m}" for m in _unlocated(report)]
        if CANARY in output:
            findings.append(f"{command}: the canary is in the output")
    return findings


def _snapshot(session: Any) -> str:
    instance = session.instance
    return json.dumps(
        [instance.state, instance.data, session.world.collections], sort_keys=True, default=repr
    )


def run_events(case: dict[str, Any], folder: Path) -> list[str]:
    (folder / "w.yaml").write_text(case["workflow"], encoding="utf-8")
    try:
        workflow = load_workflow(folder / "w.yaml")
    except DefinitionError as err:
        return [f"problem without a location: {p}" for p in err.problems if p.location.line is None]
    world = None
    if case.get("world") is not None:
        (folder / "world.yaml").write_text(case["world"], encoding="utf-8")
        world, _ = load_world(folder / "world.yaml")
    Engine(workflow)  # compiles
    try:
        session = Session(EngineCache({workflow.name: workflow}), workflow.name, None, world)
    except UsageError:
        return []
    findings: list[str] = []
    for name, payload in case["events"]:
        before = _snapshot(session)
        entry = session.send(name, payload)
        if not entry.step.accepted and _snapshot(session) != before:
            findings.append(f"refused '{name}' changed the instance")
    options = session.instance.available_events()
    places = {
        "history": [h.as_dict() for i in session.instances for h in i.history],
        "data": [i.data for i in session.instances],
        "world": session.world.collections,
        "steps": [repr(s) for s in session.steps],
        "options": [repr(o) for o in options],
    }
    for where, value in places.items():
        if CANARY in json.dumps(value, default=repr):
            findings.append(f"the canary is in the {where}")
    return findings


def run_expression(case: dict[str, Any], folder: Path) -> list[str]:
    try:
        expression = Expression.compile(case["source"])
        expression.evaluate(case.get("activation") or {})
    except ExpressionError:
        pass
    return []


KINDS: dict[str, Callable[[dict[str, Any], Path], list[str]]] = {
    "validate": run_validate,
    "run": run_events,
    "expression": run_expression,
}


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="linkflow-fuzz-"))
    # CPU time of this process: the machine is shared, and wall time would measure the
    # neighbours. A hang (no CPU) is caught by the parent's timeout instead.
    started = time.process_time()
    try:
        findings = KINDS[case["kind"]](case, folder)
    except Exception:
        findings = ["exception: " + traceback.format_exc(limit=3)[-1500:]]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"id": case["id"], "seconds": time.process_time() - started, "findings": findings}


def _warm_up() -> None:
    """The compiled schemas (the imports are at the top), once per process, so they count
    against no case."""

    for name in ("workflow.schema.json", "scenario.schema.json", "world.schema.json"):
        validator_for(name)
    _cli(["validate", str(Path(__file__).resolve().parents[2] / "examples")])


def main() -> int:
    cases = json.load(sys.stdin)
    _warm_up()
    for case in cases:
        print(json.dumps(run_case(case)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
