"""The error hierarchy: definition problems (the YAML is wrong) apart from runtime refusals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from linkflow.source import SourceLocation


class LinkflowError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in a definition file; many are collected before anything fails."""

    location: SourceLocation
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
        }


class DefinitionError(LinkflowError):
    """A workflow, world or scenario file is invalid; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems, key=_problem_order))
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid definition")


def _problem_order(problem: Problem) -> tuple[str, int, int, str]:
    loc = problem.location
    return (loc.file, loc.line, loc.column, problem.message)


class RuntimeFault(LinkflowError):
    """Something a caller asked of a running instance could not be done (not a guard refusal)."""

    def __init__(
        self, message: str, *, workflow: str = "", state: str = "", event: str = ""
    ) -> None:
        self.workflow = workflow
        self.state = state
        self.event = event
        super().__init__(message)


class UsageError(LinkflowError):
    """The caller used the API or CLI the wrong way (exit code 2 at the CLI)."""


def problems_text(problems: Sequence[Problem]) -> str:
    return "\n".join(str(p) for p in problems)
