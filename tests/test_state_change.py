"""The adapter over `transitions` (linkflow.runtime.state_change): the version range it was
written against, and the behaviour of transitions it relies on.

The engine chooses transitions itself and asks transitions only to change the state; the
adapter does that with public API in the order transitions' own `Transition` does. When a new
transitions release changes any of this, these tests say so before the engine misbehaves.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

import transitions
from transitions import EventData, Machine, State

from linkflow import World
from linkflow.language.loader import load_workflow
from linkflow.runtime.engine import Engine
from linkflow.runtime.state_change import StateChange, StateMachine

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine" / "linkflow"
#: The range pyproject.toml allows, as the adapter was written against it.
LOWEST, BEYOND = (0, 9, 3), (0, 10)


class Model:
    """A model as the engine's instances are: a plain object with a `state` attribute."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def test_the_installed_transitions_is_in_the_range_the_adapter_was_written_for() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "transitions>=0.9.3,<0.10" in pyproject["project"]["dependencies"]
    installed = _version(transitions.__version__)
    assert LOWEST <= installed < BEYOND, transitions.__version__


def test_only_the_adapter_imports_transitions() -> None:
    """Everything else in the engine goes through the adapter, so a transitions update can
    break one module."""
    importers = set()
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.split(".")[0] == "transitions" for name in names):
                importers.add(path.relative_to(ENGINE).as_posix())
    assert importers == {"runtime/state_change.py"}


def test_a_change_of_state_sets_the_model_state_and_leaves_the_machine_without_models() -> None:
    states = StateMachine(["a", "b", "c"], "a")
    change = states.add("go", "a", "b")
    model = Model("a")
    change.apply(model)
    assert model.state == "b"
    assert (change.source, change.target) == ("a", "b")
    assert states.machine.models == []  # never add_model-ed: no per-instance cost


def test_transitions_are_kept_in_the_order_they_were_added() -> None:
    """The engine tries candidates in the order transitions would: the order of adding."""
    states = StateMachine(["a", "b", "c"], "a")
    first, second = states.add("go", "a", "b"), states.add("go", "a", "c")
    made = states.machine.events["go"].transitions["a"]
    assert [t.dest for t in made] == [first.target, second.target] == ["b", "c"]


def _recorder(machine: Machine, calls: list[tuple[str, str, Any, Any]]) -> None:
    """Record every exit, enter and on_final callback with the event data it is given."""
    for name, state in machine.states.items():
        state.add_callback(
            "exit",
            lambda data, name=name: calls.append(("exit", name, data.model, data.state.name)),
        )
        state.add_callback(
            "enter",
            lambda data, name=name: calls.append(("enter", name, data.model, data.state.name)),
        )
    machine.on_final.append(lambda data: calls.append(("final", data.state.name, data.model, None)))


def test_the_callbacks_run_as_transitions_runs_them_for_its_own_transition() -> None:
    """exit of the source (the event data on the source), then the state set, then enter of
    the target (the event data on the target), then on_final for a final target: the same
    calls, in the same order, as transitions' `Transition.execute` makes."""

    def run(change: Any) -> list[tuple[str, str, Any, Any]]:
        machine = Machine(
            model=None,
            states=["a", State("done", final=True)],
            initial="a",
            auto_transitions=False,
            send_event=True,
        )
        machine.add_transition("finish", "a", "done")
        calls: list[tuple[str, str, Any, Any]] = []
        _recorder(machine, calls)
        model = Model("a")
        change(machine, model)
        calls.append(("state", model.state, model, None))
        return [(what, name, who is model, on) for what, name, who, on in calls]

    def by_adapter(machine: Machine, model: Model) -> None:
        StateChange(machine, "finish", "a", "done").apply(model)

    def by_transitions(machine: Machine, model: Model) -> None:
        made = machine.events["finish"].transitions["a"][0]
        data = EventData(machine.states["a"], machine.events["finish"], machine, model, (), {})
        assert made.execute(data)

    expected = [
        ("exit", "a", True, "a"),
        ("enter", "done", True, "done"),
        ("final", "done", True, None),
        ("state", "done", True, None),
    ]
    assert run(by_adapter) == run(by_transitions) == expected


def test_the_event_data_names_the_event_and_the_transition() -> None:
    states = StateMachine(["a", "b"], "a")
    change = states.add("go", "a", "b")
    seen: list[EventData] = []
    states.machine.states["b"].add_callback("enter", seen.append)
    change.apply(Model("a"))
    (data,) = seen
    assert data.event is states.machine.events["go"]
    assert data.transition is states.machine.events["go"].transitions["a"][0]
    assert (data.args, data.kwargs) == ((), {})


def test_an_engine_changes_an_instance_state_through_the_adapter() -> None:
    """The engine's Machine sees the instance as the model of the change: a callback on a
    state is given the instance itself."""
    workflow = load_workflow(ROOT / "examples" / "document_review.yaml")
    engine = Engine(workflow)
    entered: list[Any] = []
    engine.machine.states["in_review"].add_callback("enter", entered.append)
    world = World({"documents": {"handbook": {"author": "ann"}}})
    instance = engine.create({"document": "handbook"}, world)
    (transition, change), *_ = engine.route("draft", "submit")
    assert isinstance(change, StateChange)
    assert transition.target == change.target
    step = instance.send("submit")
    assert step.accepted
    assert instance.state == "in_review"
    assert [data.model for data in entered] == [instance]
    assert engine.machine.models == []
