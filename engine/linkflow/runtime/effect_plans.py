"""Which calls a step causes, planned once per definition and resolved per step.

For each transition and source leaf the plan knows, before any instance runs, the transition's
`notify` calls, the `compensate` calls it makes by cancelling (below), and the `invoke`s of the
states it enters (language/nesting.py's rule: outermost first; a transition to its own state
leaves and enters it again, so it invokes again). Taking
a step then only resolves those calls (URL and body) from the instance's data after the step's
actions ran, and the event's payload for a notify. A workflow that calls nothing has no plan
at all: its steps do no extra work (CompiledWorkflow.effect_plan is None).

A transition into a final `cancelled` state undoes each invoke with a `compensate` whose call
surely succeeded: when no path from the initial state reaches the transition's source without
taking that invoke's `.done` answer. Decided from the graph once, it costs a step nothing and
needs no history; where a path avoids the answer (a retry that failed after an earlier
success) nothing is undone, and the workflow says so itself with a `notify` if it must.

A call whose URL or body cannot be worked out fails the step, which then changes nothing: a
step is kept with its calls or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from linkflow.language.effect_specs import EffectSpec, done_event
from linkflow.language.expressions import Expression, ExpressionError, Template, show_value
from linkflow.language.model import (
    Outcome,
    Transition,
    Workflow,
    active_leaves,
    ancestors_of,
    is_active,
)
from linkflow.language.nesting import exits_and_entries
from linkflow.language.parallel_routes import joint_routes
from linkflow.language.services import Service
from linkflow.runtime.actions import ActionFailed
from linkflow.runtime.effect_calls import COMPENSATE, INVOKE, NOTIFY, EffectCall
from linkflow.runtime.json_values import json_problem

#: One planned call: its kind, what the workflow wrote, and the state that invokes ("" for a
#: notify).
Planned = tuple[str, EffectSpec, str]


class EffectPlan:
    """The calls of every (transition, source leaf) of one workflow, and their resolving."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self._paths: dict[str, Template] = {
            name: Template.compile(service.path) for name, service in workflow.services.items()
        }
        #: Per invoking state with a `compensate`: the leaves some path reaches without its
        #: `.done` answer (from any other, the call surely succeeded).
        self._unsure = {
            state: _reached_without(workflow, done_event(spec.name))
            for state, spec in workflow.invokes.items()
            if state in workflow.compensations
        }
        self._planned: dict[tuple[int, str], tuple[Planned, ...]] = {}
        # one event taken in several regions of a parallel state at once is a joint
        # transition of its own (language/parallel_routes.py; none without parallel states)
        joint = joint_routes(workflow)
        for key, candidates in (*workflow.by_source.items(), *joint.items()):
            source = key[0]
            for transition in candidates:
                found = self._plan(transition, source)
                if found:
                    self._planned[(transition.index, source)] = found
        # the states a new instance starts in, outermost first (in a parallel state, every
        # region's, in document order)
        started = {
            name: None
            for leaf in active_leaves(workflow.initial)
            for name in (*reversed(ancestors_of(leaf)), leaf)
        }
        self._start = tuple(
            (INVOKE, workflow.invokes[name], name) for name in started if name in workflow.invokes
        )

    def _plan(self, transition: Transition, source: str) -> tuple[Planned, ...]:
        out: list[Planned] = [
            (NOTIFY, spec, "") for spec in self.workflow.notifies.get(transition.index, ())
        ]
        final = self.workflow.states[transition.target_from(source)].final
        if final is Outcome.CANCELLED:
            out += [
                (COMPENSATE, self.workflow.compensations[state], state)
                for state, unsure in self._unsure.items()
                if source not in unsure
            ]
        _, entries = exits_and_entries(self.workflow, transition, source)
        out += [
            (INVOKE, self.workflow.invokes[s], s) for s in entries if s in self.workflow.invokes
        ]
        return tuple(out)

    def effects(
        self,
        data: Mapping[str, Any],
        payload: Mapping[str, Any],
        state: str,
        steps: list[tuple[Transition, str]],
    ) -> tuple[EffectCall, ...]:
        """The calls of a step that took `steps` (each transition with the leaf it left: the
        event's own, then the `done.state` ones chained to it) and ended in `state`. An invoke
        of a state the step entered and left again is dropped: its answer could not be taken.
        """
        out: list[EffectCall] = []
        for number, (transition, source) in enumerate(steps):
            for kind, spec, invoker in self._planned.get((transition.index, source), ()):
                if kind == INVOKE and not is_active(state, invoker):
                    continue
                out.append(self._resolve(kind, spec, invoker, data, payload if number == 0 else {}))
        return tuple(out)

    def start_effects(self, data: Mapping[str, Any]) -> tuple[EffectCall, ...]:
        """The invokes of the states a new instance starts in, resolved from its start data."""
        return tuple(self._resolve(kind, spec, s, data, {}) for kind, spec, s in self._start)

    def _resolve(
        self,
        kind: str,
        spec: EffectSpec,
        state: str,
        data: Mapping[str, Any],
        payload: Mapping[str, Any],
    ) -> EffectCall:
        service: Service = self.workflow.services[spec.service]
        scope = {"data": data, "payload": payload}
        try:
            path = "".join(
                part if isinstance(part, str) else _segment(_value(part, scope))
                for part in self._paths[spec.service].parts
            )
            body = {key: _value(expr, scope) for key, expr in spec.body} if spec.has_body else None
        except ExpressionError as err:
            raise ActionFailed(
                f"the call to service '{spec.service}' could not be worked out: {err.safe}"
            ) from None
        except UnicodeEncodeError:
            raise ActionFailed(
                f"the path of the call to service '{spec.service}' holds a value that is not "
                "text (a lone UTF-16 surrogate)"
            ) from None
        problem = json_problem(body) if body is not None else ""
        if problem:
            raise ActionFailed(f"the body of the call to service '{spec.service}': {problem}")
        return EffectCall(
            kind=kind,
            name=spec.name,
            service=spec.service,
            method=service.method,
            url=service.base_url + path,
            headers=dict(service.headers),
            body=body,
            state=state,
            timeout=service.timeout,
            retry=service.retry,
            auth=service.auth,
            response=service.response if kind == INVOKE else {},
        )


def _reached_without(workflow: Workflow, event: str) -> frozenset[str]:
    """The states some path from the initial state reaches without taking `event` (guards
    taken as able to hold either way)."""
    seen = {workflow.initial}
    todo = [workflow.initial]
    while todo:
        source = todo.pop()
        for (at, taken), candidates in workflow.by_source.items():
            if at != source or taken == event:
                continue
            for transition in candidates:
                target = transition.target_from(source)
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
    return frozenset(seen)


def _value(expr: Expression, scope: Mapping[str, Any]) -> Any:
    return expr.evaluate(scope)


def _segment(value: Any) -> str:
    """A path placeholder's value as text (true/false, none, lists joined by commas),
    percent-encoded so that it stays inside its segment: `/`, `?`, `#` and `%` are encoded,
    and so is every `.`, so that a value `..` or `.` is not a step up or a no-op that the
    HTTP client would resolve (`/orders/../admin` is sent as `/admin`). `%2E` is a `.` to
    the server (RFC 3986, 2.3). A lone surrogate raises UnicodeEncodeError."""
    return quote(show_value(value), safe="").replace(".", "%2E")
