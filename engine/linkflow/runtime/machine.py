"""Running workflows: one shared `transitions.Machine` per workflow, many light instances.

Design, shaped by how `transitions` behaves:
- One Machine per workflow, built once, holding no models: instances are never `add_model`-ed
  (that is O(n) per add), and `auto_transitions=False`, so no `to_<state>()` bypass.
- The engine picks the transition an event takes: it checks the guards in the order the
  Machine would try its transitions (its conditions only say yes or no; the engine records
  every check and words every refusal), the guards of one transition in one call of the
  expression library where it can. A refused event never reaches the Machine.
- Then the engine applies the actions, before the state changes; every write is journaled,
  so a failing action is rolled back and the instance is left exactly as it was. Last, the
  Machine's own `Transition` changes the state (exit, set, enter), skipping the trigger
  dispatch whose choice is already made.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from linkflow.errors import UsageError
from linkflow.language.data_types import FieldType
from linkflow.language.expressions import Expression, ExpressionError
from linkflow.language.model import (
    Action,
    ActionKind,
    Binding,
    Event,
    GuardUse,
    Transition,
    Workflow,
)
from linkflow.language.schema import describe, fast_validator, fragment_validator, type_word
from linkflow.language.workflow_builder import TIMEOUT_EVENT
from linkflow.runtime.choices import Choice, match, not_offered_message, offered
from linkflow.runtime.json_values import compact_json, json_problem
from linkflow.runtime.world import MISSING, Journal, World, copy_json

#: A payload's size, measured as the length of its JSON text, and how many values it holds.
#: Every expression step that touches the payload may copy it (the expression library clones
#: what it reads), and schema validation visits every value: both bound what an event costs.
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_PAYLOAD_VALUES = 1000
#: The most of a payload one history entry keeps (the fields that are not secret).
MAX_HISTORY_PAYLOAD_BYTES = 4 * 1024
Clock = Callable[[], float]


#: What history and steps show for an event name that is not a name at all.
UNREADABLE_EVENT = "(not an event name)"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _is_name(event: Any) -> bool:
    return isinstance(event, str) and _NAME.fullmatch(event) is not None


class RefusalKind(StrEnum):
    GUARD = "guard"
    WRONG_STATE = "wrong_state"
    UNKNOWN_EVENT = "unknown_event"
    INVALID_PAYLOAD = "invalid_payload"
    ACTION_FAILED = "action_failed"
    FINISHED = "finished"
    NOT_OFFERED = "not_offered"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an event was not taken, in words, with the guard and rule when one refused."""

    kind: RefusalKind
    message: str
    guard: str = ""
    rule: str = ""
    also: tuple[Refusal, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "message": self.message}
        if self.guard:
            out["guard"] = self.guard
        if self.rule:
            out["rule"] = self.rule
        if self.also:
            out["also"] = [r.as_dict() for r in self.also]
        return out


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one event: the transition taken, or the refusal."""

    event: str
    source: str
    target: str
    transition: Transition | None = None
    refusal: Refusal | None = None
    #: Every guard checked on the way, as (transition index, guard label, held).
    checks: tuple[tuple[int, str, bool], ...] = ()

    @property
    def accepted(self) -> bool:
        return self.refusal is None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event": self.event,
            "accepted": self.accepted,
            "from": self.source,
            "to": self.target,
        }
        if self.transition is not None and self.transition.description:
            out["description"] = self.transition.description
        if self.refusal is not None:
            out["refusal"] = self.refusal.as_dict()
        return out


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of an instance's history; payloads are kept without their secret fields."""

    time: float
    event: str
    source: str
    target: str
    accepted: bool
    payload: Mapping[str, Any] = field(default_factory=dict)
    refusal: Refusal | None = None
    #: Why the payload was left out, when it was (too large, or not JSON data).
    payload_omitted: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": self.time,
            "event": self.event,
            "from": self.source,
            "to": self.target,
            "accepted": self.accepted,
        }
        if self.payload:
            out["payload"] = copy_json(dict(self.payload))
        if self.refusal is not None:
            out["refusal"] = self.refusal.as_dict()
        if self.payload_omitted:
            out["payload_omitted"] = self.payload_omitted
        return out


