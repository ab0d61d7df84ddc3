"""pytest collects scenario files itself: one test item per scenario, located at its YAML line.

Registered through the `pytest11` entry point, so `pytest tests/` runs `tests/scenarios/*.yaml`
next to the Python tests. A failure shows the step, expected against actual, and the path taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    from linkflow.language.scenario_check import is_scenario_file  # noqa: PLC0415 - the plugin loads in every pytest run (entry point): linkflow only when a scenario is collected

    if file_path.suffix in (".yaml", ".yml") and is_scenario_file(file_path):
        file: pytest.Collector = ScenarioFile.from_parent(parent, path=file_path)
        return file
    return None


class ScenarioFailed(Exception):
    """Carries the scenario's result to `repr_failure`."""

    def __init__(self, result: Any) -> None:
        self.result = result
        super().__init__(result.name)


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from linkflow.language.scenario_check import read_scenario  # noqa: PLC0415 - the plugin loads in every pytest run (entry point): linkflow only when a scenario is collected

        doc, _ = read_scenario(self.path)
        name = str(doc.value["scenario"]) if doc is not None else self.path.stem
        line = doc.locate(("scenario",), key=True).line if doc is not None else 1
        item = ScenarioItem.from_parent(self, name=name)
        item.yaml_line = line
        yield item


class ScenarioItem(pytest.Item):
    yaml_line: int = 1

    def runtest(self) -> None:
        from linkflow.language.scenario_check import SKELETON_MARK, is_skeleton  # noqa: PLC0415 - the plugin loads in every pytest run (entry point): linkflow only when a scenario is collected
        from linkflow.testing.scenarios import run_scenario_file  # noqa: PLC0415 - the plugin loads in every pytest run (entry point): linkflow only when a scenario is collected

        if is_skeleton(self.path):
            pytest.skip(f"an unfinished skeleton: delete its '{SKELETON_MARK}' line when done")

        result = run_scenario_file(self.path)
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if not isinstance(excinfo.value, ScenarioFailed):
            return str(super().repr_failure(excinfo))
        result = excinfo.value.result
        lines = [f"scenario '{result.name}' failed ({result.location})"]
        lines += [f"  {p}" for p in result.problems]
        lines += [f"  {f}" for f in result.failures]
        if result.steps:
            lines.append("  path taken:")
            lines += [f"    {line}" for line in result.path_lines()]
            lines.append(f"  to see it: {result.trace_command()}")
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.yaml_line - 1, f"scenario: {self.name}"
