"""A workflow compiled once and shared by all its instances: which transitions each event may
take from each state (with the change of state each makes), its guards and actions, payload
validators and choice lists.

`Instance` asks everything of its workflow through the public methods here. The `Engine` (in
`linkflow.runtime.engine`) adds creating instances on top: kept apart so that this module and
`linkflow.runtime.instance` never import each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from linkflow.language.data_types import FieldType
from linkflow.language.expressions import ExpressionError
from linkflow.language.model import DONE_EVENT_PREFIX, Event, GuardUse, Transition, Workflow
from linkflow.language.nesting import MAX_DONE_CHAIN, with_entry_exit
from linkflow.language.parallel_routes import joint_routes, newly_done
from linkflow.language.schema import describe, fast_validator, fragment_validator
from linkflow.runtime.actions import ActionFailed, Actions
from linkflow.runtime.choices import Choice, match, not_offered_message, offered
from linkflow.runtime.context import EventContext, Subject
from linkflow.runtime.effect_calls import EffectCall
from linkflow.runtime.effect_plans import EffectPlan
from linkflow.runtime.guards import Guards
from linkflow.runtime.json_values import flat_fits, json_problem
from linkflow.runtime.steps import Refusal, RefusalKind
from linkflow.runtime.world import MISSING

if TYPE_CHECKING:
    from linkflow.runtime.state_change import StateChange

#: A payload's size, measured as the length of its JSON text, and how many values it holds.
#: Every expression step that touches the payload may copy it (the expression library clones
#: what it reads), and schema validation visits every value: both bound what an event costs.
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_PAYLOAD_VALUES = 1000

#: The transitions an event may take from a state, in the order transitions would try them,
#: each with the change of state it makes.
Route = tuple[tuple[Transition, "StateChange"], ...]


class CompiledWorkflow:
    """A compiled workflow: the shared Machine, routes, guards, actions and payload checks.

    The engine decides which transition an event takes: its guards, checked in the order
    transitions would try them, with a record of each check (transitions' conditions answer
    only yes or no). It applies the actions, journaled, then has the transition's
    `StateChange` change the state (exit, set, enter). A refused event never reaches
    transitions.
    """

    def __init__(self, workflow: Workflow) -> None:
        # transitions is imported when a workflow is compiled, not when this module is: the
        # store, the command line and the studio read steps and history without it.
        from linkflow.runtime.state_change import StateMachine  # noqa: PLC0415 - transitions: only running a machine needs it; reading instances from a store does not

        self.workflow = workflow
        states = StateMachine(workflow.states, workflow.initial)
        #: The shared transitions Machine (it holds no models).
        self.machine = states.machine
        routes: dict[tuple[str, str], list[tuple[Transition, StateChange]]] = {}
        #: Per (transition index, source leaf): the transition with the exit and entry actions
        #: of the states it leaves and enters joined to its own (see linkflow.runtime.nesting).
        self._steps: dict[tuple[int, str], Transition] = {}
        # one event taken in several regions of a parallel state at once: its joint
        # transitions, tried first (linkflow.language.parallel)
        joint = joint_routes(workflow)
        self._joint = bool(joint)
        for (source, event), declared in workflow.by_source.items():
            candidates = joint.get((source, event), declared)
            for transition in candidates:
                change = states.add(event, source, transition.target_from(source))
                routes.setdefault((source, event), []).append((transition, change))
                step = with_entry_exit(workflow, transition, source)
                if step is not transition:
                    self._steps[(transition.index, source)] = step
        #: Per (state, event) that may be taken: the candidates in order. A final state, or one
        #: that explains why it refuses the event, has none (the instance words the refusal).
        self._routes: dict[tuple[str, str], Route] = {
            key: tuple(candidates)
            for key, candidates in routes.items()
            if not workflow.states[key[0]].is_final
            and key[1] not in workflow.states[key[0]].refuses
        }
        #: The routes with a transition that checks all its guards (and names every refusal).
        self._checks_all = frozenset(
            key
            for key, candidates in self._routes.items()
            if any(t.check_all_guards for t, _ in candidates)
        )
        #: Per (configuration, configuration entered) in a parallel state: the
        #: `done.state.<region>` events the regions that reach their `final: done` raise.
        self._raises = newly_done(workflow, routes)
        #: Whether entering some state may raise a `done.state.…` event (a `final: done`
        #: state, or a region finishing in a parallel state): else a step never looks.
        self._may_raise = bool(self._raises) or any(s.done for s in workflow.states.values())
        #: The transitions whose guards are evaluated together (`Guards.results`).
        self._combined = frozenset(id(t) for t in workflow.transitions if len(t.guards) > 1)
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
        #: The calls its steps cause (runtime/effect_plans.py); None when it calls nothing,
        #: so a step of such a workflow does no work for them.
        self.effect_plan = EffectPlan(workflow) if workflow.invokes or workflow.notifies else None
        self.guards = Guards(workflow)
        self.actions = Actions(workflow, self.guards, tuple(self._steps.values()))
        self.secret_fields = frozenset(f for e in workflow.events.values() for f in e.secret_fields)
        # History keeps only the fields an event declares and does not mark secret: a field
        # sent by mistake (say, a password with the wrong event) is never recorded.
        self.recordable_fields = {
            name: frozenset((event.payload_schema or {}).get("properties") or ())
            - self.secret_fields
            for name, event in workflow.events.items()
        }

    # -- routes -------------------------------------------------------------------------------

    def takes(self, state: str, event: str) -> bool:
        """Whether some transition may take `event` from `state`, guards permitting."""
        return (state, event) in self._routes

    def route(self, state: str, event: str) -> Route:
        """The transitions `event` may take from `state`, in order, with their state changes."""
        return self._routes.get((state, event), ())

    def checks_all_guards(self, state: str, event: str) -> bool:
        """Whether a transition `event` may take from `state` checks all its guards."""
        return (state, event) in self._checks_all

    def choose(
        self, instance: Subject, ctx: EventContext, source: str, event: str, depth: int = 0
    ) -> Transition | None:
        """Take the first transition from `source` on `event` whose guards all hold, as
        transitions would pick it, or None when none does. Each transition's guards are checked
        in order up to the first that refuses, and every check is recorded in `ctx`."""
        guards = self.guards
        combined = self._combined
        for transition, change in self._routes[(source, event)]:
            results = (
                guards.results(instance, ctx, transition) if id(transition) in combined else None
            )
            owners = transition.owners  # a joint transition's guards are its parts'
            for number, use in enumerate(transition.guards):
                refusal = guards.check(
                    instance, ctx, use, MISSING if results is None else results[number]
                )
                index = owners[number] if owners else transition.index
                ctx.checks.append((index, use.label, refusal is None))
                if refusal is not None:
                    # with joint transitions, a region's guard may be checked again
                    if not self._joint or refusal not in ctx.failures:
                        ctx.failures.append(refusal)
                    break
            else:
                steps = self._steps  # only nested states join entry and exit actions
                step = steps.get((transition.index, source), transition) if steps else transition
                if step.actions:
                    self.actions.apply(instance, ctx, step)
                change.apply(instance)
                if self._may_raise:
                    self._done(instance, ctx, change.target, depth, source)
                return transition
        return None

    def _done(
        self, instance: Subject, ctx: EventContext, state: str, depth: int, source: str = ""
    ) -> None:
        """Entering a `final: done` state finishes its compound state: the compound state's
        `done.state.<path>` event is taken in the same step, with no payload, its bindings
        read after the step's actions; with no transition for it (or none whose guards
        hold) the instance rests in the done state. In a parallel state, each region that
        reached its `final: done` raises its own first, in document order; the parallel
        state's is raised when every region is done."""
        leaf = self.workflow.states[state]
        raised = self._raises.get((source, state), ()) if self._raises else ()
        if leaf.done:
            raised = (*raised, DONE_EVENT_PREFIX + leaf.parent)
        for event in raised:
            here = instance.state  # an earlier done event's transition may have moved it
            if (here, event) not in self._routes:
                continue
            if depth >= MAX_DONE_CHAIN:
                raise ActionFailed(f"more than {MAX_DONE_CHAIN} done events in one step")
            inner = EventContext({}, {}, False)
            inner.journal = ctx.journal  # one step: a failure undoes it all
            inner.chained = ctx.chained
            mark = len(ctx.chained)  # before the done events this one's own step raises
            then = self.choose(instance, inner, here, event, depth + 1)
            ctx.checks.extend(inner.checks)
            if then is not None:
                ctx.chained.insert(mark, (then, here))

    def start_effects(self, instance: Subject) -> tuple[EffectCall, ...]:
        """The calls a new instance causes by starting: the `invoke`s of the states it starts
        in, resolved from its start data. Whoever keeps the new instance keeps these with it
        (the store in its outbox); `Engine.create` only builds the instance."""
        if self.effect_plan is None:
            return ()
        return self.effect_plan.start_effects(instance.data)

    # -- guards and actions, for callers outside a step ---------------------------------------

    def needs_payload(self, use: GuardUse) -> bool:
        """Whether a guard reads the payload, directly or through a binding's key."""
        return self.guards.needs_payload(use)

    def activation(
        self, instance: Subject, ctx: EventContext, names: frozenset[str]
    ) -> dict[str, Any]:
        """The variables an expression reads; bindings are looked up once per event, on demand."""
        return self.guards.activation(instance, ctx, names)

    def check_guard(
        self, instance: Subject, ctx: EventContext, use: GuardUse, outcome: Any = MISSING
    ) -> Refusal | None:
        """Why `use` refuses, or None when it holds."""
        return self.guards.check(instance, ctx, use, outcome)

    def field_type(self, name: str) -> FieldType:
        """The declared type of data field `name`."""
        return self.actions.field_type(name)

    # -- choices ----------------------------------------------------------------------------

    def offered(
        self, instance: Subject, event: Event, ctx: EventContext | None = None
    ) -> dict[str, tuple[Choice, ...]]:
        """Each choice field's list as offered now; a list that cannot be worked out is empty."""
        ctx = ctx or EventContext({}, {}, False)
        out: dict[str, tuple[Choice, ...]] = {}
        for name, choices in event.choices.items():
            names = choices.values.names | (choices.label.names if choices.label else frozenset())
            try:
                out[name] = offered(
                    choices, self.guards.activation(instance, ctx, names), instance.world
                )
            except ExpressionError:
                out[name] = ()
        return out

    def check_choices(
        self, instance: Subject, event: Event, payload: Mapping[str, Any]
    ) -> tuple[Refusal | None, Mapping[str, Any]]:
        """Refuse a value outside its list; a loose match is replaced by the offered value."""
        sent = [n for n in event.choices if n in payload]
        if not sent:
            return None, payload
        ctx = EventContext({}, {}, False)
        lists = self.offered(instance, event, ctx)
        fixed = dict(payload)
        for name in sent:
            choices = event.choices[name]
            found = match(choices, lists[name], payload[name])
            if found is None:
                names = choices.message.names if choices.message else frozenset()
                scope = self.guards.activation(instance, ctx, names)
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
        # the common payload, flat and within the limits, in one pass; else the whole walk
        if payload and not (
            type(payload) is dict and flat_fits(payload, MAX_PAYLOAD_VALUES, MAX_PAYLOAD_BYTES)
        ):
            not_json = _payload_json_problem(payload)
            if not_json:
                return not_json
        if validator is None:
            return f"event '{event}' takes no payload" if event in self.workflow.events else ""
        if self._is_valid(event, validator, payload):
            return ""
        return _schema_problem(validator, payload)

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


def _payload_json_problem(payload: dict[str, Any]) -> str:
    """Why a payload mapping is not plain JSON data within the payload limits, or ''."""
    not_json = json_problem(payload, max_values=MAX_PAYLOAD_VALUES, max_chars=MAX_PAYLOAD_BYTES)
    if not_json.startswith("it "):  # a size limit
        return "the payload" + not_json.removeprefix("it")
    if not_json:
        return f"the payload must be plain JSON data: {not_json}"
    return ""


def _schema_problem(validator: Any, payload: Any) -> str:
    """The first of a payload's schema problems (and how many more), or '' when none."""
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    if not errors:
        return ""
    first = errors[0]
    where = ".".join(str(p) for p in first.absolute_path)
    subject = f"field '{where}'" if where else "the payload"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    verb = " is" if first.validator == "required" else ""  # "the payload is missing ..."
    return f"{subject}{verb} {describe(first, secret_safe=True)}{more}"
