"""linkflow, through its public API: a YAML workflow loaded with `load_workflow`, compiled once
with `Engine`, instances from `linkflow.create(data, world)`, events with `instance.send`.

Point the harness at another version of the flow (the domain's `workflows/link_login.yaml`) with
`python -m benchmarks --workflow PATH`, renaming events with `--event open=open_link` when its
names differ. The data fields and the world's shape are those of `benchmarks.domain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks import domain
from benchmarks.domain import World
from benchmarks.impls import Implementation
from linkflow import World as LinkflowWorld
from linkflow.language.loader import load_workflow
from linkflow.runtime.engine import Engine

ROOT = Path(__file__).resolve().parent.parent.parent
#: The workflow the harness runs by default: the benchmark's own faithful version of the flow.
WORKFLOW_FILE = ROOT / "benchmarks" / "flows" / "link_login.yaml"
#: The domain's version, once it exists (`--workflow workflows/link_login.yaml`).
DOMAIN_WORKFLOW_FILE = ROOT / "workflows" / "link_login.yaml"


class LinkflowImpl(Implementation):
    key = "linkflow"
    label = "linkflow: YAML workflow on one shared transitions Machine"

    def __init__(
        self, workflow_file: Path = WORKFLOW_FILE, event_names: Mapping[str, str] | None = None
    ) -> None:
        super().__init__()

        self.workflow_file = workflow_file
        self.workflow = load_workflow(workflow_file)
        self.engine = Engine(self.workflow)
        names = {event: event for event in domain.EVENTS} | dict(event_names or {})
        unknown = sorted(set(names.values()) - set(self.workflow.events))
        if unknown:
            raise ValueError(
                f"{workflow_file}: no event(s) {', '.join(unknown)} "
                f"(events: {', '.join(self.workflow.events)}); rename them with --event"
            )
        self.e_open, self.e_confirm, self.e_login, self.e_approve, self.e_refresh = (
            names[event] for event in domain.EVENTS
        )
        self.data = domain.instance_data()
        self.good = {"username": domain.ACCOUNT, "password": domain.PASSWORD}
        self.bad = {"username": domain.ACCOUNT, "password": domain.WRONG_PASSWORD}
        self.linkflow_world = LinkflowWorld()

    def versions(self) -> dict[str, str]:
        return {
            "linkflow": version("linkflow"),
            "transitions": version("transitions"),
            "common-expression-language": version("common-expression-language"),
        }

    def prepare(self, world: World) -> None:
        super().prepare(world)
        self.linkflow_world = LinkflowWorld(world, name="bench")

    def current_world(self) -> World:
        return self.linkflow_world.collections

    def create(self) -> Any:
        return self.engine.create(self.data, self.linkflow_world)

    def run_flow(self, instance: Any) -> None:
        instance.send(self.e_open)
        instance.send(self.e_confirm)
        instance.send(self.e_login, self.good)
        instance.send(self.e_approve)
        instance.send(self.e_refresh)

    def advance(self, instance: Any) -> None:
        instance.send(self.e_open)
        instance.send(self.e_confirm)

    def login(self, instance: Any) -> None:
        instance.send(self.e_login, self.good)

    def refuse(self, instance: Any) -> None:
        instance.send(self.e_login, self.bad)

    def state(self, instance: Any) -> str:
        return str(instance.state)

    def dropdown(self, instance: Any) -> list[str]:
        return list(instance.data["dropdown"])
