"""Stage three of loading, the calls: a state's `invoke` and a transition's `notify` become
`EffectSpec`s (language/effect_specs.py), and every invoke declares its two result events.

An invoke named `n` (its `as`, else its service's name) makes the workflow accept `n.done`,
whose payload schema is the service's declared response fields and `status`, and `n.failed`
(`status` and `reason`): transitions, guards and the static checks read them like any declared
event. A call may only send what the instance holds: an invoke's body sees `data`, a notify's
`data` and the event's `payload`, never a field the event marks secret.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from linkflow.language.effect_specs import (
    FAILED_PAYLOAD_SCHEMA,
    EffectSpec,
    done_event,
    done_payload_schema,
    failed_event_name,
)
from linkflow.language.expressions import Expression, ExpressionError, Template
from linkflow.language.model import Event, State
from linkflow.language.service_builder import ServiceSet
from linkflow.language.services import Service
from linkflow.language.workflow_checks import BuilderBase, state_doc_path, suggest
from linkflow.source import DocPath


def calls_services(raw: Mapping[str, Any]) -> bool:
    """Whether a workflow document calls anything (a quick look, no building)."""
    transitions = raw.get("transitions")
    if isinstance(transitions, list) and any(
        isinstance(t, dict) and "notify" in t for t in transitions
    ):
        return True
    states = raw.get("states")
    return any(True for _ in _states_with(states, "", "invoke")) or any(
        True for _ in _states_with(states, "", "compensate")
    )


def _invoking_states(raw: Any, parent: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each state path written with an `invoke`, and its invoke as written."""
    for name, spec in _states_with(raw, parent, "invoke"):
        yield name, spec["invoke"]


