"""Workflow definitions kept in the store by the hash of their source text.

An instance runs on the definition it started with: editing the YAML makes a new version for
new instances while old ones keep theirs. The text is the one the loader read (a `Workflow`
carries it and its hash); each process builds a stored version at most once.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkflow.language.model import content_hash

__all__ = ["SHORT", "Definition", "content_hash"]

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
