"""Stage three of loading: a schema-valid document becomes a frozen, compiled Workflow.

Every semantic problem (unknown references, expressions that do not compile, names that would
collide with the engine) is collected with its location; nothing stops at the first one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from linkflow.errors import Problem
from linkflow.language.data_types import declaration_problems, default_of, field_type
from linkflow.language.durations import duration
from linkflow.language.expressions import Expression, ExpressionError, Template
from linkflow.language.model import (
    Action,
    ActionKind,
    Binding,
    Choices,
    Event,
    Guard,
    GuardUse,
    Invariant,
    Note,
    Outcome,
    PathStep,
    State,
    TargetPath,
    Timeout,
    Transition,
    Waiting,
    Workflow,
    transitions_by_source,
)
from linkflow.language.model_checks import nondeterminism_problems
from linkflow.language.schema import check_fragment_schema
from linkflow.language.yaml_loader import Document
from linkflow.source import DocPath

#: Names the engine uses itself: a state, event, guard or binding may not take them.
RESERVED_NAMES = frozenset(
    {
        "data",
        "payload",
        "world",
        "state",
        "trigger",
        "send",
        "history",
        "timeout",
        "available_events",
        "machine",
        "model",
        "self",
        "true",
        "false",
        "null",
        "in",
    }
)
_RESERVED_PREFIXES = ("may_", "is_", "to_")
#: Workflow names the generated files use for something else.
RESERVED_WORKFLOW_NAMES = frozenset({"overview"})
#: Names CEL macros bind inside an expression, such as `a` in `list.all(a, a > 0)`.
_MACRO_VAR = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
TIMEOUT_EVENT = "timeout"
#: `data.<field>` inside an expression (not preceded by a dot or a name character).
_DATA_FIELD = re.compile(r"(?<![\w.])data\s*\.\s*([A-Za-z_]\w*)")


def _suggest(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _nested_secrets(node: Any, path: DocPath) -> list[DocPath]:
    """Every `secret` key of a payload schema that is not on a top-level property."""
    found: list[DocPath] = []
    if isinstance(node, list):
        for index, item in enumerate(node):
            found += _nested_secrets(item, (*path, index))
    elif isinstance(node, dict):
        for key, value in node.items():
            top_level = len(path) == 2 and path[0] == "properties"
            if key == "secret" and not top_level:
                found.append((*path, key))
            elif key not in {"const", "enum", "default", "examples"}:
                found += _nested_secrets(value, (*path, key))
    return found


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.raw: dict[str, Any] = doc.value
        self.problems: list[Problem] = []

    def problem(self, path: DocPath, message: str, *, key: bool = False) -> None:
        self.problems.append(Problem(self.doc.locate(path, key=key), message))

    def text(self, mapping: Mapping[str, Any], key: str) -> str:
        value = mapping.get(key, "")
        return value if isinstance(value, str) else ""

    # -- expressions -----------------------------------------------------------------------

    def expression(
        self,
        source: str,
        path: DocPath,
        allowed: frozenset[str],
        what: str,
        before_payload: Iterable[str] | None = None,
    ) -> Expression | None:
        try:
            # Choices are built before any payload exists: they may build lists (map, filter).
            expr = Expression.compile(source, builds_lists=before_payload is not None)
        except ExpressionError as err:
            self.problem(path, f"{what} does not compile: {err}")
            return None
        # Choices are worked out before a payload exists: nothing may read one.
        late = set() if before_payload is None else expr.names & {"payload", *before_payload}
        for name in sorted(late):
            about = (
                "the payload" if name == "payload" else f"binding '{name}' (keyed by the payload)"
            )
            self.problem(
                path, f"{what} cannot use {about}: choices are offered before the payload is sent"
            )
        self.check_names(expr.names - late, source, path, allowed, what)
        return expr

    def template(self, source: str, path: DocPath, allowed: frozenset[str]) -> Template | None:
        try:
            template = Template.compile(source)
        except ExpressionError as err:
            self.problem(path, f"message placeholder does not compile: {err}")
            return None
        for part in template.parts:
            if isinstance(part, Expression):
                self.check_names(part.names, part.source, path, allowed, "message placeholder")
        return template

    def check_names(
        self, names: frozenset[str], source: str, path: DocPath, allowed: frozenset[str], what: str
    ) -> None:
        bound = set(_MACRO_VAR.findall(source))
        for name in sorted(names - allowed - bound):
            hint = _suggest(name, allowed)
            if name == "world":
                hint = " (expressions see the world only through bindings)"
            self.problem(path, f"{what} uses unknown name '{name}'{hint}")
        if "data" in names and "data" not in bound:
            fields = self.raw.get("data") or {}
            for field in sorted(set(_DATA_FIELD.findall(source)) - set(fields)):
                hint = _suggest(field, fields)
                self.problem(path, f"{what} uses undeclared data field 'data.{field}'{hint}")

    # -- names -------------------------------------------------------------------------------

    def check_reserved(self, name: str, path: DocPath, what: str) -> None:
        # The prefixes are what `transitions` generates from state and event names.
        prefixed = what in {"state", "event"} and name.startswith(_RESERVED_PREFIXES)
        if name in RESERVED_NAMES or prefixed:
            self.problem(
                path,
                f"{what} name '{name}' is reserved by the engine; choose another name",
                key=True,
            )

    # -- sections ----------------------------------------------------------------------------

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
        states = self.states(raw["states"])
        events = self.events(raw.get("events") or {}, bindings)
        guards = self.guards(raw.get("guards") or {}, base_names, events)
        exclusive = self.exclusive(raw.get("exclusive") or [], guards)
        transitions = self.transitions(raw["transitions"], states, events, guards, bindings)
        transitions += self.timeout_transitions(states)
        self.explained_refusals(states, events, transitions)
        invariants = self.invariants(raw.get("invariants") or {})

        initial = raw["initial"]
        if initial not in states:
            self.problem(
                ("initial",), f"unknown initial state '{initial}'{_suggest(initial, states)}"
            )
        elif states[initial].is_final:
            self.problem(("initial",), f"the initial state '{initial}' must not be final")
        self.unused(events, guards, transitions)
        if self.problems:
            return None

        workflow = Workflow(
            name=name,
            title=self.text(raw, "title") or name.replace("_", " ").capitalize(),
            description=self.text(raw, "description"),
            rules=tuple(raw.get("rules") or ()),
            initial=initial,
            data=data,
            bindings=bindings,
            states=states,
            events=events,
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
        )
        self.problems.extend(nondeterminism_problems(workflow))
        return None if self.problems else workflow

    def invariants(self, raw: Mapping[str, Any]) -> dict[str, Invariant]:
        from linkflow.language.invariants import build_invariant

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

    def states(self, raw: Mapping[str, Any]) -> dict[str, State]:
        out: dict[str, State] = {}
        for name, given in raw.items():
            path = ("states", name)
            self.check_reserved(name, path, "state")
            spec = given or {}
            waiting = None
            if "waiting" in spec:
                wait = spec["waiting"]
                timeout = None
                if "timeout" in wait:
                    t = wait["timeout"]
                    timeout = Timeout(
                        float(t["seconds"]),
                        t["to"],
                        self.text(t, "description"),
                        self.doc.locate((*path, "waiting", "timeout", "to")),
                        self.text(t, "assumption"),
                    )
                waiting = Waiting(wait["for"], timeout)
            out[name] = State(
                name=name,
                location=self.doc.locate(path, key=True),
                description=self.text(spec, "description"),
                step=self.text(spec, "step"),
                rule=self.text(spec, "rule"),
                final=Outcome(spec["final"]) if "final" in spec else None,
                waiting=waiting,
                handoff=self.text(spec, "handoff"),
                label=self.text(spec, "label"),
                assumption=self.text(spec, "assumption"),
                refuses={
                    event: (body["message"], self.text(body, "rule"))
                    for event, body in (spec.get("refuses") or {}).items()
                },
            )
            if out[name].handoff and out[name].final is not Outcome.COMPLETED:
                self.problem(
                    (*path, "handoff"), "only a final state with outcome `completed` can hand off"
                )
        for name, state in out.items():
            timeout = state.waiting.timeout if state.waiting else None
            if timeout and timeout.to not in out:
                self.problem(
                    ("states", name, "waiting", "timeout", "to"),
                    f"timeout leads to unknown state '{timeout.to}'{_suggest(timeout.to, out)}",
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
                for inner in _nested_secrets(payload, ()):
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
            hint = _suggest(field_name, fields)
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
                spec["message"], (*path, "message"), names | {"value", "offered"}
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

    def guards(
        self, raw: Mapping[str, Any], names: frozenset[str], events: Mapping[str, Event]
    ) -> dict[str, Guard]:
        out: dict[str, Guard] = {}
        secrets = frozenset(s for e in events.values() for s in e.secret_fields)
        for name, spec in raw.items():
            path = ("guards", name)
            self.check_reserved(name, path, "guard")
            when = self.expression(spec["when"], (*path, "when"), names, "guard expression")
            message = self.template(spec["message"], (*path, "message"), names)
            negated = None
            if "message_when_true" in spec:
                negated = self.template(
                    spec["message_when_true"], (*path, "message_when_true"), names
                )
            for key in ("message", "message_when_true"):
                self.no_secret(spec.get(key, ""), secrets, (*path, key), "a refusal message")
            if when is not None and message is not None:
                out[name] = Guard(
                    name,
                    when,
                    message,
                    negated,
                    self.text(spec, "rule"),
                    self.text(spec, "description"),
                    self.doc.locate(path, key=True),
                    self.text(spec, "assumption"),
                )
        return out

    def no_secret(self, source: str, secrets: frozenset[str], path: DocPath, what: str) -> None:
        for secret in secrets:
            name = re.escape(secret)
            field = rf"\bpayload\s*(?:\.\s*{name}\b|\[\s*(?:'{name}'|\"{name}\")\s*\])"
            if re.search(field, source):
                self.problem(path, f"{what} may not use the secret payload field '{secret}'")

    def exclusive(
        self, raw: list[list[str]], guards: Mapping[str, Guard]
    ) -> tuple[frozenset[str], ...]:
        out = []
        for i, group in enumerate(raw):
            for j, name in enumerate(group):
                if name not in guards and name not in self.raw.get("guards", {}):
                    self.problem(
                        ("exclusive", i, j), f"unknown guard '{name}'{_suggest(name, guards)}"
                    )
            out.append(frozenset(group))
        return tuple(out)

    def transitions(
        self,
        raw: list[dict[str, Any]],
        states: Mapping[str, State],
        events: Mapping[str, Event],
        guards: Mapping[str, Guard],
        bindings: Mapping[str, Binding],
    ) -> list[Transition]:
        out: list[Transition] = []
        nonfinal = tuple(n for n, s in states.items() if not s.is_final)
        secrets_by_event = {n: e.secret_fields for n, e in events.items()}
        for index, spec in enumerate(raw):
            path: DocPath = ("transitions", index)
            ok = True
            event = spec["event"]
            if event not in events:
                self.problem(
                    (*path, "event"),
                    f"unknown event '{event}'{_suggest(event, events)}: declare it under `events`",
                )
                ok = False
            raw_from = spec["from"]
            if raw_from == "*":
                sources = nonfinal
            else:
                sources = (raw_from,) if isinstance(raw_from, str) else tuple(raw_from)
                for j, source in enumerate(sources):
                    where = (*path, "from") if isinstance(raw_from, str) else (*path, "from", j)
                    if source not in states:
                        hint = _suggest(source, states)
                        self.problem(where, f"unknown source state '{source}'{hint}")
                        ok = False
                    elif states[source].is_final:
                        self.problem(
                            where, f"'{source}' is a final state: no transition may leave it"
                        )
                        ok = False
            target = spec["to"]
            if target not in states:
                self.problem(
                    (*path, "to"), f"unknown target state '{target}'{_suggest(target, states)}"
                )
                ok = False
            uses: list[GuardUse] = []
            for j, ref in enumerate(spec.get("guards") or ()):
                negated = ref.startswith("!")
                gname = ref.lstrip("!")
                guard = guards.get(gname)
                if guard is None:
                    if gname not in (self.raw.get("guards") or {}):
                        hint = _suggest(gname, guards)
                        self.problem((*path, "guards", j), f"unknown guard '{gname}'{hint}")
                    ok = False
                    continue
                if negated and guard.message_when_true is None:
                    self.problem(
                        (*path, "guards", j),
                        f"guard '{gname}' is used negated but has no `message_when_true` "
                        "to explain that refusal",
                    )
                    ok = False
                uses.append(GuardUse(guard, negated, self.doc.locate((*path, "guards", j))))
            actions = self.actions(
                spec.get("actions") or [], path, bindings, secrets_by_event.get(event, frozenset())
            )
            if actions is None:
                ok = False
            if ok and actions is not None:
                out.append(
                    Transition(
                        event=event,
                        sources=sources,
                        target=target,
                        guards=tuple(uses),
                        actions=tuple(actions),
                        description=self.text(spec, "description"),
                        rule=self.text(spec, "rule"),
                        location=self.doc.locate(path),
                        index=index,
                        assumption=self.text(spec, "assumption"),
                        step=self.text(spec, "step"),
                        check_all_guards=bool(spec.get("check_all_guards")),
                    )
                )
        return out

    def explained_refusals(
        self,
        states: Mapping[str, State],
        events: Mapping[str, Event],
        transitions: list[Transition],
    ) -> None:
        """A state's `refuses` names declared events that no transition takes there."""
        for state in states.values():
            for event in state.refuses:
                path: DocPath = ("states", state.name, "refuses", event)
                if event not in events:
                    hint = _suggest(event, events)
                    self.problem(path, f"refuses unknown event '{event}'{hint}", key=True)
                elif any(t.event == event and state.name in t.sources for t in transitions):
                    self.problem(
                        path,
                        f"state '{state.name}' both takes and refuses event '{event}'",
                        key=True,
                    )

    def timeout_transitions(self, states: Mapping[str, State]) -> list[Transition]:
        out = []
        for state in states.values():
            timeout = state.waiting.timeout if state.waiting else None
            if timeout is None or timeout.to not in states:
                continue
            out.append(
                Transition(
                    event=TIMEOUT_EVENT,
                    sources=(state.name,),
                    target=timeout.to,
                    guards=(),
                    actions=(),
                    description=timeout.description
                    or f"No answer within {duration(timeout.seconds)}: stop waiting",
                    rule="",
                    location=timeout.location,
                    index=-1,
                    is_timeout=True,
                    assumption=timeout.assumption,
                )
            )
        return out

    def actions(
        self,
        raw: list[dict[str, Any]],
        path: DocPath,
        bindings: Mapping[str, Binding],
        secrets: frozenset[str],
    ) -> list[Action] | None:
        out: list[Action] = []
        ok = True
        base = frozenset({"data", "payload", *bindings})
        for i, spec in enumerate(raw):
            ((verb, body),) = spec.items()
            here: DocPath = (*path, "actions", i, verb)
            kind = ActionKind(verb)
            names = base
            for_item = for_in = None
            if "for_each" in body:
                loop = body["for_each"]
                for_item = loop["item"]
                if for_item in base:
                    self.problem(
                        (*here, "for_each", "item"), f"'{for_item}' is already a name here"
                    )
                    ok = False
                for_in = self.expression(loop["in"], (*here, "for_each", "in"), base, "list")
                names = base | {for_item}
                ok = ok and for_in is not None
            value = None
            if "value" in body:
                value = self.expression(body["value"], (*here, "value"), names, "action value")
                self.no_secret(body["value"], secrets, (*here, "value"), "an action")
                ok = ok and value is not None
            elif kind is not ActionKind.REMOVE:
                self.problem(here, f"`{verb}` needs a `value`")
                ok = False
            if body.get("each") and kind is ActionKind.SET:
                self.problem((*here, "each"), "`each` goes with append, add or remove, not set")
                ok = False
            target = self.target_path(body["path"], (*here, "path"), bindings, names, secrets)
            if target is None or not ok:
                ok = False
                continue
            out.append(
                Action(
                    kind,
                    target,
                    value,
                    bool(body.get("each")),
                    for_item,
                    for_in,
                    self.doc.locate(here, key=True),
                )
            )
        return out if ok else None

    def target_path(
        self,
        text: str,
        path: DocPath,
        bindings: Mapping[str, Binding],
        names: frozenset[str],
        secrets: frozenset[str],
    ) -> TargetPath | None:
        try:
            root, raw_steps = split_path(text)
        except ValueError as err:
            self.problem(path, f"path '{text}': {err}")
            return None
        steps: list[PathStep] = []
        for kind, part in raw_steps:
            if kind == "name":
                steps.append(PathStep(name=part))
                continue
            self.no_secret(part, secrets, path, "an action path")
            expr = self.expression(part, path, names, "path key")
            if expr is None:
                return None
            steps.append(PathStep(key=expr))
        if root == "world":
            if len(steps) < 2 or steps[0].name is None or steps[1].key is None:
                self.problem(path, f"path '{text}': write world paths as world.<collection>[<key>]")
                return None
        elif root == "data":
            if not steps:
                self.problem(path, f"path '{text}': name a field of data, as in data.field")
                return None
        elif root in bindings:
            if bindings[root].many:
                self.problem(
                    path,
                    f"path '{text}': binding '{root}' is a list of records; "
                    "use for_each with a world.<collection>[<key>] path",
                )
                return None
        else:
            options = ["data", "world", *bindings]
            self.problem(
                path, f"path '{text}' starts with unknown name '{root}'{_suggest(root, options)}"
            )
            return None
        return TargetPath(root, tuple(steps), text)

    def unused(
        self,
        events: Mapping[str, Event],
        guards: Mapping[str, Guard],
        transitions: list[Transition],
    ) -> None:
        used_events: set[Any] = {t.event for t in transitions}
        raw_transitions = self.raw.get("transitions") or []
        used_events |= {t.get("event") for t in raw_transitions if isinstance(t, dict)}
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
            if isinstance(t, dict)
            for ref in t.get("guards") or ()
        }
        for name in guards:
            if name not in used_guards:
                self.problem(
                    ("guards", name),
                    f"guard '{name}' is defined but no transition uses it",
                    key=True,
                )


