"""Scenario files as definitions: recognising and reading them, and checking the names they use
against their workflows without running anything (for `linkflow validate`).

Running scenarios is `linkflow.testing`; this module only reads, so the loader can use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from linkflow.errors import Problem
from linkflow.language.data_types import value_problem
from linkflow.language.dotted import (
    PathError,
    Segment,
    ambiguity,
    key_ends,
    readings,
    split_dotted,
)
from linkflow.language.durations import DurationError, parse_duration
from linkflow.language.model import Workflow
from linkflow.language.schema import validate_document
from linkflow.language.workflow_builder import TIMEOUT_EVENT
from linkflow.language.workflow_checks import suggest
from linkflow.language.yaml_loader import Document, read_file
from linkflow.source import DocPath


def is_scenario_file(path: Path) -> bool:
    """Cheap test used by collectors: a YAML file whose top level has a `scenario:` key."""
    if path.suffix not in (".yaml", ".yml"):
        return False
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return any(line.startswith("scenario:") for line in handle)
    except OSError:
        return False


#: The line that marks a generated, unfinished scenario: pytest and `linkflow test` skip it.
SKELETON_MARK = "# linkflow: unfinished skeleton"


def is_skeleton(path: Path) -> bool:
    """Whether the file still has the mark `linkflow generate` puts on an unfinished skeleton."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return any(line.startswith(SKELETON_MARK) for line in handle)
    except OSError:
        return False


def read_scenario(path: Path) -> tuple[Document | None, list[Problem]]:
    doc, problems = read_file(path, str(path))
    if doc is None or problems:
        return None, problems
    if not isinstance(doc.value, dict) or "scenario" not in doc.value:
        return None, [
            Problem(doc.locate(()), "not a scenario: expected a top-level `scenario` key")
        ]
    problems = validate_document(doc, "scenario.schema.json")
    return (None, problems) if problems else (doc, [])


#: Names a folder the user allows scenario paths to reach, instead of the project's own.
ROOT_VARIABLE = "LINKFLOW_ROOT"
_PROJECT_MARKERS = ("workflows", "pyproject.toml", ".git")


def project_root(start: Path) -> Path:
    """Where a scenario's `world:` and `workflows:` may point: the folder named by
    LINKFLOW_ROOT, else the nearest folder above the scenario that holds `workflows/`,
    `pyproject.toml` or `.git`, else the folder the command runs in when the scenario is
    inside it (a project copied to a bare folder works from there), else the scenario's own
    folder."""
    named = os.environ.get(ROOT_VARIABLE)
    if named:
        return Path(named).resolve()
    start = start.resolve()
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in _PROJECT_MARKERS):
            return folder
    try:
        here = Path.cwd()
    except OSError:  # the folder the command runs in was removed
        return start
    return here if start.is_relative_to(here) and here != Path(here.anchor) else start


def scenario_path(doc: Document, key: str) -> tuple[Path | None, Problem | None]:
    """The file or folder a scenario's `world:` or `workflows:` names, resolved and checked:
    inside the project root, existing, and free of control characters. Located problems."""
    raw = doc.value[key]
    where = doc.locate((key,))
    if any(ord(char) < 32 or ord(char) == 127 for char in raw):
        return None, Problem(where, f"the `{key}` path holds a control character")
    if len(raw) > _MAX_PATH_CHARS:
        return None, Problem(where, f"the `{key}` path is longer than {_MAX_PATH_CHARS} characters")
    here = Path(doc.file).parent
    root = project_root(here)
    try:
        target = (here / raw).resolve()
    except (OSError, RuntimeError, ValueError):
        return None, Problem(where, f"the `{key}` path '{raw}' cannot be resolved")
    if not target.is_relative_to(root):
        return None, Problem(
            where,
            f"the `{key}` path '{raw}' leads outside the project ({root}); run linkflow "
            f"from the project's folder, or set {ROOT_VARIABLE} to allow another folder",
        )
    wanted_file = key == "world"
    if not (target.is_file() if wanted_file else target.exists()):
        what = "file" if wanted_file else "file or folder"
        return None, Problem(where, f"the `{key}` path '{raw}' names no {what}")
    return target, None


_MAX_PATH_CHARS = 1024


