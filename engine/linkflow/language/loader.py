"""Loading in stages: read and parse (keeping positions), check the schema, build, check the graph.

Every file is loaded and every problem of every file is reported; nothing stops at the first.
Each file is read once: a built workflow carries the text it came from and its hash, which is
what the store keeps, and text the store kept is built again by `load_text`, the same stages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from linkflow.errors import DefinitionError, Problem
from linkflow.language.effect_builder import calls_services
from linkflow.language.graph import graph_problems
from linkflow.language.json_reader import (
    MAX_JSON_BYTES,
    located_later,
    parse_json,
    quick_json,
)
from linkflow.language.model import Workflow, content_hash
from linkflow.language.schema import validate_document
from linkflow.language.service_builder import ServiceSet, build_services
from linkflow.language.workflow_builder import build_workflow
from linkflow.language.yaml_loader import MAX_FILE_BYTES, Document, parse_text, read_text
from linkflow.source import SourceLocation

YAML_SUFFIXES = (".yaml", ".yml")
#: JSON files a folder walk picks up (named directly, any `.json` file is read): large worlds
#: are written as JSON, and other JSON files (editor settings, fixtures) may sit beside them.
JSON_WALK_SUFFIX = ".world.json"

#: Which top-level key marks which kind of file, and its schema.
KINDS = {
    "scenario": "scenario.schema.json",
    "world": "world.schema.json",
    "workflow": "workflow.schema.json",
    "world_schema": "world_schema.schema.json",
    "services": "services.schema.json",
}
#: The services file a workflow that calls services finds beside it when none was loaded.
SERVICES_FILES = ("services.yaml", "services.yml")


@dataclass
class LoadResult:
    """What a set of files held: the built definitions and every problem found."""

    files: list[str] = field(default_factory=list)
    workflows: dict[str, Workflow] = field(default_factory=dict)
    documents: dict[str, list[Document]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: What did build of workflows that have problems: the checks across files read them too,
    #: so one `validate` shows every problem; nothing runs them.
    partial: dict[str, Workflow] = field(default_factory=dict)
    #: The services declared by the loaded files (language/service_builder.py).
    services: ServiceSet = field(default_factory=ServiceSet)
    #: Workflows that call services, built once every file is read (a services file may come
    #: after them): (document, text, check_graph, document as written).
    waiting: list[tuple[Document, str, bool, dict[str, Any] | None]] = field(default_factory=list)
    services_ready: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        if self.problems:
            raise DefinitionError(self.problems)


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Files named directly, plus every YAML file below each folder, in a stable order."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if (p.suffix in YAML_SUFFIXES or p.name.endswith(JSON_WALK_SUFFIX))
                    and p.is_file()
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(SourceLocation(str(raw)), "no such file or folder"))
    return files, problems


def kind_of(doc: Document) -> str | None:
    if isinstance(doc.value, dict):
        for kind in KINDS:
            if kind in doc.value:
                return kind
    return None


Builder = Callable[[Document, "LoadResult"], list[Problem]]


def _build_workflow(
    doc: Document,
    result: LoadResult,
    source: str = "",
    check_graph: bool = True,
    declared: dict[str, Any] | None = None,
    services: ServiceSet | None = None,
) -> list[Problem]:
    if services is None and not result.services_ready and calls_services(doc.value):
        result.waiting.append((doc, source, check_graph, declared))
        return []
    built, problems = build_workflow(
        doc, partial=True, declared=declared, services=services or result.services
    )
    if built is None:
        return problems
    if problems or declared is not None:  # the graph of a partial workflow says nothing true
        if built.name not in result.workflows:
            result.partial.setdefault(built.name, built)
        return problems
    if check_graph:  # networkx: only when the text is new, not when the store kept it checked
        problems = graph_problems(built)
        if problems:
            return problems
    # a changed service declaration is a new definition: the hash covers both texts
    both = f"{source}\n{built.services_source}" if built.services_source else source
    workflow = replace(built, source=source, source_hash=content_hash(both))
    other = result.workflows.get(workflow.name)
    if other is not None:
        return [
            Problem(
                workflow.location,
                f"workflow '{workflow.name}' is already defined in {other.location}",
            )
        ]
    result.workflows[workflow.name] = workflow
    return []


def _check_world_schema(doc: Document, result: LoadResult) -> list[Problem]:
    from linkflow.language.world_schema import (  # noqa: PLC0415 - world schemas: only a world file needs them; the store rebuilding a workflow for `send` does not
        build_world_schema,
        remember_world_schema,
    )

    built, problems = build_world_schema(doc)
    if built is not None and not problems:  # looked up by the worlds beside it: not read again
        remember_world_schema(doc.file, built)
    return problems


def _check_scenario(doc: Document, result: LoadResult) -> list[Problem]:
    from linkflow.language.scenario_check import scenario_problems  # noqa: PLC0415 - scenarios: only a scenario file needs them; the store rebuilding a workflow for `send` does not

    def workflows_of(source: Path) -> tuple[dict[str, Workflow], bool]:
        loaded = workflow_catalog(source)
        return {**loaded.partial, **loaded.workflows}, loaded.ok

    return scenario_problems(doc, workflows_of)


def _add_services(doc: Document, result: LoadResult) -> list[Problem]:
    built, problems = build_services(doc)
    return problems + result.services.add(built)


#: The builders of the other kinds (a workflow is built by `_build_workflow`, with its text).
BUILDERS: dict[str, Builder] = {
    "world_schema": _check_world_schema,
    "scenario": _check_scenario,
    "services": _add_services,
}


def _services_beside(result: LoadResult, folder: Path, found: dict[Path, ServiceSet]) -> ServiceSet:
    """The services of the services file in `folder` not loaded already (read once each)."""
    if folder not in found:
        found[folder] = ServiceSet()
        for name in SERVICES_FILES:
            path = folder / name
            if str(path) in result.files or not path.is_file():
                continue
            beside = LoadResult(files=[str(path)])
            text, problems = read_source(path, str(path))
            if text is not None:
                _add_text(beside, text, str(path), {"services"})
            result.problems.extend(problems + beside.problems)
            found[folder] = beside.services
            break
    return found[folder]


def _build_waiting(result: LoadResult) -> None:
    """Build the workflows that call services, now that every loaded file was read: each with
    the loaded services, and those of a services file beside it."""
    result.services_ready = True
    found: dict[Path, ServiceSet] = {}
    for doc, text, check_graph, declared in result.waiting:
        services = ServiceSet()
        services.add(result.services)
        beside = _services_beside(result, Path(doc.file).parent, found)
        services.add(
            ServiceSet(
                {k: v for k, v in beside.services.items() if k not in services.services},
                beside.written,
            )
        )
        result.problems.extend(_build_workflow(doc, result, text, check_graph, declared, services))
    result.waiting.clear()


def _schema_problems(doc: Document, kind: str) -> list[Problem]:
    if kind == "world":  # the generic format, the bound and the project's record schemas
        from linkflow.language.world_schema import world_document_problems  # noqa: PLC0415 - world schemas: only a world file needs them; the store rebuilding a workflow for `send` does not

        return world_document_problems(doc)
    return validate_document(doc, KINDS[kind])


def _is_json(file: str) -> bool:
    return file.lower().endswith(".json")


def read_source(path: Path, display: str) -> tuple[str | None, list[Problem]]:
    """A definition file's text (the one read of it), or located problems."""
    return read_text(path, display, MAX_JSON_BYTES if _is_json(display) else MAX_FILE_BYTES)


