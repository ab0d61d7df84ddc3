"""linkflow: declarative YAML state machines on `transitions`.

Load workflows (`load`, `load_workflow`), compile one with `Engine`, create instances and send
events; every outcome is a value (`Step`, `Refusal`), never an exception for a refused event.
`Session` follows handoffs between workflows; `run_scenario_file` runs a scenario file.
`Store.open(url)` keeps instances, history and the world durably (SQLite or PostgreSQL).
"""

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
