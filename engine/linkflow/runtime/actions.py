"""Applying a transition's actions to an instance's data and world, journaled.

Every value and path key is worked out first, against the state before the step, then every
write goes through the event's journal: an action that fails (a missing record, a value of the
wrong type) raises `ActionFailed`, and the caller rolls the journal back, leaving the instance
exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linkflow.language.data_types import FieldType
from linkflow.language.expressions import ExpressionError
from linkflow.language.model import Action, ActionKind, Transition, Workflow
from linkflow.language.schema import type_word
from linkflow.runtime.context import EventContext, Subject
from linkflow.runtime.guards import Guards
from linkflow.runtime.world import Journal, World, copy_json


class ActionFailed(Exception):
    """An action could not be applied; the step is rolled back."""


def _names_read(transition: Transition) -> frozenset[str]:
    """Every name a transition's actions read, including the bindings they write through."""
    names: set[str] = set()
    for action in transition.actions:
        for expr in (action.value, action.for_in, *(s.key for s in action.target.steps)):
            if expr is not None:
                names |= expr.names
        names.add(action.target.root)
    return frozenset(names)


def _reads_payload(workflow: Workflow, names: frozenset[str]) -> bool:
    """Whether expressions reading `names` see the payload: they name it, or a binding among
    them is keyed by it (an action's failure message shows that key)."""
    if "payload" in names:
        return True
    bindings = workflow.bindings
    return any("payload" in bindings[n].key.names for n in names if n in bindings)


def _key_or_none(binding: Any, scope: Mapping[str, Any]) -> Any:
    try:
        return binding.key.evaluate(scope)
    except ExpressionError:
        return None