def _parse(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """A document from a file's text: JSON by its suffix (the fast path first), else YAML."""
    if not _is_json(file):
        return parse_text(text, file)
    value = quick_json(text)
    if value is not None:  # sound: positions are found when a later check needs one
        return located_later(text, file, value), []
    return parse_json(text, file)


def _add_text(
    result: LoadResult, text: str, file: str, wanted: set[str], check_graph: bool = True
) -> None:
    """Parse, check and build one file's text into `result`."""
    doc, problems = _parse(text, file)
    result.problems.extend(problems)
    if doc is None or problems:
        return
    kind = kind_of(doc)
    if kind is None:
        keys = ", ".join(f"`{k}`" for k in KINDS)
        result.problems.append(
            Problem(doc.locate(()), f"not a linkflow file: expected a top-level key {keys}")
        )
        return
    if kind not in wanted:
        return
    schema_problems = _schema_problems(doc, kind)
    if schema_problems:
        result.problems.extend(schema_problems)
        result.services.broken = result.services.broken or kind == "services"
        if kind in ("workflow", "scenario"):  # the rest is still checked, for every problem
            _build_pruned(doc, kind, result, text, schema_problems)
        return
    result.documents.setdefault(kind, []).append(doc)
    if kind == "workflow":
        result.problems.extend(_build_workflow(doc, result, text, check_graph))
    elif kind in BUILDERS:
        result.problems.extend(BUILDERS[kind](doc, result))


def _build_pruned(
    doc: Document, kind: str, result: LoadResult, text: str, found: list[Problem]
) -> None:
    """Build (a workflow) or check (a scenario) what the schema did not refuse of a file, for
    the problems it shows; a problem where the schema already found one is left out (the
    schema's says it first)."""
    from linkflow.language.pruning import prune  # noqa: PLC0415 - pruning: only a file the schema refused needs it

    pruned = prune(doc, KINDS[kind])
    if pruned is None or not isinstance(pruned.value.get(kind), str):
        return
    here = {p.location for p in found}
    if kind == "workflow":
        later = _build_workflow(pruned, result, text, declared=doc.value)
    else:
        later = BUILDERS[kind](pruned, result)
    result.problems.extend(p for p in later if p.location not in here)


def load(
    paths: Sequence[str | Path],
    *,
    kinds: Iterable[str] | None = None,
    follow_handoffs: bool = True,
) -> LoadResult:
    """Load every definition file under `paths`; problems are collected, never raised.

    Workflows that a loaded workflow hands off to are looked up beside it when not named.
    """
    wanted = set(kinds) if kinds is not None else set(KINDS)
    if "workflow" in wanted:  # the services a workflow calls are part of its definition
        wanted.add("services")
    result = LoadResult()
    files, result.problems = expand_paths(paths)
    for path in files:
        display = str(path)
        result.files.append(display)
        text, problems = read_source(path, display)
        result.problems.extend(problems)
        if text is not None:
            _add_text(result, text, display, wanted)
    _build_waiting(result)
    if "workflow" in wanted and follow_handoffs:
        _load_handoff_targets(result)
        from linkflow.language.invariants import all_invariant_problems  # noqa: PLC0415 - checks across workflows: only a full load runs them; `send` rebuilds one workflow without
        from linkflow.language.model_checks import handoff_problems  # noqa: PLC0415 - checks across workflows: only a full load runs them; `send` rebuilds one workflow without

        result.problems.extend(handoff_problems(result.workflows))
        result.problems.extend(all_invariant_problems(result.workflows))
        from linkflow.language.static_checks import static_problems  # noqa: PLC0415 - checks across workflows: only a full load runs them; `send` rebuilds one workflow without

        result.problems.extend(static_problems({**result.partial, **result.workflows}))
    result.problems = _unique(result.problems)
    return result


def _unique(problems: list[Problem]) -> list[Problem]:
    """Each problem once (two checks may find the same one), in the order first found."""
    return list(dict.fromkeys(problems))


def load_text(text: str, file: str, *, check_graph: bool = True) -> LoadResult:
    """One file's text, through the same stages as `load` (no file is read).

    `check_graph=False` is for text that passed every check when it was stored: building it
    again needs only the schema, and the graph checks would import networkx into every
    `linkflow send`. Handoff targets are not looked for: a stored text names them, the store
    holds them; nor is a services file (`workflow_from_text` takes the declarations kept).
    """
    result = LoadResult(files=[file], services_ready=True)  # no services file is looked for
    _add_text(result, text, file, {"workflow"}, check_graph)
    return result


def load_text_at(text: str, file: str) -> LoadResult:
    """One workflow's text as if it were the file `file` (which need not exist): like
    `load_text`, except that a workflow that calls services finds them in the services file
    beside `file` (as `load` finds them), for a text read from another format."""
    result = LoadResult(files=[file])
    _add_text(result, text, file, {"workflow"})
    _build_waiting(result)
    return result


def workflow_from_text(
    text: str, file: str, *, check_graph: bool = True, services_source: str = ""
) -> Workflow:
    """The one workflow of a file's text, with the declaration of the services it calls as
    the store kept it (`Workflow.services_source`); raises DefinitionError with every problem
    found."""
    result = LoadResult(files=[file], services_ready=True)  # the kept services, no file
    if services_source:
        kept = LoadResult()
        _add_text(kept, services_source, f"{file} (services).json", {"services"})
        kept.raise_for_problems()
        result.services = kept.services
    _add_text(result, text, file, {"workflow"}, check_graph)
    _build_waiting(result)
    result.raise_for_problems()
    if not result.workflows:
        raise DefinitionError([Problem(SourceLocation(file), "the text holds no workflow")])
    return next(iter(result.workflows.values()))


def _unresolved(result: LoadResult) -> dict[Path, set[str]]:
    missing: dict[Path, set[str]] = {}
    for workflow in result.workflows.values():
        for state in workflow.states.values():
            if state.handoff and state.handoff not in result.workflows:
                missing.setdefault(Path(workflow.file).parent, set()).add(state.handoff)
    return missing


def _load_handoff_targets(result: LoadResult) -> None:
    """A handoff names a workflow, not a file: look for it beside the workflow that names it.

    So `linkflow validate flows/entry.yaml` or `run flows/entry.yaml` works without naming
    every file the entry flow hands off to; their problems are reported too.
    """
    scanned: set[Path] = set()
    while True:
        pending = {f: names for f, names in _unresolved(result).items() if f not in scanned}
        if not pending:
            return
        for folder, names in pending.items():
            scanned.add(folder)
            siblings = load([folder], kinds=["workflow"], follow_handoffs=False)
            for name in sorted(names):
                target = siblings.workflows.get(name)
                if target is None:
                    continue
                result.workflows[name] = target
                result.problems.extend(
                    p for p in siblings.problems if p.location.file == target.file
                )


def load_workflow(path: str | Path) -> Workflow:
    """Load one workflow file, raising DefinitionError with every problem found."""
    result = load([path], kinds=["workflow"])
    result.raise_for_problems()
    if not result.workflows:
        raise DefinitionError([Problem(SourceLocation(str(path)), "the file holds no workflow")])
    return next(iter(result.workflows.values()))


def load_workflows(paths: Sequence[str | Path]) -> dict[str, Workflow]:
    result = load(paths, kinds=["workflow"])
    result.raise_for_problems()
    return result.workflows


def workflow_catalog(source: Path) -> LoadResult:
    """The workflows of one folder, loaded once per process (scenarios share their folder)."""
    return _workflow_catalog(source.resolve())


@cache
def _workflow_catalog(source: Path) -> LoadResult:
    return load([source], kinds=["workflow"])
