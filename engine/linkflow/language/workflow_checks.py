"""The checks every part of a workflow definition shares while it is built: names the engine
reserves, expressions and message templates that must compile and use only known names, and
secret payload fields that must not leak into messages or actions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from linkflow.errors import Problem
from linkflow.language.expressions import Expression, ExpressionError, Template
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


def state_doc_path(name: str) -> DocPath:
    """Where the state at path `name` is written: ("states", "a", "states", "b")."""
    out: list[str | int] = []
    for part in name.split("."):
        out += ["states", part]
    return tuple(out)


def suggest(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def nested_secrets(node: Any, path: DocPath) -> list[DocPath]:
    """Every `secret` key of a payload schema that is not on a top-level property."""
    found: list[DocPath] = []
    if isinstance(node, list):
        for index, item in enumerate(node):
            found += nested_secrets(item, (*path, index))
    elif isinstance(node, dict):
        for key, value in node.items():
            top_level = len(path) == 2 and path[0] == "properties"
            if key == "secret" and not top_level:
                found.append((*path, key))
            elif key not in {"const", "enum", "default", "examples"}:
                found += nested_secrets(value, (*path, key))
    return found


class BuilderBase:
    """What the builder's parts share: the document, the problems found so far, and the
    checks on names and expressions each section runs."""

    def __init__(self, doc: Document, declared: Mapping[str, Any] | None = None) -> None:
        self.doc = doc
        self.raw: dict[str, Any] = doc.value
        #: The document as written (the same as `raw` unless the schema refused parts of it).
        self.declared: Mapping[str, Any] = declared if declared is not None else doc.value
        self.problems: list[Problem] = []

    def declared_names(self, section: str) -> Any:
        """The names a section declares as written, parts the schema refused included."""
        names = self.declared.get(section)
        return names if isinstance(names, dict) else {}

    def problem(self, path: DocPath, message: str, *, key: bool = False) -> None:
        self.problems.append(Problem(self.doc.locate(path, key=key), message))

    def text(self, mapping: Mapping[str, Any], key: str) -> str:
        value = mapping.get(key, "")
        return value if isinstance(value, str) else ""

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
            hint = self.name_hint(name, path, allowed)
            if name == "world":
                hint = " (expressions see the world only through bindings)"
            self.problem(path, f"{what} uses unknown name '{name}'{hint}")
        if "data" in names and "data" not in bound:
            fields = self.declared_names("data")
            for field in sorted(set(_DATA_FIELD.findall(source)) - set(fields)):
                hint = suggest(field, fields)
                self.problem(path, f"{what} uses undeclared data field 'data.{field}'{hint}")

    def name_hint(self, name: str, path: DocPath, allowed: frozenset[str]) -> str:
        """A did-you-mean for an unknown name in an expression: a field of the same name
        (`amount` for `data.amount`, or `payload.amount` when an event the expression is used
        with declares it) before a name that is merely spelled alike."""
        fields = [f"data.{f}" for f in self.declared_names("data") if "data" in allowed]
        if "payload" in allowed:
            fields += [f"payload.{f}" for f in sorted(self.payload_fields_at(path))]
        same = [f for f in fields if f.split(".", 1)[1] == name]
        if same:
            return " (did you mean " + " or ".join(f"'{f}'" for f in same) + "?)"
        return suggest(name, [*allowed, *fields])

    def payload_fields_at(self, path: DocPath) -> set[str]:
        """The payload fields an expression at `path` may read: those of the events it is used
        with (a transition's event, or the events of every transition using a guard), else of
        every event."""
        raw_events = self.raw.get("events") or {}
        transitions = [t for t in self.raw.get("transitions") or [] if isinstance(t, dict)]
        events: set[Any] = set(raw_events)
        if len(path) > 1 and path[0] == "transitions" and isinstance(path[1], int):
            if path[1] < len(transitions):
                events = {transitions[path[1]].get("event")}
        elif len(path) > 1 and path[0] == "guards":
            events = {
                t.get("event")
                for t in transitions
                if any(str(g).lstrip("!") == path[1] for g in t.get("guards") or ())
            } or events
        fields: set[str] = set()
        for event in events:
            spec = raw_events.get(event) if isinstance(event, str) else None
            payload = spec.get("payload") if isinstance(spec, dict) else None
            props = payload.get("properties") if isinstance(payload, dict) else None
            if isinstance(props, dict):
                fields |= {str(k) for k in props}
        return fields

    def check_reserved(self, name: str, path: DocPath, what: str) -> None:
        # The prefixes are what `transitions` generates from state and event names.
        prefixed = what in {"state", "event"} and name.startswith(_RESERVED_PREFIXES)
        if name in RESERVED_NAMES or prefixed:
            self.problem(
                path,
                f"{what} name '{name}' is reserved by the engine; choose another name",
                key=True,
            )

    def no_secret(self, source: str, secrets: frozenset[str], path: DocPath, what: str) -> None:
        for secret in secrets:
            name = re.escape(secret)
            field = rf"\bpayload\s*(?:\.\s*{name}\b|\[\s*(?:'{name}'|\"{name}\")\s*\])"
            if re.search(field, source):
                self.problem(path, f"{what} may not use the secret payload field '{secret}'")