def split_path(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Split `root.name[expr].name` into its root and steps; brackets may nest."""
    match = re.match(r"\s*([a-z][a-z0-9_]*)", text)
    if not match:
        raise ValueError("must start with a name (data, world or a binding)")
    root = match.group(1)
    i = match.end()
    steps: list[tuple[str, str]] = []
    while i < len(text):
        char = text[i]
        if char == ".":
            found = re.match(r"\.([A-Za-z_][A-Za-z0-9_]*)", text[i:])
            if not found:
                raise ValueError(f"expected a field name after '.' at character {i + 1}")
            steps.append(("name", found.group(1)))
            i += found.end()
        elif char == "[":
            depth, j, quote = 0, i, ""
            while j < len(text):
                c = text[j]
                if quote:
                    quote = "" if c == quote else quote
                elif c in "'\"":
                    quote = c
                elif c == "[":
                    depth += 1
                elif c == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= len(text):
                raise ValueError(f"unclosed '[' at character {i + 1}")
            inner = text[i + 1 : j].strip()
            if not inner:
                raise ValueError(f"empty '[]' at character {i + 1}")
            steps.append(("key", inner))
            i = j + 1
        elif char.isspace():
            i += 1
        else:
            raise ValueError(f"unexpected '{char}' at character {i + 1}")
    return root, steps


def build_workflow(doc: Document) -> tuple[Workflow | None, list[Problem]]:
    builder = _Builder(doc)
    workflow = builder.build()
    return workflow, builder.problems