def find_workflows_dir(start: Path) -> Path | None:
    """The nearest `workflows/` folder at or above `start` (resolved: `.` has no parents)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "workflows"
        if candidate.is_dir():
            return candidate
    return None


#: The workflows of a folder (loaded once), what did build of those with problems included,
#: and whether every file there built without one.
Catalog = Callable[[Path], "tuple[Mapping[str, Workflow], bool]"]


def scenario_problems(doc: Document, catalog: Catalog) -> list[Problem]:
    """Names a scenario uses that its workflows do not have, located; for `linkflow validate`."""
    spec: dict[str, Any] = doc.value
    here = Path(doc.file).parent
    problems: list[Problem] = _world_problems(doc) if "world" in spec else []
    if "workflows" in spec:
        source, problem = scenario_path(doc, "workflows")
        if problem is not None:
            return [*problems, problem]
    else:
        source = find_workflows_dir(here)
    if source is None:
        problems.append(Problem(doc.locate(("workflow",)), "no workflows found for this scenario"))
        return problems
    workflows, all_built = catalog(source)
    start = spec["workflow"]
    if start not in workflows and not all_built:
        return problems  # it may be a file that does not parse: its problems say so
    if start not in workflows:
        known = ", ".join(sorted(workflows)) or "none"
        where = doc.locate(("workflow",))
        return [*problems, Problem(where, f"no workflow named '{start}' (there: {known})")]
    reachable = _reachable(workflows, start)
    flows = [workflows[n] for n in reachable if n in workflows]
    # `timeout` is the engine's own event: a scenario may show that sending it is refused.
    events = {e for w in flows for e in w.events} | {TIMEOUT_EVENT}
    # a compound state matches any state in it (`state: parent`)
    # (and in a parallel state, each region's leaf: the state is their `+`-joined names)
    states = {s for w in flows for s in (*w.states, *w.compounds, *w.region_leaves)}
    problems += _data_problems(doc, workflows[start])
    offering = {f"{e.name}.{f}" for w in flows for e in w.events.values() for f in e.choices}
    for number, step in enumerate(spec["steps"]):
        path: DocPath = ("steps", number)
        problems += _wait_problems(doc, path, step)
        problems += _choice_problems(doc, path, step, offering)
        problems += _effect_problems(doc, path, step, flows)
        if step.get("secrets") and step.get("send") in events:
            problems += _secret_problems(doc, path, step, flows)
        available = (step.get("expect") or {}).get("available") or ()
        for j, name in enumerate(available):
            if name not in events - {TIMEOUT_EVENT}:
                message = _unknown_name_message(name, events, "event", start, reachable)
                problems.append(Problem(doc.locate((*path, "expect", "available", j)), message))
        wanted = (step.get("expect") or {}).get("state")
        problems += _state_list_problems(doc, path, wanted, states, start, reachable)
        checks = [
            ("send", step.get("send"), events, "event"),
            ("state", wanted if isinstance(wanted, str) else None, states, "state"),
            ("workflow", (step.get("expect") or {}).get("workflow"), set(reachable), "workflow"),
        ]
        for key, name, known_names, noun in checks:
            if name is None or name in known_names:
                continue
            at = (*path, key) if key == "send" else (*path, "expect", key)
            message = _unknown_name_message(name, known_names, noun, start, reachable)
            problems.append(Problem(doc.locate(at), message))
    return problems


def _effect_problems(
    doc: Document, path: DocPath, step: Mapping[str, Any], flows: list[Workflow]
) -> list[Problem]:
    """A step's answer to a call, and the calls it expects, against the calls the workflows
    make: `effect:` names an invoke, `expect.effects` invokes, notified and compensating
    services, and an answer needs some invoke to answer (whether one is pending is known when
    it runs)."""
    invokes = {spec.name for w in flows for spec in w.invokes.values()}
    notified = {s.name for w in flows for found in w.notifies.values() for s in found}
    notified |= {s.name for w in flows for s in w.compensations.values()}
    problems = []
    answering = next((k for k in ("respond", "fail") if k in step), "")
    if answering and not invokes:
        problems.append(
            Problem(
                doc.locate((*path, answering)),
                f"`{answering}` answers a call, and no state of these workflows invokes one",
            )
        )
    name = step.get("effect")
    if isinstance(name, str) and invokes and name not in invokes:
        problems.append(
            Problem(
                doc.locate((*path, "effect")),
                f"no state invokes '{name}'{suggest(name, invokes)} "
                f"(invokes: {', '.join(sorted(invokes))})",
            )
        )
    expected = (step.get("expect") or {}).get("effects") or ()
    for j, called in enumerate(expected):
        if called not in invokes | notified:
            known = ", ".join(sorted(invokes | notified)) or "none"
            problems.append(
                Problem(
                    doc.locate((*path, "expect", "effects", j)),
                    f"no call named '{called}'{suggest(called, invokes | notified)} "
                    f"(calls: {known})",
                )
            )
    return problems


def _state_list_problems(
    doc: Document,
    path: DocPath,
    wanted: Any,
    states: set[str],
    start: str,
    reachable: list[str],
) -> list[Problem]:
    """The unknown states of an expected set of active states (`state: [a.x, b.y]`)."""
    problems = []
    for j, name in enumerate(wanted if isinstance(wanted, list) else ()):
        if name not in states:
            message = _unknown_name_message(name, states, "state", start, reachable)
            problems.append(Problem(doc.locate((*path, "expect", "state", j)), message))
    return problems


def _wait_problems(doc: Document, path: DocPath, step: Mapping[str, Any]) -> list[Problem]:
    """A step's `wait` that the schema lets through but is no duration (`P`, `PT`)."""
    if "wait" not in step:
        return []
    try:
        parse_duration(step["wait"])
    except DurationError as err:
        return [Problem(doc.locate((*path, "wait")), str(err))]
    return []


