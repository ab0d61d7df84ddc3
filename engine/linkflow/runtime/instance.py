"""One run of a workflow: its state, data, history and clock, and the sending of events.

Cheap to create and to keep (no per-instance Machine): everything that is the same for every
run lives in the compiled workflow, which an instance asks through its public methods. A step
either completes or leaves the instance exactly as it was: the event's journal undoes every
write of a step that fails.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from linkflow.language.model import DONE_EVENT_PREFIX, Workflow
from linkflow.language.workflow_builder import TIMEOUT_EVENT
from linkflow.runtime.actions import ActionFailed
from linkflow.runtime.compiled import CompiledWorkflow
from linkflow.runtime.context import EventContext
from linkflow.runtime.effect_calls import EffectCall
from linkflow.runtime.steps import (
    UNREADABLE_EVENT,
    EventOption,
    HistoryEntry,
    Refusal,
    RefusalKind,
    Step,
    history_payload,
)
from linkflow.runtime.world import World

#: Where an instance reads the time: seconds, as `time.time` gives them.
Clock = Callable[[], float]

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _is_name(event: Any) -> bool:
    return isinstance(event, str) and _NAME.fullmatch(event) is not None


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

    def __init__(
        self, engine: CompiledWorkflow, data: dict[str, Any], world: World, clock: Clock
    ) -> None:
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
        if isinstance(event, str) and event.startswith(DONE_EVENT_PREFIX):
            return self._refuse(
                UNREADABLE_EVENT,
                {},
                RefusalKind.UNKNOWN_EVENT,
                "a 'done.state.…' event is not something you can send: a compound state "
                "raises it itself when its `final: done` state is entered.",
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
            or self.engine.effect_plan is not None
        ):
            return self._fire(TIMEOUT_EVENT, None, at=at)
        transition = found[0]
        self.state = transition.target_from(source)
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
        if not engine.takes(self.state, event):
            return self._refused_here(event, public)
        definition = engine.workflow.events.get(event)
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
        ctx = EventContext(raw, public, has_secrets)
        source = self.state
        plan = engine.effect_plan
        effects: tuple[EffectCall, ...] = ()
        try:
            taken = engine.choose(self, ctx, source, event)
            if plan is not None and taken is not None:  # after the actions: they feed the calls
                effects = plan.effects(self.data, raw, self.state, [(taken, source), *ctx.chained])
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
                if engine.checks_all_guards(source, event)
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
        return Step(
            event, source, self.state, taken, None, tuple(ctx.checks), tuple(ctx.chained), effects
        )

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

    def _other_failures(self, event: str, source: str, ctx: EventContext) -> list[Refusal]:
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
        ctx = EventContext({}, {}, False)
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
