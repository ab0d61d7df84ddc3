"""Workflow definitions kept in the store by the hash of their YAML source.

An instance runs on the definition it started with: editing the YAML makes a new version for
new instances while old ones keep theirs. Each process compiles a version once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from linkflow.errors import DefinitionError, Problem
from linkflow.language.model import Workflow
from linkflow.source import SourceLocation

#: How many hex digits of a definition hash people are shown.
SHORT = 12


@dataclass(frozen=True, slots=True)
class Definition:
    """One workflow version: its content hash, name, the file it came from and its source."""

    hash: str
    name: str
    file: str
    source: str

    @property
    def short(self) -> str:
        return self.hash[:SHORT]


def content_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def compile_source(source: str, file: str) -> Workflow:
    """Build a workflow from stored YAML text.

    The whole of `validate` ran when it was stored; building it again needs only the schema
    (the graph checks would import networkx into every `linkflow send`).
    """
    from linkflow.language.schema import validate_document
    from linkflow.language.workflow_builder import build_workflow
    from linkflow.language.yaml_loader import parse_text

    doc, problems = parse_text(source, file)
    if doc is not None and not problems:
        problems = validate_document(doc, "workflow.schema.json")
    workflow = None
    if doc is not None and not problems:
        workflow, problems = build_workflow(doc)
    if workflow is None or problems:
        raise DefinitionError(problems or [Problem(SourceLocation(file), "no workflow")])
    return workflow


def read_definitions(path: str | Path) -> tuple[str, list[Definition]]:
    """The workflow in a file and every workflow it hands off to, checked as `validate` does.

    Returns the name of the file's own workflow and each definition; raises DefinitionError.
    """
    from linkflow.language.loader import load

    result = load([path], kinds=["workflow"])
    result.raise_for_problems()
    if not result.workflows:
        raise DefinitionError([Problem(SourceLocation(str(path)), "the file holds no workflow")])
    found = []
    for workflow in result.workflows.values():
        try:
            source = Path(workflow.file).read_text(encoding="utf-8-sig")
        except OSError as err:  # pragma: no cover - it was read a moment ago
            raise DefinitionError([Problem(workflow.location, f"cannot read: {err}")]) from None
        found.append(Definition(content_hash(source), workflow.name, workflow.file, source))
    return next(iter(result.workflows)), found
