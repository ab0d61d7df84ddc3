"""linkflow: declarative YAML state machines on `transitions`.

Load workflows (`load`, `load_workflow`), compile one with `Engine`, create instances and send
events; every outcome is a value (`Step`, `Refusal`), never an exception for a refused event.
`Session` follows handoffs between workflows; `run_scenario_file` runs a scenario file.
`Store.open(url)` keeps instances, history and the world durably (SQLite or PostgreSQL).

Names are imported on first use (PEP 562), so `import linkflow` and `linkflow --help` stay fast:
the command line needs none of the loader, schemas or expression library to print its help.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linkflow.errors import DefinitionError, LinkflowError, Problem, RuntimeFault, UsageError
    from linkflow.language.loader import LoadResult, load, load_workflow, load_workflows
    from linkflow.language.model import Outcome, Workflow
    from linkflow.runtime.engine import Engine
    from linkflow.runtime.instance import Instance
    from linkflow.runtime.session import EngineCache, Session, SessionStep
    from linkflow.runtime.steps import EventOption, HistoryEntry, Refusal, RefusalKind, Step
    from linkflow.runtime.world import World
    from linkflow.runtime.world_loader import load_world
    from linkflow.source import SourceLocation
    from linkflow.store import Store
    from linkflow.testing.scenarios import ScenarioResult, run_scenario_file

#: Public name -> the module that defines it.
_WHERE = {
    "DefinitionError": "linkflow.errors",
    "Engine": "linkflow.runtime.engine",
    "EngineCache": "linkflow.runtime.session",
    "EventOption": "linkflow.runtime.steps",
    "HistoryEntry": "linkflow.runtime.steps",
    "Instance": "linkflow.runtime.instance",
    "LinkflowError": "linkflow.errors",
    "LoadResult": "linkflow.language.loader",
    "Outcome": "linkflow.language.model",
    "Problem": "linkflow.errors",
    "Refusal": "linkflow.runtime.steps",
    "RefusalKind": "linkflow.runtime.steps",
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
    "run_scenario_file": "linkflow.testing.scenarios",
}

__all__ = [
    "DefinitionError",
    "Engine",
    "EngineCache",
    "EventOption",
    "HistoryEntry",
    "Instance",
    "LinkflowError",
    "LoadResult",
    "Outcome",
    "Problem",
    "Refusal",
    "RefusalKind",
    "RuntimeFault",
    "ScenarioResult",
    "Session",
    "SessionStep",
    "SourceLocation",
    "Step",
    "Store",
    "UsageError",
    "Workflow",
    "World",
    "load",
    "load_workflow",
    "load_workflows",
    "load_world",
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