def _world_problems(doc: Document) -> list[Problem]:
    """The scenario's `world:` file, and the paths its `world_changes` name in it."""
    world_file, problem = scenario_path(doc, "world")
    if world_file is None:
        return [problem] if problem is not None else []
    return world_change_problems(doc, world_file) if doc.value.get("world_changes") else []


def _reachable(workflows: Mapping[str, Workflow], start: str) -> list[str]:
    """The start and every workflow it may hand off to, in the order they are found."""
    reachable = [start]
    for name in reachable:
        for state in workflows[name].states.values():
            if state.handoff and state.handoff not in reachable:
                reachable.append(state.handoff)
    return reachable


def _choice_problems(
    doc: Document, path: DocPath, step: Mapping[str, Any], offering: set[str]
) -> list[Problem]:
    """The `expect: choices` of a step that name no event field offering choices."""
    problems: list[Problem] = []
    for dotted in (step.get("expect") or {}).get("choices") or {}:
        if dotted not in offering:
            hint = suggest(dotted, offering)
            problems.append(
                Problem(
                    doc.locate((*path, "expect", "choices", dotted), key=True),
                    f"no event field '{dotted}' offers choices{hint}",
                )
            )
    return problems


def _unknown_name_message(
    name: str, known_names: set[str], noun: str, start: str, reachable: list[str]
) -> str:
    hint = suggest(name, known_names)
    if noun == "workflow":
        reach = ", ".join(reachable)
        return f"the scenario cannot reach a workflow '{name}' (only: {reach}){hint}"
    scope = f"workflow '{start}'"
    if len(reachable) > 1:
        scope += " or the workflows it hands off to"
    return f"no {noun} '{name}' in {scope}{hint}"


def _secret_problems(
    doc: Document, path: DocPath, step: Mapping[str, Any], flows: list[Workflow]
) -> list[Problem]:
    """`secrets:` names only fields the event marks secret, and none also given in `payload`:
    reading a plain field from the environment would hide test input for no reason."""
    event = step["send"]
    secret = {f for w in flows if event in w.events for f in w.events[event].secret_fields}
    payload = step.get("payload") or {}
    problems = []
    for field in step["secrets"]:
        where = doc.locate((*path, "secrets", field), key=True)
        if field not in secret:
            known = ", ".join(sorted(secret)) or "none"
            problems.append(
                Problem(
                    where,
                    f"'{field}' is not a secret field of event '{event}' (its secret fields: "
                    f"{known}); only secret fields are read from the environment",
                )
            )
        elif field in payload:
            problems.append(
                Problem(where, f"'{field}' is given in both `payload` and `secrets`: keep one")
            )
    return problems


def _data_problems(doc: Document, workflow: Workflow) -> list[Problem]:
    """The scenario's `data:` against the fields and types the start workflow declares."""
    problems = []
    for key, value in (doc.value.get("data") or {}).items():
        if key not in workflow.data:
            hint = suggest(key, workflow.data)
            message = f"workflow '{workflow.name}' has no data field '{key}'{hint}"
            problems.append(Problem(doc.locate(("data", key), key=True), message))
            continue
        why = value_problem(workflow.data_types.get(key, {}), value)
        if why:
            problems.append(Problem(doc.locate(("data", key)), f"data field '{key}' {why}"))
    return problems


