"""`linkflow run`: one instance, a list of events, each step printed with its reason."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from engine.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_format
from engine.cli.commands.output import load_workflow_and_handoffs, report_problems

if TYPE_CHECKING:
    from engine.runtime.machine import Step


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "run",
        help="run a workflow through a list of events, printing each step",
        description="Create one instance of a workflow and send it events in order. "
        "Exits 1 when any event is refused.",
    )
    parser.add_argument("workflow", metavar="WORKFLOW", help="the workflow file")
    parser.add_argument("--world", metavar="FILE", help="a world file the workflow acts on")
    parser.add_argument(
        "--data", metavar="FILE|JSON", help="initial data: a JSON or YAML file, or inline JSON"
    )
    parser.add_argument(
        "--watch",
        "-w",
        action="append",
        default=[],
        metavar="FIELD",
        help="print this data field (a dotted path) after the first step and whenever it "
        "changes; repeatable",
    )
    parser.add_argument(
        "--event",
        "-e",
        action="append",
        default=[],
        metavar="NAME[=JSON]",
        help="an event to send, with an optional JSON object as payload; repeatable",
    )
    add_format(parser)
    return parser


def parse_event(text: str) -> tuple[str, dict[str, Any]]:
    """`name` or `name=JSON`; the payload must be a JSON object. Errors never repeat the text:
    a mistyped `-e` may hold a password."""
    from engine.runtime.json_values import parse_json

    name, sep, raw = text.partition("=")
    name = name.strip()
    if not _EVENT_NAME.match(name):
        raise ValueError(
            "an event is written NAME or NAME=JSON, and a name uses lowercase letters, digits "
            "and _ (the value given is not repeated here)"
        )
    if not sep:
        return name, {}
    payload, problem = parse_json(raw)
    if problem:
        raise ValueError(f"the payload of '{name}' is {problem}")
    if not isinstance(payload, dict):
        raise ValueError(
            f"the payload of '{name}' must be a JSON object, as in {name}='{{\"field\": 1}}'"
        )
    return name, payload


#: Event names as the workflow schema defines them, and no longer than any sensible name.
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def load_data(text: str | None) -> tuple[dict[str, Any] | None, str]:
    """Initial data from a file or inline JSON; None and a reason when it is unusable.

    Text that starts with `{` or `[` is inline JSON, anything else a file: a long JSON text is never
    handed to the file system ("File name too long"), and an error never repeats the text.
    """
    if text is None:
        return {}, ""
    from engine.runtime.json_values import parse_json

    if text.lstrip().startswith(("{", "[")):
        value, problem = parse_json(text)
        if problem:
            return None, f"--data: the inline JSON is {problem}"
    else:
        from engine.language.yaml_loader import read_file

        doc, problems = read_file(Path(text))
        if problems or doc is None:
            return None, "\n".join(str(p) for p in problems)
        value = doc.value
    if not isinstance(value, dict):
        return None, "--data must be a mapping of field names to values"
    return value, ""


def format_step(step: Step) -> str:
    if step.refusal is None:
        transition = step.transition
        described = f" - {transition.description}" if transition and transition.description else ""
        return f"{step.event}: {step.source} -> {step.target}{described}"
    refusal = step.refusal
    by = f" by {refusal.guard}" if refusal.guard else ""
    rule = f" [{refusal.rule}]" if refusal.rule else ""
    return f"{step.event}: refused{by}{rule}: {refusal.message} (still in '{step.source}')"


def run(args: argparse.Namespace, out: TextIO) -> int:
    try:
        events = [parse_event(e) for e in args.event]
    except ValueError as err:
        print(f"linkflow run: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    data, problem = load_data(args.data)
    if data is None:
        print(f"linkflow run: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    found = load_workflow_and_handoffs(args.workflow, out, args.format)
    if found is None:
        return EXIT_PROBLEMS
    workflow, workflows = found
    world = None
    if args.world:
        from engine.runtime.world_loader import load_world

        world, problems = load_world(args.world)
        if world is None:
            report_problems(problems, out, args.format)
            return EXIT_PROBLEMS

    from engine.errors import UsageError
    from engine.runtime.paths import ABSENT, lookup
    from engine.runtime.session import EngineCache, Session

    try:
        session = Session(EngineCache(workflows), workflow.name, data, world)
    except UsageError as err:
        print(f"linkflow run: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    watched: list[dict[str, Any]] = []
    steps = []
    for name, payload in events:
        steps.append(session.send(name, payload))
        watched.append({f: lookup(session.instance.data, f) for f in args.watch})
    instance = session.instance
    if args.format == "json":
        report = {
            "workflow": workflow.name,
            "file": workflow.file,
            "steps": [
                {"workflow": s.workflow, **s.step.as_dict(), "handoff": s.handed_to or None}
                for s in steps
            ],
            "current_workflow": session.workflow,
            "state": instance.state,
            "outcome": instance.outcome,
            "data": instance.data,
        }
        print(json.dumps(report, indent=2, default=str), file=out)
    else:
        print(f"{workflow.title} ({workflow.file})", file=out)
        print(f"    starts in '{workflow.initial}'", file=out)
        for number, (entry, fields) in enumerate(zip(steps, watched, strict=True), 1):
            print(f"{number:>2}. {format_step(entry.step)}", file=out)
            if entry.handed_to:
                print(f"    -> hands over to workflow '{entry.handed_to}'", file=out)
            for field, value in fields.items():
                if number > 1 and watched[number - 2][field] == value:
                    continue  # only changes are news
                shown = "(nothing)" if value is ABSENT else json.dumps(value)
                print(f"       {field} = {shown}", file=out)
        ending = f" ({instance.outcome})" if instance.outcome else " (not finished)"
        print(f"    now in {session.workflow}: '{instance.state}'{ending}", file=out)
    return EXIT_OK if all(s.step.accepted for s in steps) else EXIT_PROBLEMS