def history_payload(
    public: Mapping[str, Any], checked: bool = False
) -> tuple[Mapping[str, Any], str]:
    """The payload as history keeps it, or nothing and why: an entry never holds more than
    MAX_HISTORY_PAYLOAD_BYTES (a refused 10 MB payload is not kept 10 MB large).

    `checked`: the payload already passed `check_payload` (strict JSON within the limits), so
    it is not walked a second time."""
    if not public:
        return public, ""
    if not checked and json_problem(public):
        return {}, "not plain JSON data"
    if _json_chars_at_most(public) <= MAX_HISTORY_PAYLOAD_BYTES:
        return public, ""
    size = len(compact_json(public))
    if size > MAX_HISTORY_PAYLOAD_BYTES:
        return {}, f"larger than {MAX_HISTORY_PAYLOAD_BYTES // 1024} KiB"
    return public, ""


#: The longest JSON text of an integer within the safe range, and of any float.
_NUMBER_CHARS = 24


def _json_chars_at_most(fields: Mapping[str, Any]) -> float:
    """An upper bound on the compact JSON length of a flat mapping of text, numbers, booleans
    and nulls (a character takes at most 6 in JSON: `\\u0000`); infinite for anything else,
    which is then measured by writing it."""
    total = 2
    for key, value in fields.items():
        kind = type(value)
        if kind is str:
            total += 6 * len(value) + 3
        elif value is None or kind is bool or kind is int or kind is float:
            total += _NUMBER_CHARS
        else:
            return math.inf
        total += 6 * len(key) + 4
    return total


