"""What of a document the schema refused, taken out, so the checks after the schema still run.

A file with a mistyped key or a bad value used to stop at the schema: its expressions, names
and action targets were not looked at until that one problem was fixed. Here the parts the
schema refuses are removed (the smallest part first: a key, a value, then the mapping that
needed it), and what remains goes on to the builder and the checks across files. The result
is read only for its problems: a pruned workflow never runs.

Locations stay those of the file as written: removing a list item shifts the items after it,
and the pruned document maps their new indexes back to the old ones.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from linkflow.language.schema import leaf_errors, validator_for
from linkflow.language.yaml_loader import Document
from linkflow.source import DocPath, SourceLocation

#: Enough for a key inside a mapping inside a list item to go, with what required it.
MAX_ROUNDS = 6


@dataclass(frozen=True)
class PrunedDocument(Document):
    """A document with parts removed; `locate` answers in the file's own positions."""

    #: For each list (by its path as written), the indexes removed from it.
    removed_items: Mapping[DocPath, frozenset[int]] = field(default_factory=dict, repr=False)

    def written_path(self, path: DocPath) -> DocPath:
        """The path as written in the file of a path into the pruned value."""
        out: list[str | int] = []
        for step in path:
            gone = self.removed_items.get(tuple(out))
            written = step
            if isinstance(step, int) and gone:
                for index in sorted(gone):
                    if isinstance(written, int) and index <= written:
                        written += 1
            out.append(written)
        return tuple(out)

    def locate(self, path: DocPath, *, key: bool = False) -> SourceLocation:
        return Document.locate(self, self.written_path(path), key=key)


def _refused_paths(value: Any, schema_name: str) -> Iterator[DocPath]:
    """The smallest part of `value` behind each schema error (an unknown key, not its mapping)."""
    for raw in validator_for(schema_name).iter_errors(value):
        for error in leaf_errors(raw):
            path = tuple(error.absolute_path)
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                known = error.schema.get("properties", {})
                yield from ((*path, k) for k in error.instance if k not in known)
            elif error.validator == "propertyNames" or "propertyNames" in (
                error.absolute_schema_path or ()
            ):
                yield (*path, error.instance)
            else:
                yield path


def _remove(value: Any, paths: list[DocPath]) -> Any:
    """A copy of `value` without the parts at `paths` (paths as written)."""
    out = copy.deepcopy(value)
    # Deepest first, and a list's later items before its earlier ones: indexes stay valid.
    for path in sorted(paths, key=lambda p: (len(p), p), reverse=True):
        parent: Any = out
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            del parent[last]
        elif isinstance(parent, dict):
            parent.pop(last, None)
    return out


def _exists(value: Any, path: DocPath) -> bool:
    node = value
    for step in path:
        in_mapping = isinstance(node, dict) and step in node
        in_list = isinstance(node, list) and isinstance(step, int) and step < len(node)
        if not (in_mapping or in_list):
            return False
        node = node[step]
    return True


def prune(doc: Document, schema_name: str) -> PrunedDocument | None:
    """The document without the parts its schema refuses, or None when too much would go
    (the top level itself) for the rest to mean anything."""
    removed: set[DocPath] = set()
    pruned = PrunedDocument(doc.file, doc.value, doc.value_marks, doc.key_marks)
    for _ in range(MAX_ROUNDS):
        found = {pruned.written_path(p) for p in _refused_paths(pruned.value, schema_name)}
        if not found:
            return pruned
        if () in found:
            return None
        # A part inside one already removed needs no removing of its own.
        removed |= {p for p in found if not any(p[: len(r)] == r for r in removed)}
        removed = {p for p in removed if not any(r != p and p[: len(r)] == r for r in removed)}
        removed = {p for p in removed if _exists(doc.value, p)}
        items: dict[DocPath, set[int]] = {}
        for path in removed:
            parent = _node(doc.value, path[:-1])
            if isinstance(parent, list) and isinstance(path[-1], int):
                items.setdefault(path[:-1], set()).add(path[-1])
        pruned = PrunedDocument(
            doc.file,
            _remove(doc.value, list(removed)),
            doc.value_marks,
            doc.key_marks,
            {k: frozenset(v) for k, v in items.items()},
        )
    return None


def _node(value: Any, path: DocPath) -> Any:
    node = value
    for step in path:
        node = node[step]
    return node