def world_change_problems(doc: Document, world_file: Path) -> list[Problem]:
    """`world_changes` paths that lead nowhere in the scenario's world: an unknown collection,
    or a field its records do not have (with did-you-mean); `linkflow test` would stop at the
    first, and only when it runs."""
    from linkflow.language.json_reader import read_document  # noqa: PLC0415 - world files: only a scenario with world_changes reads one here
    from linkflow.language.world_schema import world_schema_of  # noqa: PLC0415 - world schemas: only a scenario with world_changes needs them

    world, problems = read_document(world_file)
    collections = world.value.get("collections") if world is not None and not problems else None
    if not isinstance(collections, dict):
        return []  # the world file's own problems are reported where they are
    schema = world_schema_of(world)[0] if world is not None else None
    raw = doc.value["world_changes"]
    found = []
    for where, change in world_changes(raw):
        path = change.get("path")
        message = _change_problem(path, collections, schema) if isinstance(path, str) else ""
        if message:
            found.append(Problem(doc.locate(where, key=isinstance(raw, dict)), message))
    return found


def world_changes(raw: Any) -> list[tuple[DocPath, Mapping[str, Any]]]:
    """Both forms of `world_changes`, as (where, {path, value | remove}) in file order."""
    if isinstance(raw, dict):
        return [(("world_changes", path), {"path": path, "value": v}) for path, v in raw.items()]
    return [(("world_changes", i, "path"), change) for i, change in enumerate(raw)]


def _change_problem(path: str, collections: Mapping[str, Any], schema: Any) -> str:
    """Why a dotted `world_changes` path leads nowhere, or reads two ways, or ''. Record ids
    may hold periods (the keys there decide how parts join) or be quoted (`orders["po.1"]`)."""
    try:
        segments = split_dotted(path)
    except PathError as err:
        return str(err)
    ambiguous = ambiguity(path, readings(collections, segments))
    if ambiguous:
        return ambiguous
    names = set(collections) | (set(schema.records) if schema is not None else set())
    ends = key_ends(segments, 0, names)
    first = segments[0].text
    if not ends:
        return f"'{path}': the world has no collection '{first}'{suggest(first, names)}"
    cut = ends[0]
    collection = ".".join(s.text for s in segments[:cut])
    if cut == len(segments):
        return f"'{path}' names a whole collection: change a record, as in {collection}.<id>"
    return _record_problem(path, segments, cut, collections.get(collection), schema)


def _record_problem(path: str, segments: list[Segment], cut: int, records: Any, schema: Any) -> str:
    """Why the record and field a change path names after its collection lead nowhere, or ''."""
    collection = ".".join(s.text for s in segments[:cut])
    records = records if isinstance(records, dict) else {}
    fields = schema.fields(collection) if schema is not None else None
    if segments[cut].match is not None:  # a record named by what it holds
        matched = [k for k, v in records.items() if segments[cut].matches(v)]
        if not matched:
            return f"'{path}': no record of '{collection}' matches {segments[cut].text}"
        return _field_problem(path, segments, cut + 1, collection, records[matched[0]], fields)
    record_ends = key_ends(segments, cut, records)
    if not record_ends:  # a new record: written whole, `collection.id`
        if len(segments) - cut > 1 and segments[-1].text in (fields or ()):
            record = ".".join(s.text for s in segments[cut:-1])
            return (
                f"'{path}': collection '{collection}' has no record '{record}'"
                f"{suggest(record, records)}; add a new record whole, as {collection}.<id>"
            )
        return ""
    end = record_ends[0]
    record = records[".".join(s.text for s in segments[cut:end])]
    return _field_problem(path, segments, end, collection, record, fields)


def _field_problem(
    path: str,
    segments: list[Segment],
    end: int,
    collection: str,
    record: Any,
    fields: frozenset[str] | None,
) -> str:
    """Why the field a change path names in an existing record is not one its records have."""
    known = set(fields) if fields is not None else set(record) if isinstance(record, dict) else None
    field = segments[end].text if end < len(segments) else None
    if field is not None and known is not None and field not in known:
        return f"'{path}': a record of '{collection}' has no field '{field}'{suggest(field, known)}"
    return ""
