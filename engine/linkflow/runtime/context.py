"""What one event carries through guards and actions, and what they need of an instance.

Guards and actions read an instance's data and world and write them through a journal, but
they never need the `Instance` class: `Subject` names the little they use, so the modules that
check guards and apply actions do not import the module that defines instances (which imports
them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from linkflow.runtime.steps import Refusal
from linkflow.runtime.world import Journal, World


class Subject(Protocol):
    """What guards, actions and the state change touch of an instance."""

    state: str
    data: dict[str, Any]
    world: World


class EventContext:
    """What one `send` carries from the guards to the actions: the expression inputs (bound
    once per event, on demand), every guard check, the refusals, and the write journal that
    undoes a failed step."""

    __slots__ = (
        "_journal",
        "activation",
        "chained",
        "checks",
        "failures",
        "has_secrets",
        "public_payload",
    )

    def __init__(
        self, payload: Mapping[str, Any], public: Mapping[str, Any], has_secrets: bool
    ) -> None:
        self.activation: dict[str, Any] = {"payload": payload}
        self.public_payload = public
        #: The payload holds a secret field: messages carry no library text and no values.
        self.has_secrets = has_secrets
        self.failures: list[Refusal] = []
        self.checks: list[tuple[int, str, bool]] = []
        self._journal: Journal | None = None
        #: The `done.state.<path>` transitions the step took after its own, in order.
        self.chained: list[Any] = []

    @property
    def journal(self) -> Journal:
        """The undo records of the step's writes, begun at its first write: a refused event,
        or a step with no action, writes nothing and needs none."""
        journal = self._journal
        if journal is None:
            journal = self._journal = Journal()
        return journal

    @journal.setter
    def journal(self, journal: Journal) -> None:
        self._journal = journal
