"""The same flow written natively for each library, behind one small interface.

Each implementation's `run_flow`, `refuse` and `login` call its library's own API directly; the
harness only loops over instances, so the call overhead it adds is the same for all of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from benchmarks.domain import World


class Implementation(ABC):
    """One library's version of the link-by-login flow."""

    #: Short key used in tables, JSON and `--only`.
    key: str = ""
    #: What this implementation is, in a few words.
    label: str = ""

    def __init__(self) -> None:
        self.world: World = {}

    @abstractmethod
    def versions(self) -> dict[str, str]:
        """The library versions this implementation runs on."""

    def prepare(self, world: World) -> None:
        """Use this world from now on (instances created later act on it)."""
        self.world = world

    def current_world(self) -> World:
        """The world the instances act on (an implementation may keep its own copy)."""
        return self.world

    @abstractmethod
    def create(self) -> Any:
        """A new instance in the initial state, with the standard instance data."""

    @abstractmethod
    def run_flow(self, instance: Any) -> None:
        """Send the five events of the flow, in order."""

    @abstractmethod
    def advance(self, instance: Any) -> None:
        """Send `open` and `confirm`: the instance waits in the login window."""

    @abstractmethod
    def login(self, instance: Any) -> None:
        """Send `login` with the right password (from the login window)."""

    @abstractmethod
    def refuse(self, instance: Any) -> None:
        """Send `login` with a wrong password; the guard refuses it."""

    @abstractmethod
    def state(self, instance: Any) -> str:
        """The instance's current state name."""

    @abstractmethod
    def dropdown(self, instance: Any) -> list[str]:
        """The dropdown the flow filled in at `refresh`."""
