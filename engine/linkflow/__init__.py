"""linkflow: declarative YAML state machines on `transitions`.

One way in: `project = linkflow.open("workflows", world=..., store=None | url)` loads every
workflow once (or raises one `LoadError` with every located `Problem`); `project.start(name,
data)` gives a `Run`, and `run.send(event, payload)` a `Step` value, accepted or refused (a
`Refusal`), never an exception for a refused event. Runs follow handoffs, in memory and in a
store alike, so code written against memory runs durably unchanged. `load` collects problems
as values without raising; `run_scenario_file` runs a scenario file.

`__all__` is the public API, and the only names this package offers; everything under it
(`linkflow.runtime`, `linkflow.store`, ...) is internal and may change shape without notice.

Names are imported on first use (PEP 562), so `import linkflow` and `linkflow --help` stay fast:
the command line needs none of the loader, schemas or expression library to print its help.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linkflow.errors import LinkflowError, Problem
    from linkflow.language.loader import load
    from linkflow.language.model import Workflow
    from linkflow.project import LoadError, Project, Run, open
    from linkflow.runtime.steps import EventOption, HistoryEntry, Refusal, RefusalKind, Step
    from linkflow.runtime.world import World
    from linkflow.source import SourceLocation
    from linkflow.testing.scenarios import ScenarioResult, run_scenario_file

#: Public name -> the module that defines it.
_WHERE = {
    "EventOption": "linkflow.runtime.steps",
    "HistoryEntry": "linkflow.runtime.steps",
    "LinkflowError": "linkflow.errors",
    "LoadError": "linkflow.project",
    "Problem": "linkflow.errors",
    "Project": "linkflow.project",
    "Refusal": "linkflow.runtime.steps",
    "RefusalKind": "linkflow.runtime.steps",
    "Run": "linkflow.project",
    "ScenarioResult": "linkflow.testing.scenarios",
    "SourceLocation": "linkflow.source",
    "Step": "linkflow.runtime.steps",
    "Workflow": "linkflow.language.model",
    "World": "linkflow.runtime.world",
    "load": "linkflow.language.loader",
    "open": "linkflow.project",
    "run_scenario_file": "linkflow.testing.scenarios",
}

#: The public API: what a user needs to load, run and test workflows. Pinned by a test.
__all__ = [
    "EventOption",
    "HistoryEntry",
    "LinkflowError",
    "LoadError",
    "Problem",
    "Project",
    "Refusal",
    "RefusalKind",
    "Run",
    "ScenarioResult",
    "SourceLocation",
    "Step",
    "Workflow",
    "World",
    "load",
    "open",
    "run_scenario_file",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'linkflow' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute read
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
