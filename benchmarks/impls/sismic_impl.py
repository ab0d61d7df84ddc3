"""sismic, the library's way: a YAML statechart with Python guards and actions, loaded once, and
one Interpreter per instance; an event is queued, then `execute_once()` runs its macro step."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

from sismic.interpreter import Interpreter  # type: ignore[import-untyped]
from sismic.io import import_from_yaml  # type: ignore[import-untyped]

from benchmarks import domain
from benchmarks.impls import Implementation

STATECHART_FILE = Path(__file__).resolve().parent.parent / "flows" / "link_login.sismic.yaml"


class SismicImpl(Implementation):
    key = "sismic"
    label = "sismic, YAML statechart, one Interpreter per instance"

    def __init__(self) -> None:
        super().__init__()
        self.statechart: Any = import_from_yaml(filepath=str(STATECHART_FILE))

    def versions(self) -> dict[str, str]:
        return {"sismic": version("sismic")}

    def create(self) -> Any:
        interpreter = Interpreter(
            self.statechart,
            initial_context={
                "world": self.world,
                "actor": domain.ACTOR,
                "business_center": domain.BUSINESS_CENTER,
                "ad_account": domain.AD_ACCOUNT,
            },
        )
        interpreter.execute_once()  # enter the initial state
        return interpreter

    def run_flow(self, instance: Any) -> None:
        instance.queue("open").execute_once()
        instance.queue("confirm").execute_once()
        instance.queue("login", username=domain.ACCOUNT, password=domain.PASSWORD).execute_once()
        instance.queue("approve").execute_once()
        instance.queue("refresh").execute_once()

    def advance(self, instance: Any) -> None:
        instance.queue("open").execute_once()
        instance.queue("confirm").execute_once()

    def login(self, instance: Any) -> None:
        instance.queue("login", username=domain.ACCOUNT, password=domain.PASSWORD).execute_once()

    def refuse(self, instance: Any) -> None:
        instance.queue(
            "login", username=domain.ACCOUNT, password=domain.WRONG_PASSWORD
        ).execute_once()

    def state(self, instance: Any) -> str:
        leaves = [name for name in instance.configuration if name != "root"]
        if not leaves and instance.final:
            return domain.FINAL
        return str(leaves[0]) if leaves else ""

    def dropdown(self, instance: Any) -> list[str]:
        return list(instance.context["dropdown"])
