"""`linkflow run`: one instance, a list of events, each step printed with its reason."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_format
from linkflow.cli.commands.output import load_workflow_and_handoffs, report_problems

if TYPE_CHECKING:
    from linkflow.language.model import Workflow
    from linkflow.runtime.effect_calls import EffectCall
    from linkflow.runtime.session import Session, SessionStep
    from linkflow.runtime.steps import Step
    from linkflow.runtime.world import World


class _Clock:
    """Real time, plus whatever `--wait` added."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "run",
        help="run a workflow through a list of events, printing each step",
        description="Create one instance of a workflow and send it events in order. "
        "Exits 1 when any event is refused.",
    )
    parser.add_argument(
        "workflow",
        metavar="WORKFLOW",
        help="a workflow file, or a workflow's name (looked up in the nearest workflows/ folder)",
    )
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
        help="print this data field (a dotted path), or a world value as "
        "world.<collection>.<key>[.field], after the first step and whenever it changes; "
        "repeatable",
    )
    parser.add_argument(
        "--event",
        "-e",
        action="append",
        default=[],
        metavar="NAME[=JSON]",
        help="an event to send, with an optional JSON object as payload; repeatable",
    )
    parser.add_argument(
        "--wait",
        action="append",
        dest="event",
        type=Wait.parse,
        metavar="SECONDS",
        help="let SECONDS pass between the events around it; a wait that runs out takes "
        "the state's timeout transition",
    )
    add_format(parser)
    return parser


class Wait(float):
    """`--wait SECONDS`, kept in order among the `--event`s."""

    @classmethod
    def parse(cls, text: str) -> Wait:
        try:
            seconds = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
        if not 0 <= seconds < 10**10:
            raise argparse.ArgumentTypeError("the number of seconds must be 0 or more")
        return cls(seconds)


def parse_event(text: str) -> tuple[str, dict[str, Any]]:
    """`name` or `name=JSON`; the payload must be a JSON object. Errors never repeat the text:
    a mistyped `-e` may hold a password."""
    from linkflow.language.json_text import JsonRefused, read_json

    name, sep, raw = text.partition("=")
    name = name.strip()
    if not _EVENT_NAME.match(name):
        raise ValueError(
            "an event is written NAME or NAME=JSON, and a name uses lowercase letters, digits "
            "and _ (an invoke's answer: NAME.done, NAME.failed; the value given is not repeated "
            "here)"
        )
    if not sep:
        return name, {}
    try:
        payload = read_json(raw)
    except JsonRefused as err:
        raise ValueError(f"the payload of '{name}' is not valid JSON: {err}") from None
    if not isinstance(payload, dict):
        raise ValueError(
            f"the payload of '{name}' must be a JSON object, as in {name}='{{\"field\": 1}}'"
        )
    return name, payload


#: Event names as the workflow schema defines them (an invoke's answers included), and no
#: longer than any sensible name.
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}(\.(done|failed))?$")


def load_data(text: str | None) -> tuple[dict[str, Any] | None, str]:
    """Initial data from a file or inline JSON; None and a reason when it is unusable.

    Text that starts with `{` or `[` is inline JSON, anything else a file: a long JSON text is never
    handed to the file system ("File name too long"), and an error never repeats the text.
    """
    if text is None:
        return {}, ""
    from linkflow.language.json_text import JsonRefused, read_json

    if text.lstrip().startswith(("{", "[")):
        try:
            value = read_json(text)
        except JsonRefused as err:
            return None, f"--data: the inline JSON is not valid JSON: {err}"
    else:
        from linkflow.language.json_reader import read_document

        doc, problems = read_document(Path(text))
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
        # a compound state's done events, taken in the same step
        then = "".join(f" (then {t.event} in '{left}')" for t, left in step.chained)
        return f"{step.event}: {step.source} -> {step.target}{then}{described}"
    refusal = step.refusal
    by = f" by {refusal.guard}" if refusal.guard else ""
    rule = f" [{refusal.rule}]" if refusal.rule else ""
    return f"{step.event}: refused{by}{rule}: {refusal.message} (still in '{step.source}')"


def watched_values(session: Session, fields: list[str]) -> dict[str, Any]:
    """Each watched field's value now: `world.<collection>...` reads the world, else data."""
    from linkflow.runtime.paths import PathError, lookup

    values = {}
    for field in fields:
        try:
            if field.startswith("world."):
                values[field] = lookup(session.world.collections, field.removeprefix("world."))
            else:
                values[field] = lookup(session.instance.data, field)
        except PathError as err:  # shown in place of the value: the path needs quoting
            values[field] = str(err)
    return values


