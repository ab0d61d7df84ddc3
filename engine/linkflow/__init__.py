"""linkflow: declarative YAML state machines on `transitions`.

One way in: `project = linkflow.open("workflows", world=..., store=None | url)` loads every
workflow once (or raises one `LoadError` with every located `Problem`); `project.start(name,
data)` gives a `Run`, and `run.send(event, payload)` a `Step` value, accepted or refused (a
`Refusal`), never an exception for a refused event. Runs follow handoffs, in memory and in a
store alike, so code written against memory runs durably unchanged. `load` collects problems
as values without raising; `run_scenario_file` runs a scenario file.

`__all__` is the public API. The older entry points (`Engine`, `Session`, `Store`,
`load_workflow`...) stay importable from here for existing code, but are internal: they may
change shape without notice.

Names are imported on first use (PEP 562), so `import linkflow` and `linkflow --help` stay fast:
the command line needs none of the loader, schemas or expression library to print its help.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # internal names are imported `as` themselves: re-exported for mypy
    from linkflow.errors import DefinitionError as DefinitionError
    from linkflow.errors import LinkflowError, Problem
    from linkflow.errors import RuntimeFault as RuntimeFault
    from linkflow.errors import UsageError as UsageError
    from linkflow.language.loader import LoadResult as LoadResult
    from linkflow.language.loader import load
    from linkflow.language.loader import load_workflow as load_workflow
    from linkflow.language.loader import load_workflows as load_workflows
    from linkflow.language.model import Outcome as Outcome
    from linkflow.language.model import Workflow
    from linkflow.project import LoadError, Project, Run, open
    from linkflow.runtime.engine import Engine as Engine
    from linkflow.runtime.instance import Instance as Instance
    from linkflow.runtime.session import EngineCache as EngineCache
    from linkflow.runtime.session import Session as Session
    from linkflow.runtime.session import SessionStep as SessionStep
    from linkflow.runtime.steps import EventOption, HistoryEntry, Refusal, RefusalKind, Step
    from linkflow.runtime.world import World
    from linkflow.runtime.world_loader import load_world as load_world
    from linkflow.source import SourceLocation
    from linkflow.store import Store as Store
    from linkflow.testing.scenarios import ScenarioResult, run_scenario_file

#: Name -> the module that defines it: the public names and the internal ones kept importable.
_WHERE = {
    "DefinitionError": "linkflow.errors",
    "Engine": "linkflow.runtime.engine",
    "EngineCache": "linkflow.runtime.session",
    "EventOption": "linkflow.runtime.steps",
    "HistoryEntry": "linkflow.runtime.steps",
    "Instance": "linkflow.runtime.instance",
    "LinkflowError": "linkflow.errors",
    "LoadError": "linkflow.project",
    "LoadResult": "linkflow.language.loader",
    "Outcome": "linkflow.language.model",
    "Problem": "linkflow.errors",
    "Project": "linkflow.project",
    "Refusal": "linkflow.runtime.steps",
    "RefusalKind": "linkflow.runtime.steps",
    "Run": "linkflow.project",
    "RuntimeFault": "linkflow.errors",
    "ScenarioResult": "linkflow.testing.scenarios",
    "Session": "linkflow.runtime.session",
    "SessionStep": "linkflow.runtime.session",
    "SourceLocation": "linkflow.source",
    "Step": "linkflow.runtime.steps",
    "Store": "linkflow.store",
    "UsageError": "linkflow.errors",
    "Workflow": "linkflow.language.model",
    "World": "linkflow.runtime.world",
    "load": "linkflow.language.loader",
    "load_workflow": "linkflow.language.loader",
    "load_workflows": "linkflow.language.loader",
    "load_world": "linkflow.runtime.world_loader",
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
