"""Items 6 and 7: any exception during a step rolls it back, and a write to a world record or
collection that does not exist fails the step instead of creating half of one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linkflow import World
from linkflow.language.loader import load_workflow
from linkflow.runtime.actions import Actions
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Instance
from linkflow.runtime.steps import RefusalKind
from linkflow.runtime.world import copy_json
from tests.hostile.helpers import tiny_workflow, write

ANY = {"type": "object", "properties": {"ids": {"type": "array"}, "flag": {"type": "boolean"}}}


def instance_with(tmp_path: Path, actions: list[dict[str, Any]]) -> Instance:
    workflow = load_workflow(
        write(tmp_path / "t.yaml", tiny_workflow(payload=ANY, actions=actions))
    )
    world = World({"items": {"a": {"n": 1, "tags": []}}, "empty": {}})
    return Engine(workflow).create({"note": "a"}, world)


def state_of(instance: Instance) -> tuple[Any, ...]:
    return instance.state, copy_json(instance.data), instance.world.snapshot()


def test_any_exception_during_the_writes_rolls_the_step_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions = [
        {"set": {"path": "data.note", "value": "'changed'"}},
        {"set": {"path": "world.items[data.note].n", "value": "2"}},
        {"append": {"path": "world.items[data.note].tags", "value": "'t'"}},
    ]
    instance = instance_with(tmp_path, actions)
    before = state_of(instance)
    real_write = Actions._write
    calls: list[int] = []

    def failing_write(self: Actions, *args: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("a bug in the middle of the writes, quoting a value: 4711")
        real_write(self, *args)

    monkeypatch.setattr(Actions, "_write", failing_write)
    step = instance.send("go", {})
    assert len(calls) == 3  # two writes were made before the failure
    assert step.refusal is not None
    assert step.refusal.kind is RefusalKind.ACTION_FAILED
    assert step.refusal.message == (
        "the step could not be completed, nothing was changed: "
        "an internal error (RuntimeError) stopped it"
    )
    assert state_of(instance) == before
    assert [h.accepted for h in instance.history] == [False]


def test_an_interrupt_during_the_writes_rolls_back_and_goes_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions = [
        {"set": {"path": "data.note", "value": "'changed'"}},
        {"set": {"path": "world.items[data.note].n", "value": "2"}},
    ]
    instance = instance_with(tmp_path, actions)
    before = state_of(instance)
    real_write = Actions._write

    def interrupted(
        self: Actions, instance: Instance, journal: Any, action: Any, *rest: Any
    ) -> None:
        if action.target.root == "world":
            raise KeyboardInterrupt
        real_write(self, instance, journal, action, *rest)

    monkeypatch.setattr(Actions, "_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        instance.send("go", {})
    assert state_of(instance) == before


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("world.nope[data.note].n", "1", "the world has no collection 'nope' to write to"),
        ("world.nope[data.note]", "{}", "the world has no collection 'nope' to write to"),
        ("world.items['b'].n", "1", "no items record 'b' to write to"),
        ("world.empty['b'].n", "1", "no empty record 'b' to write to"),
        ("world.items[payload.ids].n", "1", "must be text or a whole number, not a list"),
        ("world.items[data.note][payload.ids]", "1", "must be text or a whole number, not a list"),
        ("data.note[payload.flag]", "1", "must be text or a whole number, not a boolean"),
    ],
)
def test_a_write_to_nothing_fails_the_step(
    tmp_path: Path, path: str, value: str, words: str
) -> None:
    instance = instance_with(tmp_path, [{"set": {"path": path, "value": value}}])
    before = state_of(instance)
    step = instance.send("go", {"ids": ["a", "b"], "flag": True})
    assert step.refusal is not None, path
    assert step.refusal.kind is RefusalKind.ACTION_FAILED
    assert words in step.refusal.message
    assert state_of(instance) == before


def test_setting_a_whole_record_creates_it_and_number_keys_are_text(tmp_path: Path) -> None:
    actions = [
        {"set": {"path": "world.items['b']", "value": "{'n': 2}"}},
        {"set": {"path": "world.empty[7]", "value": "{'n': 7}"}},
        {"set": {"path": "world.items[data.note].n", "value": "3"}},
        {"remove": {"path": "world.items['gone']"}},
    ]
    instance = instance_with(tmp_path, actions)
    assert instance.send("go", {}).accepted
    assert instance.world.collections == {
        "items": {"a": {"n": 3, "tags": []}, "b": {"n": 2}},
        "empty": {"7": {"n": 7}},
    }