@dataclass(frozen=True, slots=True)
class EventOption:
    """An event and whether it can be sent now; `available` is None when it hangs on the payload."""

    event: str
    available: bool | None
    reason: str = ""
    rule: str = ""
    #: What the person may pick for each payload field that offers choices.
    choices: Mapping[str, tuple[Choice, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.event, "available": self.available}
        if self.reason:
            out["reason"] = self.reason
        if self.rule:
            out["rule"] = self.rule
        if self.choices:
            out["choices"] = {f: [c.as_dict() for c in cs] for f, cs in self.choices.items()}
        return out


class ActionFailed(Exception):
    """An action could not be applied; the step is rolled back."""


class _Context:
    """What one `send` carries through transitions' callbacks."""

    __slots__ = (
        "activation",
        "bound",
        "checks",
        "failures",
        "has_secrets",
        "journal",
        "public_payload",
    )

    def __init__(
        self, payload: Mapping[str, Any], public: Mapping[str, Any], has_secrets: bool
    ) -> None:
        self.activation: dict[str, Any] = {"payload": payload}
        self.public_payload = public
        #: The payload holds a secret field: messages carry no library text and no values.
        self.has_secrets = has_secrets
        self.bound: set[str] = set()
        self.failures: list[Refusal] = []
        self.checks: list[tuple[int, str, bool]] = []
        self.journal = Journal()


def _names_read(transition: Transition) -> frozenset[str]:
    """Every name a transition's actions read, including the bindings they write through."""
    names: set[str] = set()
    for action in transition.actions:
        for expr in (action.value, action.for_in, *(s.key for s in action.target.steps)):
            if expr is not None:
                names |= expr.names
        names.add(action.target.root)
    return frozenset(names)


def _all_of(transition: Transition) -> Expression | None:
    """`[guard1, guard2, ...]` for a transition's guards, or None when that is too big to
    compile (each guard is then evaluated on its own)."""
    source = "[" + ", ".join(f"({use.guard.when.source})" for use in transition.guards) + "]"
    try:
        return Expression.compile(source)
    except ExpressionError:
        return None


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


class Engine:
    """A compiled workflow: the shared Machine, payload validators and guard plans."""

    def __init__(self, workflow: Workflow) -> None:
        from transitions import EventData, Machine

        self.workflow = workflow
        self.machine = Machine(
            model=None,
            states=list(workflow.states),
            initial=workflow.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        self._event_data = EventData
        # The engine decides which transition an event takes: its guards, checked in the order
        # transitions would try them, with a record of each check (transitions' conditions
        # answer only yes or no). It applies the actions, journaled, then has the Machine's
        # transition change the state (exit, set, enter). A refused event never reaches the
        # Machine; a taken one skips transitions' trigger dispatch, whose choice is made.
        routes: dict[tuple[str, str], list[tuple[Transition, Any]]] = {}
        for transition in workflow.transitions:
            for source in transition.sources:
                self.machine.add_transition(
                    trigger=transition.event, source=source, dest=transition.target
                )
                made = self.machine.events[transition.event].transitions[source][-1]
                routes.setdefault((source, transition.event), []).append((transition, made))
        #: Per (state, event) that may be taken: transitions' State and Event, and the
        #: candidates in order. A final state, or one that explains why it refuses the event,
        #: has none (`Instance._refused_here` answers).
        self._routes = {
            key: (self.machine.states[key[0]], self.machine.events[key[1]], tuple(candidates))
            for key, candidates in routes.items()
            if not workflow.states[key[0]].is_final
            and key[1] not in workflow.states[key[0]].refuses
        }
        #: The routes with a transition that checks all its guards (and names every refusal).
        self._checks_all = frozenset(
            key
            for key, (_, _, candidates) in self._routes.items()
            if any(t.check_all_guards for t, _ in candidates)
        )
        self._validators = {
            name: fragment_validator(event.payload_schema)
            for name, event in workflow.events.items()
            if event.payload_schema is not None
        }
        #: jsonschema-rs answers "valid?" on the event path where it checks exactly as
        #: jsonschema does; jsonschema says why when it is not.
        self._fast = {
            name: fast
            for name, event in workflow.events.items()
            if event.payload_schema is not None
            and (fast := fast_validator(event.payload_schema)) is not None
        }
        self._binding_names = frozenset(workflow.bindings)
        #: For each set of names an expression reads: the bindings among them (built on use).
        self._bindings_read: dict[frozenset[str], tuple[Binding, ...]] = {}
        #: The names each refusal message reads, by the message's id (worked out on use).
        self._template_names: dict[int, frozenset[str]] = {}
        #: Each data field's type, compiled once: actions check every write to a field.
        self._field_types = {
            name: FieldType(schema) for name, schema in workflow.data_types.items()
        }
        self._untyped = FieldType({})
        #: What each transition's actions read, so a step binds only those records.
        self._action_names = {id(t): _names_read(t) for t in workflow.transitions}
        #: Each transition with several guards: one expression giving the list of their values.
        self._combined = {
            id(t): combined
            for t in workflow.transitions
            if len(t.guards) > 1 and (combined := _all_of(t)) is not None
        }
        #: The path keys of each action whose path computes none (`data.dropdown`).
        self._fixed_keys = {
            id(action): tuple(step.name for step in action.target.steps if step.name is not None)
            for t in workflow.transitions
            for action in t.actions
            if action.target.steps and all(step.name is not None for step in action.target.steps)
        }
        self.secret_fields = frozenset(f for e in workflow.events.values() for f in e.secret_fields)
        # History keeps only the fields an event declares and does not mark secret: a field
        # sent by mistake (say, a password with the wrong event) is never recorded.
        self.recordable_fields = {
            name: frozenset((event.payload_schema or {}).get("properties") or ())
            - self.secret_fields
            for name, event in workflow.events.items()
        }

    # -- instances ------------------------------------------------------------------------

    def create(
        self,
        data: Mapping[str, Any] | None = None,
        world: World | None = None,
        clock: Clock = time.time,
    ) -> Instance:
        """A new instance in the initial state; `data` may override the declared fields only."""
        values = copy_json(dict(self.workflow.data))
        for key, value in (data or {}).items():
            if key not in values:
                known = ", ".join(sorted(values)) or "none"
                raise UsageError(
                    f"workflow '{self.workflow.name}' has no data field '{key}' (fields: {known})"
                )
            problem = json_problem(value)
            if problem:
                raise UsageError(f"data field '{key}' is not plain JSON data: {problem}")
            why = self._field_type(key).problem(value)
            if why:
                raise UsageError(f"data field '{key}' of workflow '{self.workflow.name}' {why}")
            values[key] = copy_json(value)
        return Instance(self, values, world if world is not None else World(), clock)

    # -- taking a transition ------------------------------------------------------------------

    def choose(
        self, instance: Instance, ctx: _Context, source: str, event: str
    ) -> Transition | None:
        """Take the first transition from `source` on `event` whose guards all hold, as
        transitions would pick it, or None when none does. Each transition's guards are checked
        in order up to the first that refuses, and every check is recorded in `ctx`."""
        state, trigger, candidates = self._routes[(source, event)]
        for transition, made in candidates:
            results = self.guard_results(instance, ctx, transition)
            for number, use in enumerate(transition.guards):
                refusal = self.check_guard(
                    instance, ctx, use, MISSING if results is None else results[number]
                )
                ctx.checks.append((transition.index, use.label, refusal is None))
                if refusal is not None:
                    ctx.failures.append(refusal)
                    break
            else:
                if transition.actions:
                    self.apply_actions(instance, ctx, transition)
                made._change_state(self._event_data(state, trigger, self.machine, instance, (), {}))
                return transition
        return None

    def needs_payload(self, use: GuardUse) -> bool:
        """Whether a guard reads the payload, directly or through a binding's key."""
        names = use.guard.when.names
        if "payload" in names:
            return True
        bindings = self.workflow.bindings
        return any("payload" in bindings[n].key.names for n in names & self._binding_names)

    # -- guards -----------------------------------------------------------------------------

    def activation(
        self, instance: Instance, ctx: _Context, names: frozenset[str]
    ) -> dict[str, Any]:
        """The variables an expression reads; bindings are looked up once per event, on demand."""
        act = ctx.activation
        act["data"] = instance.data
        needed = self._bindings_read.get(names)
        if needed is None:
            needed = self._bindings_read[names] = tuple(
                self.workflow.bindings[n] for n in sorted(names & self._binding_names)
            )
        bound = ctx.bound
        for binding in needed:
            name = binding.name
            if name in bound:
                continue
            try:
                key = binding.key.evaluate(act)
            except ExpressionError:
                key = None
            world = instance.world
            if binding.many:
                keys = key if isinstance(key, list) else []
                act[name] = [world.get(binding.collection, k) for k in keys]
            else:
                act[name] = world.get(binding.collection, key)
            bound.add(name)
        return act

    def guard_results(self, instance: Instance, ctx: _Context, transition: Transition) -> Any:
        """Every guard of `transition` evaluated in one call of the expression library (its
        inputs are converted once, not once per guard), or None: the transition has fewer
        than two guards, or one of them fails, and then each is checked on its own."""
        combined = self._combined.get(id(transition))
        if combined is None:
            return None
        try:
            results = combined.evaluate(self.activation(instance, ctx, combined.names))
        except ExpressionError:
            return None
        return results if type(results) is list else None

    def check_guard(
        self, instance: Instance, ctx: _Context, use: GuardUse, outcome: Any = MISSING
    ) -> Refusal | None:
        """Why `use` refuses, or None when it holds. `outcome`: what its expression gave,
        when `guard_results` has evaluated it already."""
        guard = use.guard
        problem = ""
        if outcome is not MISSING:
            act, result = ctx.activation, outcome
        else:
            act = self.activation(instance, ctx, guard.when.names)
            try:
                result = guard.when.evaluate(act)
            except ExpressionError as err:
                result, problem = None, err.safe if ctx.has_secrets else str(err)
        if problem == "" and not isinstance(result, bool):
            problem = f"it gave {type(result).__name__}, not true or false"
        if problem == "" and result is not use.negated:
            return None
        if problem:
            # Neither message is true when the check itself failed: say what happened.
            what = guard.description or f"guard '{guard.name}'"
            message = f"refused because this could not be checked: {what} ({problem})"
        else:
            template = guard.message_when_true if use.negated else guard.message
            assert template is not None  # the builder requires it for negated uses
            names = self._template_names.get(id(template))
            if names is None:
                names = self._template_names[id(template)] = template.names
            # Messages show the payload without its secret fields.
            shown = dict(self.activation(instance, ctx, names), payload=ctx.public_payload)
            message = template.render(shown)
        return Refusal(RefusalKind.GUARD, message, guard=use.label, rule=guard.rule)

    # -- actions ----------------------------------------------------------------------------

    def apply_actions(self, instance: Instance, ctx: _Context, transition: Transition) -> None:
        """Evaluate every value and path key first (against the state before the step), then
        write: a key that reads a field an earlier action changes still means the old one."""
        if not transition.actions:
            return
        names = self._action_names[id(transition)]
        base = dict(self.activation(instance, ctx, names), payload=ctx.public_payload)
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
        instance: Instance,
        journal: Journal,
        action: Action,
        scope: Mapping[str, Any],
        value: Any,
        keys: Sequence[str],
    ) -> None:
        target = action.target
        container: Any
        if target.root == "data":
            container = instance.data
        elif target.root == "world":
            container = instance.world.collections
        else:
            record = scope.get(target.root)  # bound before any write of this step
            if not isinstance(record, dict):
                binding = self.workflow.bindings[target.root]
                raise ActionFailed(
                    f"{action.location}: no {binding.collection} record "
                    f"'{_key_or_none(binding, scope)}' to write to"
                )
            container = record
        if target.root == "world":
            _check_world_target(instance.world, action, keys)
        create = action.kind is not ActionKind.REMOVE
        for key in keys[:-1]:
            if not isinstance(container, dict):
                raise ActionFailed(f"{action.location}: '{target.text}' does not lead to a mapping")
            child = container.get(key)
            if child is None:
                if not create:
                    return
                child = {}
                journal.put(container, key, child)
            container = child
        last = keys[-1]
        if not isinstance(container, dict):
            raise ActionFailed(f"{action.location}: '{target.text}' does not lead to a mapping")
        kind = action.kind
        if kind is ActionKind.SET:
            if target.root == "data" and len(keys) == 1:
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
        if not isinstance(current, list):
            raise ActionFailed(f"{action.location}: '{target.text}' is not a list")
        items = value if action.each else [value]
        if not isinstance(items, list):
            raise ActionFailed(f"{action.location}: `each` needs a list value")
        if kind is ActionKind.REMOVE:
            updated = [item for item in current if item not in items]
        else:
            updated = list(current)
            for item in items:
                if kind is ActionKind.ADD and item in updated:
                    continue
                updated.append(copy_json(item))
        if updated != current or last not in container:
            if target.root == "data" and len(keys) == 1:
                self._check_type(last, updated, action)
            journal.put(container, last, updated)

    def _field_type(self, name: str) -> FieldType:
        return self._field_types.get(name) or self._untyped

    def _check_type(self, name: str, value: Any, action: Action) -> None:
        """A data field keeps its declared type: a write that breaks it fails the step."""
        why = self._field_type(name).problem(value)
        if why:
            raise ActionFailed(f"{action.location}: data field '{name}' {why}")

    # -- choices ----------------------------------------------------------------------------

    def offered(
        self, instance: Instance, event: Event, ctx: _Context | None = None
    ) -> dict[str, tuple[Choice, ...]]:
        """Each choice field's list as offered now; a list that cannot be worked out is empty."""
        ctx = ctx or _Context({}, {}, False)
        out: dict[str, tuple[Choice, ...]] = {}
        for name, choices in event.choices.items():
            names = choices.values.names | (choices.label.names if choices.label else frozenset())
            try:
                out[name] = offered(choices, self.activation(instance, ctx, names), instance.world)
            except ExpressionError:
                out[name] = ()
        return out

    def check_choices(
        self, instance: Instance, event: Event, payload: Mapping[str, Any]
    ) -> tuple[Refusal | None, Mapping[str, Any]]:
        """Refuse a value outside its list; a loose match is replaced by the offered value."""
        sent = [n for n in event.choices if n in payload]
        if not sent:
            return None, payload
        ctx = _Context({}, {}, False)
        lists = self.offered(instance, event, ctx)
        fixed = dict(payload)
        for name in sent:
            choices = event.choices[name]
            found = match(choices, lists[name], payload[name])
            if found is None:
                names = choices.message.names if choices.message else frozenset()
                scope = self.activation(instance, ctx, names)
                message = not_offered_message(choices, lists[name], payload[name], scope)
                return Refusal(RefusalKind.NOT_OFFERED, message, rule=choices.rule), payload
            fixed[name] = found.value
        return None, fixed

    # -- payloads ---------------------------------------------------------------------------

    def check_payload(self, event: str, payload: Any) -> str:
        """Why a payload is refused, or ''. Messages never repeat the payload's values."""
        validator = self._validators.get(event)
        if not payload:  # the common case: nothing to measure
            if validator is None or self._is_valid(event, validator, {}):
                return ""
            payload = {}
        if not isinstance(payload, dict):
            return "the payload must be a mapping of fields"
        if payload:
            not_json = json_problem(
                payload, max_values=MAX_PAYLOAD_VALUES, max_chars=MAX_PAYLOAD_BYTES
            )
            if not_json.startswith("it "):  # a size limit
                return "the payload" + not_json.removeprefix("it")
            if not_json:
                return f"the payload must be plain JSON data: {not_json}"
        if validator is None:
            return f"event '{event}' takes no payload" if event in self.workflow.events else ""
        if self._is_valid(event, validator, payload):
            return ""
        errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
        if not errors:
            return ""
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path)
        subject = f"field '{where}'" if where else "the payload"
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        verb = " is" if first.validator == "required" else ""  # "the payload is missing ..."
        return f"{subject}{verb} {describe(first, secret_safe=True)}{more}"

    def _is_valid(self, event: str, validator: Any, payload: Any) -> bool:
        fast = self._fast.get(event)
        if fast is not None:
            try:
                valid: bool = fast.is_valid(payload)
            except ValueError:  # text Rust cannot hold (a lone surrogate): jsonschema decides
                pass
            else:
                return valid
        slow: bool = validator.is_valid(payload)
        return slow