def hide_secrets(value: Any, secrets: set[str]) -> Any:
    """`value` with every string equal to a secret sent in this run replaced: the world may
    hold what a secret payload field is checked against, and secrets are never printed."""
    if isinstance(value, dict):
        return {k: hide_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [hide_secrets(v, secrets) for v in value]
    if value is not None and str(value) in secrets:
        return "(secret)"
    return value


#: An event to send (its name and payload), or a `--wait`.
_Input = Wait | tuple[str, dict[str, Any]]


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.console import emit_json, error

    inputs = _inputs(args)
    if isinstance(inputs, str):
        error("run", inputs)
        return EXIT_USAGE
    events, data = inputs
    loaded = _load(args, out)
    if loaded is None:
        return EXIT_PROBLEMS
    workflow, workflows, world = loaded

    from linkflow.errors import UsageError
    from linkflow.runtime.session import EngineCache, Session

    clock = _Clock()
    try:
        session = Session(EngineCache(workflows), workflow.name, data, world, clock)
    except UsageError as err:
        error("run", str(err))
        return EXIT_USAGE
    secret_fields = {
        f for wf in workflows.values() for e in wf.events.values() for f in e.secret_fields
    }
    secrets = {
        str(v)
        for e in events
        if not isinstance(e, Wait)
        for k, v in e[1].items()
        if k in secret_fields and v is not None
    }
    steps, watched, waits = _play(session, clock, events, args.watch, secrets)
    if args.format == "json":
        emit_json(_json_report(session, workflow, steps, secrets), out)
    else:
        _print_steps(session, workflow, steps, watched, waits, out)
    return EXIT_OK if all(s.step.accepted for s in steps) else EXIT_PROBLEMS


def _inputs(args: argparse.Namespace) -> tuple[list[_Input], dict[str, Any]] | str:
    """The events to send in order and the initial data, or why they cannot be used."""
    try:
        events = [e if isinstance(e, Wait) else parse_event(e) for e in args.event]
    except ValueError as err:
        return str(err)
    from linkflow.language.workflow_builder import TIMEOUT_EVENT

    if any(not isinstance(e, Wait) and e[0] == TIMEOUT_EVENT for e in events):
        return f"'{TIMEOUT_EVENT}' is not sent: --wait SECONDS lets a state's wait run out"
    data, problem = load_data(args.data)
    if data is None:
        return problem
    return events, data


def _load(
    args: argparse.Namespace, out: TextIO
) -> tuple[Workflow, dict[str, Workflow], World | None] | None:
    """The workflow, every workflow it hands off to, and the world (None: an empty one); None
    after reporting why not."""
    from linkflow.cli.commands.console import say
    from linkflow.cli.commands.workflow_args import workflow_path

    path = workflow_path(args.workflow, "run")
    if path is None:
        return None
    found = load_workflow_and_handoffs(path, out, args.format)
    if found is None:
        return None
    workflow, workflows = found
    world = None
    if not args.world:
        say(f"note: no --world given: '{workflow.name}' runs on an empty world")
    else:
        from linkflow.runtime.world_loader import load_world

        world, problems = load_world(args.world)
        if world is None:
            report_problems(problems, out, args.format)
            return None
    return workflow, workflows, world


def _play(
    session: Session, clock: _Clock, events: list[_Input], watch: list[str], secrets: set[str]
) -> tuple[list[SessionStep], list[dict[str, Any]], dict[int, float]]:
    """Send the events (and let the waits run out) in order: the steps taken, the watched
    values after each, and the seconds waited just before a step, by its index."""
    watched: list[dict[str, Any]] = []
    steps: list[SessionStep] = []
    waits: dict[int, float] = {}
    for event in events:
        if isinstance(event, Wait):
            clock.now += float(event)
            fired = session.expire_all()  # a chain of waits fires link by link
            if fired:
                waits[len(steps)] = float(event)
        else:
            fired = [session.send(*event)]
        for entry in fired:
            steps.append(entry)
            watched.append(hide_secrets(watched_values(session, watch), secrets))
    return steps, watched, waits


def _json_report(
    session: Session, workflow: Workflow, steps: list[SessionStep], secrets: set[str]
) -> dict[str, Any]:
    instance = session.instance
    return {
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
        "world": hide_secrets(session.world.collections, secrets),
        "available": [o.as_dict() for o in instance.available_events() if o.available is not False],
    }


def _print_calls(calls: tuple[EffectCall, ...], out: TextIO) -> None:
    """The calls a step caused, one line each: `run` never performs them (effect_calls.py)."""
    for call in calls:
        answer = f", answered by {call.name}.done or {call.name}.failed" if call.answers else ""
        print(
            f"    -> {call.kind} {call.service}: {call.method} {call.url} (not performed{answer})",
            file=out,
        )


def _print_steps(
    session: Session,
    workflow: Workflow,
    steps: list[SessionStep],
    watched: list[dict[str, Any]],
    waits: dict[int, float],
    out: TextIO,
) -> None:
    from linkflow.cli.commands.console import paint
    from linkflow.language.durations import duration
    from linkflow.runtime.paths import ABSENT

    instance = session.instance
    print(f"{workflow.title} ({workflow.file})", file=out)
    print(f"    starts in '{workflow.initial}'", file=out)
    _print_calls(session.instances[0].engine.start_effects(session.instances[0]), out)
    for number, (entry, fields) in enumerate(zip(steps, watched, strict=True), 1):
        seconds = waits.get(number - 1)
        if seconds is not None:
            print(f"    (after {duration(seconds)} of waiting)", file=out)
        line = format_step(entry.step)
        shown_line = paint(line, "refused", out) if entry.step.refusal else line
        print(f"{number:>2}. {shown_line}", file=out)
        _print_calls(entry.step.effects, out)
        if entry.handed_to:
            print(f"    -> hands over to workflow '{entry.handed_to}'", file=out)
        for field, value in fields.items():
            if number > 1 and watched[number - 2][field] == value:
                continue  # only changes are news
            shown = "(nothing)" if value is ABSENT else json.dumps(value)
            print(f"       {field} = {shown}", file=out)
    ending = f" ({instance.outcome})" if instance.outcome else " (not finished)"
    print(f"    now in {session.workflow}: '{instance.state}'{ending}", file=out)