def _states_with(raw: Any, parent: str, key: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each state path written with `key` (a mapping), and the state as written."""
    if not isinstance(raw, dict):
        return
    for short, spec in raw.items():
        if not isinstance(spec, dict):
            continue
        name = f"{parent}.{short}" if parent else str(short)
        if isinstance(spec.get(key), dict):
            yield name, spec
        yield from _states_with(spec.get("states"), name, key)


def _invoke_name(spec: Mapping[str, Any]) -> str:
    return str(spec.get("as") or spec.get("service") or "")


class EffectBuilder:
    """Builds one workflow's calls with the builder's own problem list and expression checks."""

    def __init__(self, builder: BuilderBase, services: ServiceSet | None) -> None:
        self.b = builder
        self.services = services.services if services is not None else {}
        self.broken = services is not None and services.broken

    def result_events(self, raw_states: Any) -> dict[str, Event]:
        """The `<name>.done` and `<name>.failed` events of every invoke, declared implicitly."""
        out: dict[str, Event] = {}
        first: dict[str, tuple[str, str]] = {}
        for state, spec in _invoking_states(raw_states, ""):
            name = _invoke_name(spec)
            path = (*state_doc_path(state), "invoke")
            seen = first.get(name)
            if seen is not None:
                if seen[1] != spec.get("service"):
                    self.b.problem(
                        (*path, "as" if "as" in spec else "service"),
                        f"'{name}' already names the invoke of service '{seen[1]}' in state "
                        f"'{seen[0]}': give this one another `as`",
                    )
                continue
            first[name] = (state, str(spec.get("service")))
            service = self.services.get(str(spec.get("service")))
            location = self.b.doc.locate(path, key=True)
            described = f"the answer of service '{spec.get('service')}'"
            # an unknown service is reported once, where it is named: its answer takes any
            # fields, so nothing that reads them is reported again
            out[done_event(name)] = Event(
                done_event(name),
                f"{described}, when its call succeeded",
                {"type": "object"}
                if service is None
                else done_payload_schema({k: dict(v) for k, v in service.response.items()}),
                frozenset(),
                location,
            )
            out[failed_event_name(name)] = Event(
                failed_event_name(name),
                f"{described}, when its call failed (no answer, an error status, or an "
                "answer without its declared fields)",
                FAILED_PAYLOAD_SCHEMA,
                frozenset(),
                location,
            )
        return out

    def invokes(self, raw_states: Any, states: Mapping[str, State]) -> dict[str, EffectSpec]:
        """Each state's `invoke`, by the state's path (a leaf or a compound state, in a
        parallel state's region too: its answer is an event offered to every region); refused
        on a final state (its answer could never be taken)."""
        out: dict[str, EffectSpec] = {}
        for state, spec in _invoking_states(raw_states, ""):
            path = (*state_doc_path(state), "invoke")
            leaf = states.get(state)
            if leaf is not None and leaf.is_final:
                self.b.problem(
                    path,
                    f"final state '{state}' cannot invoke: nothing leaves a final state, so its "
                    "answer could never be taken (use a `notify` on the transition into it)",
                    key=True,
                )
                continue
            built = self.effect(spec, path, _invoke_name(spec), frozenset({"data"}), frozenset())
            if built is not None:
                out[state] = built
        return out

    def compensations(
        self, raw_states: Any, invokes: Mapping[str, EffectSpec]
    ) -> dict[str, EffectSpec]:
        """Each `compensate` (the call that undoes its state's invoke), by the state's path."""
        out: dict[str, EffectSpec] = {}
        for state, spec in _states_with(raw_states, "", "compensate"):
            path = (*state_doc_path(state), "compensate")
            if state not in invokes:
                if "invoke" not in spec:  # (an invoke that did not build says so itself)
                    self.b.problem(
                        path,
                        f"state '{state}' compensates, but invokes nothing: `compensate` undoes "
                        "the state's own `invoke`",
                        key=True,
                    )
                continue
            call = spec["compensate"]
            name = str(call.get("service"))
            built = self.effect(call, path, name, frozenset({"data"}), frozenset())
            if built is not None:
                out[state] = built
        return out

    def notifies(
        self, raw_transitions: Any, events: Mapping[str, Event]
    ) -> dict[int, tuple[EffectSpec, ...]]:
        """Each transition's `notify` calls, by the transition's index; a body may read the
        event's payload, never a field it marks secret."""
        out: dict[int, tuple[EffectSpec, ...]] = {}
        if not isinstance(raw_transitions, list):
            return out
        for index, spec in enumerate(raw_transitions):
            if not isinstance(spec, dict) or not isinstance(spec.get("notify"), list):
                continue
            event = events.get(str(spec.get("event")))
            secrets = event.secret_fields if event is not None else frozenset()
            built = [
                self.effect(
                    call,
                    ("transitions", index, "notify", number),
                    str(call.get("service")),
                    frozenset({"data", "payload"}),
                    secrets,
                )
                for number, call in enumerate(spec["notify"])
                if isinstance(call, dict)
            ]
            found = tuple(b for b in built if b is not None)
            if found:
                out[index] = found
        return out

    def effect(
        self,
        spec: Mapping[str, Any],
        path: DocPath,
        name: str,
        allowed: frozenset[str],
        secrets: frozenset[str],
    ) -> EffectSpec | None:
        service_name = str(spec.get("service"))
        service = self.services.get(service_name)
        if service is None and self.broken:
            return None  # the services file's own problems say why it is missing
        if service is None:
            known = ", ".join(sorted(self.services)) or "none found"
            self.b.problem(
                (*path, "service"),
                f"unknown service '{service_name}'{suggest(service_name, self.services)}: "
                f"declare it in a `services:` file loaded with the workflow or beside it "
                f"(services: {known})",
            )
            return None
        self._path_problems(service, path, allowed, secrets)
        body: list[tuple[str, Expression]] = []
        ok = True
        for key, source in (spec.get("with") or {}).items():
            where = (*path, "with", key)
            expr = self.b.expression(str(source), where, allowed, "`with:` value")
            if expr is None:
                ok = False
                continue
            self.b.no_secret(expr.source, secrets, where, "`with:` value")
            body.append((str(key), expr))
        if not ok:
            return None
        return EffectSpec(
            service_name, name, tuple(body), self.b.doc.locate(path, key=True), "with" in spec
        )

    def _path_problems(
        self, service: Service, path: DocPath, allowed: frozenset[str], secrets: frozenset[str]
    ) -> None:
        """The service's path template must read only what this call has, and no secret."""
        try:
            template = Template.compile(service.path)
        except ExpressionError:  # reported on the services file
            return
        if "payload" in template.names and "payload" not in allowed:
            self.b.problem(
                (*path, "service"),
                f"service '{service.name}' reads `payload` in its path ({service.location}), "
                "which an invoke does not have: it runs on entering a state, after any event",
            )
        self.b.no_secret(
            service.path, secrets, (*path, "service"), f"service '{service.name}' path"
        )
