"""Where something stands in a user's file, so every message can point there."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class SourceLocation:
    """A 1-based line and column in a file (the form editors and terminals link)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


#: A path into a parsed document: mapping keys and sequence indexes, from the root.
DocPath = tuple[str | int, ...]