def _key(value: Any, action: Action) -> str:
    """A computed path key as the world stores it: text or a whole number, nothing else
    (a list would otherwise become the id "['a', 'b']")."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ActionFailed(
        f"{action.location}: a key in '{action.target.text}' must be text or a whole number, "
        f"not {type_word(value)}"
    )


def _check_world_target(world: World, action: Action, keys: Sequence[str]) -> None:
    """A world write needs its collection, and its record unless it sets the whole record.

    Creating a collection or a partial record by writing one of its fields would leave the
    world in a shape no world file could have; `set: {path: world.<c>[<key>]}` creates one.
    """
    collection, key = keys[0], keys[1]
    records = world.collections.get(collection)
    if records is None:
        raise ActionFailed(
            f"{action.location}: the world has no collection '{collection}' to write to"
        )
    whole_record = len(keys) == 2
    if whole_record and action.kind is ActionKind.SET:
        return
    if not isinstance(records.get(key), dict):
        if whole_record and action.kind is ActionKind.REMOVE and action.value is None:
            return  # removing what is not there changes nothing
        raise ActionFailed(
            f"{action.location}: no {collection} record '{key}' to write to "
            f"(only `set: {{path: world.{collection}[...]}}` creates a record)"
        )


class Actions:
    """A workflow's actions, planned once: what each transition's actions read, the path keys
    that compute nothing, and each data field's type (every write to a field is checked)."""

    def __init__(
        self, workflow: Workflow, guards: Guards, steps: tuple[Transition, ...] = ()
    ) -> None:
        self.workflow = workflow
        #: Actions read names as guards do: through the event's bindings, bound once.
        self._guards = guards
        #: Each data field's type, compiled once: actions check every write to a field.
        self._field_types = {
            name: FieldType(schema) for name, schema in workflow.data_types.items()
        }
        self._untyped = FieldType({})
        #: What each transition's actions read, so a step binds only those records.
        #: `steps`: transitions with the entry and exit actions of nested states joined in.
        every = (*workflow.transitions, *steps)
        self._action_names = {id(t): _names_read(t) for t in every}
        #: The transitions whose actions read the payload (directly, or in the key of a
        #: binding they write through): they are given the payload without its secret fields.
        self._sees_payload = frozenset(
            id(t) for t in every if _reads_payload(workflow, self._action_names[id(t)])
        )
        #: The path keys of each action whose path computes none (`data.dropdown`).
        self._fixed_keys = {
            id(action): tuple(step.name for step in action.target.steps if step.name is not None)
            for t in every
            for action in t.actions
            if action.target.steps and all(step.name is not None for step in action.target.steps)
        }

    def apply(self, instance: Subject, ctx: EventContext, transition: Transition) -> None:
        """Evaluate every value and path key first (against the state before the step), then
        write: a key that reads a field an earlier action changes still means the old one."""
        if not transition.actions:
            return
        names = self._action_names[id(transition)]
        base = self._guards.activation(instance, ctx, names)
        if id(transition) in self._sees_payload:  # the payload without its secret fields
            base = dict(base, payload=ctx.public_payload)
        writes: list[tuple[Action, dict[str, Any], Any, Sequence[str]]] = []
        for action in transition.actions:
            scopes: list[dict[str, Any]] = [base]
            if action.for_in is not None and action.for_item is not None:
                items = self._eval(action.for_in, base, action)
                if not isinstance(items, list):
                    raise ActionFailed(f"{action.location}: for_each needs a list")
                scopes = [dict(base, **{action.for_item: item}) for item in items]
            fixed = self._fixed_keys.get(id(action))
            for scope in scopes:
                value = self._eval(action.value, scope, action) if action.value else None
                keys: Sequence[str] = fixed or [
                    s.name if s.name is not None else _key(self._eval(s.key, scope, action), action)
                    for s in action.target.steps
                ]
                writes.append((action, scope, value, keys))
        for action, scope, value, keys in writes:
            self._write(instance, ctx.journal, action, scope, value, keys)

    @staticmethod
    def _eval(expr: Any, scope: Mapping[str, Any], action: Action) -> Any:
        try:
            return expr.evaluate(scope)
        except ExpressionError as err:
            raise ActionFailed(f"{action.location}: {err}") from None

    def _write(
        self,
        instance: Subject,
        journal: Journal,
        action: Action,
        scope: Mapping[str, Any],
        value: Any,
        keys: Sequence[str],
    ) -> None:
        container = self._parent(instance, journal, action, scope, keys)
        if container is None:  # removing under a path that does not exist: nothing to do
            return
        last = keys[-1]
        kind = action.kind
        if kind is ActionKind.SET:
            if action.target.root == "data" and len(keys) == 1:
                self._check_type(last, value, action)
            journal.put(container, last, copy_json(value))
            return
        if kind is ActionKind.REMOVE and action.value is None:
            journal.delete(container, last)
            return
        current = container.get(last)
        if current is None and kind is ActionKind.REMOVE:
            return
        if current is None:
            current = []
        updated = _updated_list(action, current, value)
        if updated != current or last not in container:
            if action.target.root == "data" and len(keys) == 1:
                self._check_type(last, updated, action)
            journal.put(container, last, updated)

    def _parent(
        self,
        instance: Subject,
        journal: Journal,
        action: Action,
        scope: Mapping[str, Any],
        keys: Sequence[str],
    ) -> dict[str, Any] | None:
        """The mapping an action writes its last key into, creating the mappings on the way
        (for a removal, None when one is missing instead)."""
        target = action.target
        container: Any
        if target.root == "data":
            container = instance.data
        elif target.root == "world":
            container = instance.world.collections
            _check_world_target(instance.world, action, keys)
        else:
            container = scope.get(target.root)  # bound before any write of this step
            if not isinstance(container, dict):
                binding = self.workflow.bindings[target.root]
                raise ActionFailed(
                    f"{action.location}: no {binding.collection} record "
                    f"'{_key_or_none(binding, scope)}' to write to"
                )
        create = action.kind is not ActionKind.REMOVE
        for key in keys[:-1]:
            if not isinstance(container, dict):
                raise ActionFailed(f"{action.location}: '{target.text}' does not lead to a mapping")
            child = container.get(key)
            if child is None:
                if not create:
                    return None
                child = {}
                journal.put(container, key, child)
            container = child
        if not isinstance(container, dict):
            raise ActionFailed(f"{action.location}: '{target.text}' does not lead to a mapping")
        return container

    def field_type(self, name: str) -> FieldType:
        """The declared type of data field `name` (any JSON value when it declares none)."""
        return self._field_types.get(name) or self._untyped

    def _check_type(self, name: str, value: Any, action: Action) -> None:
        """A data field keeps its declared type: a write that breaks it fails the step."""
        why = self.field_type(name).problem(value)
        if why:
            raise ActionFailed(f"{action.location}: data field '{name}' {why}")


def _updated_list(action: Action, current: Any, value: Any) -> list[Any]:
    """The list at an append/add/remove target after the action (`current` as it is now)."""
    if not isinstance(current, list):
        raise ActionFailed(f"{action.location}: '{action.target.text}' is not a list")
    items = value if action.each else [value]
    if not isinstance(items, list):
        raise ActionFailed(f"{action.location}: `each` needs a list value")
    if action.kind is ActionKind.REMOVE:
        return [item for item in current if item not in items]
    updated = list(current)
    for item in items:
        if action.kind is ActionKind.ADD and item in updated:
            continue
        updated.append(copy_json(item))
    return updated
