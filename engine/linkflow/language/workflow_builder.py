"""Stage three of loading: a schema-valid document becomes a frozen, compiled Workflow.

Every semantic problem (unknown references, expressions that do not compile, names that would
collide with the engine) is collected with its location; nothing stops at the first one.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from linkflow.errors import Problem
from linkflow.language.data_types import declaration_problems, default_of, field_type
from linkflow.language.effect_builder import EffectBuilder, calls_services
from linkflow.language.invariant_patterns import build_invariant
from linkflow.language.model import (
    Binding,
    Choices,
    Event,
    Guard,
    Invariant,
    Note,
    Transition,
    Workflow,
    transitions_by_source,
)
from linkflow.language.model_checks import nondeterminism_problems
from linkflow.language.parallel import flatten
from linkflow.language.schema import check_fragment_schema
from linkflow.language.service_builder import ServiceSet
from linkflow.language.workflow_checks import (
    RESERVED_WORKFLOW_NAMES,
    TIMEOUT_EVENT,
    nested_secrets,
    suggest,
)
from linkflow.language.workflow_states import StateBuilder
from linkflow.language.yaml_loader import Document
from linkflow.source import DocPath


class _Builder(StateBuilder):
    """Builds a whole definition: its sections in order, then what is declared and unused."""

    #: The services its invokes and notifies may name (None: no services file was found).
    services: ServiceSet | None = None

    def build(self) -> Workflow | None:
        raw = self.raw
        name = raw["workflow"]
        if name in RESERVED_WORKFLOW_NAMES:
            self.problem(
                ("workflow",),
                f"workflow name '{name}' is reserved: "
                f"diagrams/{name}.* shows all workflows together",
            )
        declared = dict(raw.get("data") or {})
        for field_name, value in declared.items():
            self.check_reserved(field_name, ("data", field_name), "data field")
            for inner, message in declaration_problems(field_name, value):
                self.problem(("data", field_name, *inner), message)
        data = {k: default_of(v) for k, v in declared.items()}
        data_types = {k: field_type(v) for k, v in declared.items()}

        bindings = self.bindings(raw.get("bindings") or {})
        base_names = frozenset({"data", "payload", *bindings})
        states = self.states(raw["states"], bindings)
        events = self.events(raw.get("events") or {}, bindings)
        effects = EffectBuilder(self, self.services) if calls_services(raw) else None
        # an invoke's `<name>.done` and `<name>.failed`, declared by the invoke itself
        answers = effects.result_events(raw["states"]) if effects else {}
        every_event = {**events, **answers} if answers else events
        guards = self.guards(raw.get("guards") or {}, base_names, every_event)
        exclusive = self.exclusive(raw.get("exclusive") or [], guards)
        transitions = self.transitions(raw["transitions"], states, every_event, guards, bindings)
        transitions += self.timeout_transitions(states)
        self.explained_refusals(states, events, transitions)
        invariants = self.invariants(raw.get("invariants") or {})

        written = raw["initial"]
        initial = self.leaf(written, states) or written
        if initial not in states:
            every = {*states, *self.compounds}
            self.problem(
                ("initial",), f"unknown initial state '{written}'{suggest(written, every)}"
            )
        else:
            self.initial_entry_problems(initial, states)
        if initial in states and states[initial].is_final:
            self.problem(("initial",), f"the initial state '{initial}' must not be final")
        self.unused(events, guards, transitions)
        invokes = effects.invokes(raw["states"], states) if effects else {}
        notifies = effects.notifies(raw["transitions"], every_event) if effects else {}
        undo = effects.compensations(raw["states"], invokes) if effects else {}
        called = {s.service for s in (*invokes.values(), *undo.values())}
        called |= {s.service for found in notifies.values() for s in found}
        offered = self.services or ServiceSet()

        workflow = Workflow(
            name=name,
            title=self.text(raw, "title") or name.replace("_", " ").capitalize(),
            description=self.text(raw, "description"),
            rules=tuple(raw.get("rules") or ()),
            initial=initial,
            data=data,
            bindings=bindings,
            states=states,
            events=every_event,
            guards=guards,
            exclusive=exclusive,
            transitions=tuple(transitions),
            location=self.doc.locate(("workflow",)),
            by_source=transitions_by_source(tuple(transitions)),
            invariants=invariants,
            use_when=self.text(raw, "use_when"),
            why=self.text(raw, "why"),
            glossary={
                str(k): " ".join(str(v).split()) for k, v in (raw.get("glossary") or {}).items()
            },
            notes=tuple(
                Note(self.text(n, "title"), self.text(n, "text"), self.text(n, "rule"))
                for n in raw.get("notes") or ()
            ),
            data_types=data_types,
            compounds=self.compounds,
            services={n: offered.services[n] for n in sorted(called)},
            services_source=offered.source_of(called),
            invokes=invokes,
            notifies=notifies,
            compensations=undo,
        )
        if any(c.parallel for c in self.compounds.values()):
            joined, moved, start = flatten(
                self.problem,
                self.compounds,
                states,
                transitions,
                initial,
                lambda name: self.leaf(name, states),
            )
            workflow = replace(
                workflow,
                states=joined,
                transitions=tuple(moved),
                initial=start,
                by_source=transitions_by_source(tuple(moved)),
                unjoined=workflow,
            )
        if self.problems:  # what did build: checks across files still read it (`partial`)
            return workflow
        self.problems.extend(nondeterminism_problems(workflow))
        return workflow

    def invariants(self, raw: Mapping[str, Any]) -> dict[str, Invariant]:
        out: dict[str, Invariant] = {}
        for name, spec in raw.items():
            path: DocPath = ("invariants", name)
            invariant, problems = build_invariant(name, spec, self.doc.locate(path, key=True))
            for inner, message in problems:
                self.problem((*path, *inner), message)
            if invariant is not None:
                out[name] = invariant
        return out

    def bindings(self, raw: Mapping[str, Any]) -> dict[str, Binding]:
        out: dict[str, Binding] = {}
        allowed = frozenset({"data", "payload"})
        for name, spec in raw.items():
            path = ("bindings", name)
            self.check_reserved(name, path, "binding")
            many = "keys" in spec
            source = spec["keys"] if many else spec["key"]
            key_path = (*path, "keys" if many else "key")
            expr = self.expression(source, key_path, allowed, "binding key")
            if expr is not None:
                out[name] = Binding(
                    name,
                    spec["from"],
                    expr,
                    many,
                    self.text(spec, "description"),
                    self.doc.locate(path, key=True),
                )
        return out

    def events(self, raw: Mapping[str, Any], bindings: Mapping[str, Binding]) -> dict[str, Event]:
        out: dict[str, Event] = {}
        for name, given in raw.items():
            path = ("events", name)
            self.check_reserved(name, path, "event")
            spec = given or {}
            payload = spec.get("payload")
            secrets: set[str] = set()
            props: Any = {}
            if payload is not None:
                for inner, message in check_fragment_schema(payload):
                    self.problem((*path, "payload", *inner), f"payload schema: {message}")
                props = payload.get("properties")
                if isinstance(props, dict):
                    secrets = {
                        k for k, v in props.items() if isinstance(v, dict) and v.get("secret")
                    }
                for inner in nested_secrets(payload, ()):
                    self.problem(
                        (*path, "payload", *inner),
                        "`secret: true` works only on a field directly under the payload's "
                        "`properties` (history leaves out whole fields): make this a top-level "
                        "field of the payload",
                        key=True,
                    )
            fields = frozenset(props) if isinstance(props, dict) else frozenset()
            choices = {
                field_name: built
                for field_name, choice in (spec.get("choices") or {}).items()
                if (built := self.choices(name, field_name, choice, fields, secrets, bindings))
            }
            out[name] = Event(
                name,
                self.text(spec, "description"),
                payload,
                frozenset(secrets),
                self.doc.locate(path, key=True),
                choices,
                self.text(spec, "label"),
                self.text(spec, "step"),
            )
        return out

    def choices(
        self,
        event: str,
        field_name: str,
        spec: Mapping[str, Any],
        fields: frozenset[str],
        secrets: set[str],
        bindings: Mapping[str, Binding],
    ) -> Choices | None:
        """One field's list of choices; it reads no payload, since it is shown before one exists."""
        path: DocPath = ("events", event, "choices", field_name)
        if field_name not in fields:
            hint = suggest(field_name, fields)
            self.problem(
                path,
                f"choices for '{field_name}', which the payload does not declare{hint}",
                key=True,
            )
            return None
        if field_name in secrets:
            self.problem(path, f"a secret field ('{field_name}') cannot offer choices", key=True)
            return None
        # Bindings keyed by the payload are unknown until the payload is sent.
        usable = frozenset(n for n, b in bindings.items() if "payload" not in b.key.names)
        names = frozenset({"data", *usable})
        late = sorted(set(bindings) - usable)
        values = self.expression(spec["values"], (*path, "values"), names, "choices", late)
        label = None
        label_names = names | {"value"} | ({"record"} if "records" in spec else set())
        if "label" in spec:
            label = self.expression(spec["label"], (*path, "label"), label_names, "label", late)
        message = None
        if "message" in spec:
            message = self.template(
                spec["message"], (*path, "message"), names | {"value", "offered", "options"}
            )
        if values is None or ("label" in spec and label is None):
            return None
        if "message" in spec and message is None:
            return None
        return Choices(
            event=event,
            field=field_name,
            values=values,
            label=label,
            records=self.text(spec, "records"),
            rule=self.text(spec, "rule"),
            description=self.text(spec, "description"),
            ignore_case=bool(spec.get("ignore_case")),
            location=self.doc.locate(path, key=True),
            message=message,
        )

    def unused(
        self,
        events: Mapping[str, Event],
        guards: Mapping[str, Guard],
        transitions: list[Transition],
    ) -> None:
        used_events: set[Any] = {t.event for t in transitions}
        written = self.declared.get("transitions")  # as written: parts refused included
        raw_transitions = (
            [t for t in written if isinstance(t, dict)] if isinstance(written, list) else []
        )
        used_events |= {t.get("event") for t in raw_transitions if isinstance(t.get("event"), str)}
        for name in events:
            if name not in used_events:
                self.problem(
                    ("events", name),
                    f"event '{name}' is declared but no transition uses it",
                    key=True,
                )
        used_guards: set[Any] = {
            ref.lstrip("!")
            for t in raw_transitions
            if isinstance(t.get("guards"), list)
            for ref in t["guards"]
            if isinstance(ref, str)
        }
        # A misspelt use is reported with its did-you-mean; the guard it meant is not unused.
        used_guards |= {
            close[0]
            for ref in used_guards - set(self.declared_names("guards"))
            if (close := difflib.get_close_matches(str(ref), sorted(guards), n=1))
        }
        for name in guards:
            if name not in used_guards:
                self.problem(
                    ("guards", name),
                    f"guard '{name}' is defined but no transition uses it",
                    key=True,
                )


def build_workflow(
    doc: Document,
    *,
    partial: bool = False,
    declared: Mapping[str, Any] | None = None,
    services: ServiceSet | None = None,
) -> tuple[Workflow | None, list[Problem]]:
    """The workflow of a schema-valid document and its problems; the workflow is None when
    there are problems, unless `partial` asks for what did build (for the checks that can
    still run on it; nothing may run it). `declared` is the document as written when `doc`
    had parts the schema refused taken out (linkflow.language.pruning): names declared there
    are not reported as unknown a second time. `services` are those the workflow may call
    (language/service_builder.py)."""
    builder = _Builder(doc, declared)
    builder.services = services
    workflow = builder.build()
    if builder.problems and not partial:
        return None, builder.problems
    return workflow, builder.problems


#: Importers take these from here: the builder's entry point and the engine's own event.
__all__ = ["TIMEOUT_EVENT", "build_workflow"]
