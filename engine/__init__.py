"""linkflow: declarative YAML state machines on `transitions`.

Load workflows (`load`, `load_workflow`), compile one with `Engine`, create instances and send
events; every outcome is a value (`Step`, `Refusal`), never an exception for a refused event.
`Session` follows handoffs between workflows; `run_scenario_file` runs a scenario file.
`Store.open(url)` keeps instances, history and the world durably (SQLite or PostgreSQL).

Names are imported on first use (PEP 562), so `import engine` and `linkflow --help` stay fast:
the command line needs none of the loader, schemas or expression library to print its help.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.errors import DefinitionError, LinkflowError, Problem, RuntimeFault, UsageError
    from engine.language.loader import LoadResult, load, load_workflow, load_workflows
    from engine.language.model import Outcome, Workflow
    from engine.runtime.machine import (
        Engine,
        EventOption,
        HistoryEntry,
        Instance,
        Refusal,
        RefusalKind,
        Step,
    )
    from engine.runtime.session import EngineCache, Session, SessionStep
    from engine.runtime.world import World
    from engine.runtime.world_loader import load_world
    from engine.source import SourceLocation
    from engine.store import Store
    from engine.testing.scenarios import ScenarioResult, run_scenario_file

#: Public name -> the module that defines it.
_WHERE = {
    "DefinitionError": "engine.errors",
    "Engine": "engine.runtime.machine",
    "EngineCache": "engine.runtime.session",
    "EventOption": "engine.runtime.machine",
    "HistoryEntry": "engine.runtime.machine",
    "Instance": "engine.runtime.machine",
    "LinkflowError": "engine.errors",
    "LoadResult": "engine.language.loader",
    "Outcome": "engine.language.model",
    "Problem": "engine.errors",
    "Refusal": "engine.runtime.machine",
    "RefusalKind": "engine.runtime.machine",
    "RuntimeFault": "engine.errors",
    "ScenarioResult": "engine.testing.scenarios",
    "Session": "engine.runtime.session",
    "SessionStep": "engine.runtime.session",
    "SourceLocation": "engine.source",
    "Step": "engine.runtime.machine",
    "Store": "engine.store",
    "UsageError": "engine.errors",
    "Workflow": "engine.language.model",
    "World": "engine.runtime.world",
    "load": "engine.language.loader",
    "load_workflow": "engine.language.loader",
    "load_workflows": "engine.language.loader",
    "load_world": "engine.runtime.world_loader",
    "run_scenario_file": "engine.testing.scenarios",
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
        raise AttributeError(f"module 'engine' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute read
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
