"""Registering workflows: the models the loader built are stored under their content hash,
with the text it read; a file is loaded once, here, only when a path is given."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from linkflow.errors import DefinitionError, Problem, UsageError
from linkflow.language.loader import load
from linkflow.language.model import Workflow
from linkflow.source import SourceLocation
from linkflow.store.backend import Tx
from linkflow.store.core import StoreCore
from linkflow.store.definitions import Definition
from linkflow.store.errors import NotFound


def load_for_store(path: str | Path) -> list[Workflow]:
    """The workflow in a file, then every workflow it hands off to (found beside it), checked
    as `validate` checks them; raises DefinitionError."""
    result = load([path], kinds=["workflow"])
    result.raise_for_problems()
    if not result.workflows:
        raise DefinitionError([Problem(SourceLocation(str(path)), "the file holds no workflow")])
    return list(result.workflows.values())


def _models(workflows: Iterable[Workflow | str | Path]) -> list[Workflow]:
    models: list[Workflow] = []
    for given in workflows:
        found = [given] if isinstance(given, Workflow) else load_for_store(given)
        for workflow in found:
            if not workflow.source:
                raise UsageError(
                    f"workflow '{workflow.name}' carries no source text to store: load it "
                    "with linkflow.language.loader"
                )
            models.append(workflow)
    return models


class Registry(StoreCore):
    """`register` and `definition` (see `Store`)."""

    def register(self, *workflows: Workflow | str | Path) -> Definition:
        """Store loaded workflows (or the workflows of a file and those it hands off to) as
        definitions, in one transaction; the first one's definition.

        A model is stored as it is, with the text it was loaded from: no file is read again.
        Every workflow one of them hands off to must be among them or already stored.
        """
        models = _models(workflows)
        if not models:
            raise UsageError("register needs a workflow")
        now = self.clock()
        names = {w.name for w in models}

        def work(tx: Tx) -> None:
            tx.many(
                self.sql["insert_definition"],
                [(w.source_hash, w.name, w.file, w.source, now, w.services_source) for w in models],
            )
            for workflow in models:
                for target in sorted({s.handoff for s in workflow.states.values() if s.handoff}):
                    if target in names:
                        continue
                    if tx.one(self.sql["latest_definition_hash"], (target,)) is None:
                        raise UsageError(
                            f"workflow '{workflow.name}' hands off to '{target}', which is "
                            "not in the store: register it too"
                        )

        self._write(work, keeps=True)  # definitions only: nothing the cache holds
        for workflow in models:
            self._known.setdefault(workflow.source_hash, workflow)
        first = models[0]
        return Definition(first.source_hash, first.name, first.file, first.source)

    def definition(self, name_or_hash: str) -> Definition:
        """A stored definition by content hash (or its prefix), or the newest of a name."""
        with self.backend.read() as tx:
            row = tx.one(self.sql["definition_by_name"], (name_or_hash,)) or tx.one(
                self.sql["definition_by_hash_prefix"], (name_or_hash, name_or_hash + "g")
            )
            if row is None:
                names = [r[0] for r in tx.all(self.sql["definition_names"])]
        if row is None:
            known = ", ".join(names) or "none yet"
            raise NotFound(
                f"no workflow named '{name_or_hash}' in the store (stored: {known}); "
                "start it from its YAML file once"
            )
        return Definition(*row)

    def _resolve_start(self, workflow: str | Path | Workflow) -> Definition:
        """What `start` names: a loaded model, a workflow file, or a stored name or hash."""
        if isinstance(workflow, Workflow):
            return self.register(workflow)
        path = Path(workflow)
        if path.suffix in (".yaml", ".yml") or path.is_file():
            return self.register(path)
        return self.definition(str(workflow))