class Instance:
    """One run of a workflow: its state, data and history. Cheap: no per-instance Machine."""

    __slots__ = (
        "_latest",
        "clock",
        "data",
        "engine",
        "entered_at",
        "history",
        "state",
        "world",
    )

    def __init__(self, engine: Engine, data: dict[str, Any], world: World, clock: Clock) -> None:
        self.engine = engine
        self.state: str = engine.workflow.initial
        self.data = data
        self.world = world
        self.clock = clock
        self._latest = -math.inf
        self.entered_at = self.now()
        self.history: list[HistoryEntry] = []

    def now(self) -> float:
        """The clock's time, never earlier than a time this instance has already seen.

        A clock that goes backwards (a corrected system clock, a test) makes time stand still
        until it catches up: no wait runs out early or twice, and history times never decrease.
        A reading that is not a finite number counts as standing still too.
        """
        reading = self.clock()
        if math.isfinite(reading) and reading > self._latest:
            self._latest = reading
        return self._latest if math.isfinite(self._latest) else 0.0

    @property
    def workflow(self) -> Workflow:
        return self.engine.workflow

    @property
    def finished(self) -> bool:
        return self.workflow.states[self.state].is_final

    @property
    def outcome(self) -> str | None:
        final = self.workflow.states[self.state].final
        return final.value if final else None

    def send(self, event: str, payload: Mapping[str, Any] | None = None) -> Step:
        """Fire one event. Refused or not, the outcome is a value; a refusal changes nothing."""
        if event == TIMEOUT_EVENT:
            return self._refuse(
                event,
                {},
                RefusalKind.UNKNOWN_EVENT,
                "'timeout' is not something you can send: a wait runs out by itself when its "
                "time is up.",
            )
        return self._fire(event, payload)

    def expire(self) -> Step | None:
        """If the current state waits and its wait has run out, take its timeout transition.

        The next state is entered when the wait ran out, not now: after a long pause, calling
        again fires the next timeout of a chain in turn (a -> b -> c at 10 s each, 25 s later,
        ends in c with b entered at 10 and c at 20).
        """
        waiting = self.workflow.states[self.state].waiting
        if waiting is None or waiting.timeout is None:
            return None
        due = self.entered_at + waiting.timeout.seconds
        if self.now() < due:
            return None
        return self._take_timeout(due)

    def time_out(self) -> Step | None:
        """Take the current state's timeout transition now, if it has one.

        For a host that keeps its own due times (a durable timer): it decided the wait ran out,
        so the clock is not compared again (float sums could disagree by a hair).
        """
        waiting = self.workflow.states[self.state].waiting
        if waiting is None or waiting.timeout is None:
            return None
        return self._take_timeout(self.now())

    def _take_timeout(self, at: float) -> Step:
        """Take the current state's timeout transition, entering its target at `at`.

        The builder gives a timeout transition no guards, no actions and no payload: taking
        it is a change of state and a history entry, so it skips the transitions library's
        trigger (a durable timer runner fires thousands a second). Anything else (a state
        that refuses the timeout, a finished instance) goes the general way, through `_fire`.
        """
        source = self.state
        found = self.workflow.by_source.get((source, TIMEOUT_EVENT), ())
        if (
            len(found) != 1
            or found[0].guards
            or found[0].actions
            or TIMEOUT_EVENT in self.workflow.states[source].refuses
            or self.finished
        ):
            return self._fire(TIMEOUT_EVENT, None, at=at)
        transition = found[0]
        self.state = transition.target
        self.entered_at = at
        self.history.append(HistoryEntry(at, TIMEOUT_EVENT, source, self.state, True))
        return Step(TIMEOUT_EVENT, source, self.state, transition, None, ())

    @property
    def due(self) -> float | None:
        """When the current state's timeout runs out, or None when it waits for no timeout."""
        waiting = self.workflow.states[self.state].waiting
        if waiting is None or waiting.timeout is None:
            return None
        return self.entered_at + waiting.timeout.seconds

    def _fire(self, event: str, payload: Mapping[str, Any] | None, at: float | None = None) -> Step:
        engine = self.engine
        # A field secret in any event stays secret when sent with another one (a typo, an
        # event that takes no payload): it is never recorded, and scrubbed from messages.
        raw: Mapping[str, Any] = (
            payload
            if type(payload) is dict or (payload is not None and isinstance(payload, Mapping))
            else {}
        )
        has_secrets = bool(raw) and not engine.secret_fields.isdisjoint(raw)
        recordable = engine.recordable_fields.get(event, frozenset())
        public = {k: v for k, v in raw.items() if k in recordable} if raw else {}
        if (self.state, event) not in engine._routes:
            return self._refused_here(event, public)
        definition = self.workflow.events.get(event)
        problem = engine.check_payload(event, payload)
        if problem:
            return self._refuse(event, public, RefusalKind.INVALID_PAYLOAD, problem)
        if definition is not None and definition.choices:
            not_offered, raw = engine.check_choices(self, definition, raw)
            if not_offered is not None:
                return self._refuse(
                    event, public, not_offered.kind, not_offered.message, not_offered
                )
            public = {k: v for k, v in raw.items() if k in recordable}
        ctx = _Context(raw, public, has_secrets)
        source = self.state
        try:
            taken = engine.choose(self, ctx, source, event)
        except BaseException as err:
            ctx.journal.rollback()  # whatever stopped the step, it leaves nothing behind
            self.state = source
            if not isinstance(err, Exception):
                raise  # an interrupt: undone, then let through
            # Another failure than the engine's own (a bug, memory, a library) is named by
            # its type only: its text may hold values.
            why = (
                str(err)
                if isinstance(err, ActionFailed)
                else (f"an internal error ({type(err).__name__}) stopped it")
            )
            return self._refuse(
                event,
                public,
                RefusalKind.ACTION_FAILED,
                f"the step could not be completed, nothing was changed: {why}",
            )
        if taken is None:
            first, *rest = ctx.failures or [
                Refusal(RefusalKind.GUARD, "no transition's guards held")
            ]
            more = (
                self._other_failures(event, source, ctx)
                if (source, event) in self.engine._checks_all
                else []
            )
            refusal = first
            if more or rest:
                message = " ".join([first.message, *(r.message for r in more)])
                refusal = Refusal(first.kind, message, first.guard, first.rule, (*more, *rest))
            return self._refuse(
                event, public, refusal.kind, refusal.message, refusal, tuple(ctx.checks), True
            )
        self.entered_at = self.now() if at is None else at
        kept, omitted = history_payload(public, checked=True)
        self.history.append(
            HistoryEntry(self.entered_at, event, source, self.state, True, kept, None, omitted)
        )
        return Step(event, source, self.state, taken, None, tuple(ctx.checks))

    def _refused_here(self, event: str, public: Mapping[str, Any]) -> Step:
        """The refusal of an event no transition could take from the current state: unknown,
        explained by the state, after the end, or simply not possible here."""
        workflow = self.workflow
        definition = workflow.events.get(event)
        if definition is None and event != TIMEOUT_EVENT and not _is_name(event):
            # A mistyped command line can put a payload, password and all, into the name.
            return self._refuse(
                UNREADABLE_EVENT,
                {},
                RefusalKind.UNKNOWN_EVENT,
                "an event name uses lowercase letters, digits and _ "
                "(the name given is not repeated here)",
            )
        if definition is None and event != TIMEOUT_EVENT:
            known = ", ".join(workflow.events) or "none"
            return self._refuse(
                event,
                public,
                RefusalKind.UNKNOWN_EVENT,
                f"workflow '{workflow.name}' has no event '{event}' (events: {known})",
            )
        explained = workflow.states[self.state].refuses.get(event)
        if explained is not None:
            message, rule = explained
            explanation = Refusal(RefusalKind.WRONG_STATE, message, rule=rule)
            return self._refuse(event, public, explanation.kind, message, explanation)
        if self.finished:
            return self._refuse(event, public, RefusalKind.FINISHED, self._ended_words(event))
        return self._refuse(event, public, RefusalKind.WRONG_STATE, self._not_now_words(event))

    def _other_failures(self, event: str, source: str, ctx: _Context) -> list[Refusal]:
        """For a transition that checks all its guards: every failing guard after the first."""
        failed = next((index for index, _, held in ctx.checks if not held), None)
        candidates = self.workflow.by_source.get((source, event), ())
        transition = next((t for t in candidates if t.index == failed), None)
        if transition is None or not transition.check_all_guards:
            return []
        checked = {label for index, label, _ in ctx.checks if index == failed}
        more: list[Refusal] = []
        for use in transition.guards:
            if use.label in checked:
                continue
            refusal = self.engine.check_guard(self, ctx, use)
            ctx.checks.append((transition.index, use.label, refusal is None))
            if refusal is not None:
                more.append(refusal)
        return more

    def _ended_words(self, event: str) -> str:
        words = {
            "completed": "been completed",
            "cancelled": "been cancelled",
            "refused": "been stopped by a refused step",
            "declined": "been declined",
            "failed": "failed",
            "timed_out": "timed out",
        }
        return f"'{event}' cannot be done any more: this has already {words[self.outcome or '']}."

    def _not_now_words(self, event: str) -> str:
        """Why an event is not taken now, in words: what to do next and what can be done."""
        state = self.workflow.states[self.state]
        parts = [f"'{event}' cannot be done at this point."]
        if state.step:
            parts.append(f"Next: {state.step.rstrip('.')}.")
        here = [e for e in self.workflow.events_from(self.state) if e != TIMEOUT_EVENT]
        if here:
            parts.append(f"What you can do now: {', '.join(here)}.")
        return " ".join(parts)

    def _refuse(
        self,
        event: str,
        public: Mapping[str, Any],
        kind: RefusalKind,
        message: str,
        refusal: Refusal | None = None,
        checks: tuple[tuple[int, str, bool], ...] = (),
        checked: bool = False,
    ) -> Step:
        refusal = refusal or Refusal(kind, message)
        kept, omitted = history_payload(public, checked)
        entry = HistoryEntry(
            self.now(), event, self.state, self.state, False, kept, refusal, omitted
        )
        self.history.append(entry)
        return Step(event, self.state, self.state, None, refusal, checks)

    def available_events(self) -> list[EventOption]:
        """Every event, and whether it could be sent now; nothing is changed or recorded."""
        workflow = self.workflow
        options: list[EventOption] = []
        here = set(workflow.events_from(self.state))
        for name in workflow.events:
            explained = workflow.states[self.state].refuses.get(name)
            if explained is not None:
                options.append(EventOption(name, False, explained[0], explained[1]))
                continue
            if self.finished or name not in here:
                options.append(EventOption(name, False, "not possible at this point"))
                continue
            option = self._option(name)
            event = workflow.events[name]
            if event.choices and option.available is not False:
                option = EventOption(
                    option.event,
                    option.available,
                    option.reason,
                    option.rule,
                    self.engine.offered(self, event),
                )
            options.append(option)
        return options

    def _option(self, event: str) -> EventOption:
        """Whether `event` could be sent now, agreeing with `send` for every payload.

        Guards that read no payload are checked as they stand: when each transition has one
        that refuses, no payload can help, so the event is unavailable and its reason shown.
        Otherwise an event that needs payload fields, or a transition whose guards read the
        payload, depends on what is sent.
        """
        needs_fields = bool(self.engine.check_payload(event, {}))
        ctx = _Context({}, {}, False)
        first: Refusal | None = None
        depends = False
        for transition in self.workflow.by_source[(self.state, event)]:
            fixed = [u for u in transition.guards if not self.engine.needs_payload(u)]
            refusal = next((r for u in fixed if (r := self.engine.check_guard(self, ctx, u))), None)
            if refusal is not None:
                first = first or refusal
                continue
            if needs_fields or len(fixed) < len(transition.guards):
                depends = True  # the right payload may be accepted here
                continue
            return EventOption(event, True, transition.description)
        if depends:
            return EventOption(event, None, "depends on the payload")
        assert first is not None
        return EventOption(event, False, first.message, first.rule)
