"""An SCXML document read back into a linkflow workflow (its YAML), for `linkflow import scxml`.

The subset linkflow runs: `<scxml>` with `<state>` and `<final>` children, `<transition event=
cond= target=>` with one event and one target, `cond`
as guard names (`a && !b`, each declared by `<lf:guard>`) or any linkflow expression (it
becomes a guard of its own), `<assign location= expr=>` as `set`, `<datamodel><data id= expr=>`
with JSON values, a timeout written as `scxml_export` writes it (a delayed `<send>` on entry,
cancelled on exit, and the transition its event takes), a final state's outcome and handoff
in `<donedata>`, compound states (a `<state>` holding states, its `initial` attribute or first
child, a `<final>` in it without donedata as `final: done`, `done.state.<id>` events), entry and
exit actions written as `<assign>` or `<lf:action>`, and linkflow's own `lf:` elements.
An `<invoke type="http">` in a state and a `<send type="http">` in a transition are a service
call (`invoke`, `notify`: scxml_effects.py), with `done.invoke.<id>` / `error.invoke.<id>` as
its answers. Everything else (history, another invoke or send, script, raise, log, if, foreach,
other entry and exit actions, eventless transitions) is a problem at its line and column;
nothing is guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from linkflow.errors import Problem
from linkflow.interop.scxml_effects import CallReader, answer_event, invoked_by, unanswered
from linkflow.interop.scxml_export import NAMESPACE, SCXML, TIMEOUT_EVENT
from linkflow.interop.xml_reader import Element, read_xml
from linkflow.source import SourceLocation

#: The order of a workflow's top-level keys in the YAML written (the schema's order).
KEY_ORDER = (
    "workflow", "title", "description", "use_when", "why", "glossary", "notes", "rules",
    "initial", "data", "bindings", "states", "events", "guards", "exclusive", "transitions",
    "invariants",
)  # fmt: skip
OUTCOMES = ("completed", "cancelled", "refused", "declined", "failed", "timed_out")
_NAME = re.compile(r"^!?\s*([A-Za-z_][A-Za-z0-9_]*)$")
_DELAY = re.compile(r"^(\d*(?:\.\d+)?)(ms|s|m|h|d)$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
#: Every element SCXML 1.0 defines (any other name in its namespace is unknown).
SCXML_ELEMENTS = frozenset(
    [
        "scxml",
        "state",
        "parallel",
        "transition",
        "initial",
        "final",
        "onentry",
        "onexit",
        "history",
        "raise",
        "if",
        "elseif",
        "else",
        "foreach",
        "log",
        "datamodel",
        "data",
        "assign",
        "donedata",
        "content",
        "param",
        "script",
        "send",
        "cancel",
        "invoke",
        "finalize",
    ]
)
#: What the SCXML elements linkflow does not run are called in a problem.
_NOT_SUPPORTED = {
    "history": "history states are not supported",
    "invoke": '<invoke> is supported only in a <state>, as a service call (type="http")',
    "script": "<script> is not supported: linkflow runs no scripts",
    "raise": "<raise> is not supported",
    "log": "<log> is not supported",
    "if": "<if> is not supported: split the transition, each with its own cond",
    "foreach": "<foreach> is not supported",
    "send": "<send> is supported only as a timeout (a delayed send on entry, cancelled on exit) "
    'or as a notify in a transition (type="http")',
    "cancel": "<cancel> is supported only as a timeout's (on exit)",
    "initial": "an <initial> element is not supported: use the initial attribute",
}


@dataclass
class _Edge:
    event: str
    target: str
    cond: str
    actions: list[Any]
    sources: list[str]
    extra: dict[str, Any]
    location: SourceLocation


@dataclass
class _Reader:
    file: str
    problems: list[Problem] = field(default_factory=list)
    guards: dict[str, Any] = field(default_factory=dict)
    generated: dict[str, str] = field(default_factory=dict)
    edges: dict[tuple[int, int], _Edge] = field(default_factory=dict)
    unindexed: int = 0
    #: Each state's SCXML id -> its linkflow path (`parent.child`).
    paths: dict[str, str] = field(default_factory=dict)
    #: Timeouts and initial children, fixed once every id has its path: (spec, key, id).
    pending: list[tuple[dict[str, Any], str, str]] = field(default_factory=list)

    def problem(self, element: Element, message: str) -> None:
        self.problems.append(Problem(element.location, message))

    def json_of(self, element: Element, what: str) -> Any:
        text = element.text.strip()
        if not text:
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            self.problem(element, f"{what}: not JSON ({err.msg} at character {err.pos + 1})")
            return None

    def json_object(self, element: Element, what: str) -> dict[str, Any]:
        value = self.json_of(element, what)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(element, f"{what}: expected a JSON object")
            return {}
        return value

    def unknown(self, element: Element, where: str) -> None:
        if element.namespace == SCXML and element.name in _NOT_SUPPORTED:
            self.problem(element, _NOT_SUPPORTED[element.name])
        elif element.namespace == SCXML and element.name in SCXML_ELEMENTS:
            self.problem(element, f"<{element.name}> is not supported in {where}")
        elif element.namespace == NAMESPACE:
            self.problem(element, f"<lf:{element.name}> does not belong in {where}")
        else:
            foreign = element.namespace not in ("", SCXML)
            shown = f"{{{element.namespace}}}{element.name}" if foreign else element.name
            self.problem(element, f"unknown element <{shown}> in {where}")

    # -- the document ------------------------------------------------------------------

    def document(self, root: Element) -> dict[str, Any] | None:
        if root.namespace != SCXML or root.name != "scxml":
            self.problem(root, f"expected an <scxml> element in the namespace {SCXML}")
            return None
        doc: dict[str, Any] = {}
        name = root.attrs.get("name") or ""
        if not name:
            self.problem(root, "<scxml> has no name attribute: the workflow's name")
        doc["workflow"] = name
        events: dict[str, Any] = {}
        states: dict[str, Any] = {}
        data: dict[str, Any] = {}
        for child in root.children:
            tag = (child.namespace, child.name)
            if tag == (NAMESPACE, "workflow"):
                extra = self.json_object(child, "<lf:workflow>")
                doc.update({k: v for k, v in extra.items() if k not in doc})
            elif tag == (NAMESPACE, "event"):
                if not child.attrs.get("name"):
                    self.problem(child, "<lf:event> has no name")
                events[child.attrs.get("name", "")] = self.json_object(child, "<lf:event>")
            elif tag == (NAMESPACE, "guard"):
                self.guard(child)
            elif tag == (SCXML, "datamodel"):
                data.update(self.datamodel(child))
            elif tag in ((SCXML, "state"), (SCXML, "final"), (SCXML, "parallel")):
                self.top_state(child, states)
            else:
                self.unknown(child, "<scxml>")
        # SCXML's rule: without an initial attribute, the first state in document order.
        initial, *others = (root.attrs.get("initial", "") or next(iter(states), "")).split()
        doc["initial"] = self.path(initial)
        self.resolve_pending()
        # a parallel start: the first region's leaf stands for it when the others are their
        # regions' initial states (as linkflow enters them)
        for other in others:
            if not _region_initial(states, self.path(other)):
                self.problem(
                    root,
                    f"several initial states: '{other}' is not the initial state of a region "
                    "of a parallel state (linkflow enters the other regions in their initial)",
                )
        # a done.state event is raised by its compound state, never declared; nor is an
        # invoke's answer (`done.invoke.<id>`, `error.invoke.<id>`: scxml_effects.py)
        answers = [(e.event, e.location) for e in self.edges.values()]
        self.problems.extend(Problem(where, why) for where, why in unanswered(states, answers))
        used = [
            e.event
            for e in self.edges.values()
            if not e.event.startswith("done.state.") and not invoked_by(e.event)
        ]
        events.update({name: {} for name in used if name not in events})
        transitions = [self.transition(e) for _, e in sorted(self.edges.items())]  # may add guards
        parts = {"data": data, "states": states, "events": events, "guards": self.guards}
        doc.update({key: value for key, value in parts.items() if value or key == "states"})
        doc["transitions"] = transitions
        return {key: doc[key] for key in KEY_ORDER if key in doc} | {
            k: v for k, v in doc.items() if k not in KEY_ORDER
        }

    def resolve_pending(self) -> None:
        """Initial children and timeout targets, once every state id has its path."""
        for spec, key, state_id in self.pending:
            path = self.path(state_id)
            # an initial child by its name, a timeout's target by its path
            spec[key] = path.rpartition(".")[2] if key == "initial" else path

    def top_state(self, element: Element, states: dict[str, Any], parent: str = "") -> None:
        state_id = element.attrs.get("id", "")
        if not state_id:
            self.problem(element, f"<{element.name}> has no id")
            return
        # linkflow's export names a nested state by its path; another chart's ids stay names
        name = state_id.removeprefix(f"{self.paths[parent]}.") if parent else state_id
        if state_id in self.paths or name in states:
            self.problem(element, f"a second state with the id '{state_id}'")
        self.paths[state_id] = f"{self.paths[parent]}.{name}" if parent else name
        states[name] = (
            self.state(element, state_id)
            if element.name in ("state", "parallel")
            else self.final(element, nested=bool(parent))
        )

    def guard(self, element: Element) -> None:
        name = element.attrs.get("name", "")
        when = element.attrs.get("when")
        if not name or when is None:
            self.problem(element, "<lf:guard> needs a name and a when attribute")
            return
        spec = self.json_object(element, f"<lf:guard name='{name}'>")
        spec = {"when": when, **{k: v for k, v in spec.items() if k != "when"}}
        spec.setdefault("message", f"The condition '{name}' does not hold.")
        self.guards[name] = spec

    def datamodel(self, element: Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in element.children:
            if (child.namespace, child.name) != (SCXML, "data"):
                self.unknown(child, "<datamodel>")
                continue
            name = child.attrs.get("id", "")
            if "src" in child.attrs:
                self.problem(child, "<data src=...> is not supported: give the value in expr")
                continue
            declared = child.attr(NAMESPACE, "declared")
            text = declared or child.attrs.get("expr", child.text.strip() or "null")
            try:
                out[name] = json.loads(text)
            except json.JSONDecodeError:
                self.problem(child, f"the value of '{name}' is not a JSON value: {text[:60]}")
        return out

    # -- states --------------------------------------------------------------------------

    def state(self, element: Element, state_id: str) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        timeout = self.timeout(element, spec)
        for child in element.children:
            tag = (child.namespace, child.name)
            if tag == (NAMESPACE, "state"):
                spec.update(self.json_object(child, "<lf:state>"))
            elif tag in ((SCXML, "onentry"), (SCXML, "onexit")):
                continue  # read by `timeout`
            elif tag == (SCXML, "transition"):
                event = child.attrs.get("event", "")
                if timeout is not None and event == timeout[0]:
                    timeout_to = child.attrs.get("target", "")
                    waiting = dict(spec.get("waiting") or {"for": "an answer"})
                    waiting["timeout"] = {
                        **(waiting.get("timeout") or {}),
                        "seconds": timeout[1],
                        "to": timeout_to,
                    }
                    spec["waiting"] = waiting
                    self.pending.append((waiting["timeout"], "to", timeout_to))
                else:
                    self.edge(child, state_id)
            elif tag in ((SCXML, "state"), (SCXML, "final"), (SCXML, "parallel")):
                self.top_state(child, spec.setdefault("states", {}), state_id)
            else:
                self.other(child, spec, element.name)
        if element.name == "parallel":
            # every child is a region, all active at once: no initial child
            spec["parallel"] = True
            spec.pop("initial", None)
        elif "states" in spec:
            # SCXML's rule: without an initial attribute, the first child in document order
            first = element.attrs.get("initial", "").strip()
            if " " in first:
                self.problem(element, "several initial states (a parallel start) are not supported")
            spec["initial"] = first or next(iter(spec["states"]))
            if first:
                self.pending.append((spec, "initial", first))
        return spec

    def other(self, child: Element, spec: dict[str, Any], where: str) -> None:
        """An `<invoke>` (a service call: scxml_effects.py), or an element a state cannot hold."""
        if (child.namespace, child.name) == (SCXML, "invoke"):
            CallReader(self.problem).state_invoke(child, spec)
        else:
            self.unknown(child, f"<{where}>")

    def timeout(self, element: Element, spec: dict[str, Any]) -> tuple[str, float] | None:
        """(event, seconds) of the timeout pattern; the entry and exit actions linkflow runs
        (`<assign>`, `<lf:action>`) go into `spec`, any other is a problem."""
        sends: dict[str, tuple[str, float]] = {}
        cancels: set[str] = set()
        for block in element.children:
            if (block.namespace, block.name) not in ((SCXML, "onentry"), (SCXML, "onexit")):
                continue
            for action in block.children:
                kind = (block.name, action.namespace, action.name)
                if kind == ("onentry", SCXML, "send") and action.attrs.get("delay"):
                    seconds = self.seconds(action)
                    event = action.attrs.get("event", "")
                    if seconds is not None and event.startswith(TIMEOUT_EVENT):
                        sends[action.attrs.get("id", event)] = (event, seconds)
                        continue
                    if seconds is not None:
                        self.problem(action, f"a timeout's event is named {TIMEOUT_EVENT}<state>")
                    continue
                if kind == ("onexit", SCXML, "cancel"):
                    cancels.add(action.attrs.get("sendid", ""))
                    continue
                found = self.action(action)
                if found is not None:
                    when = "entry" if block.name == "onentry" else "exit"
                    spec.setdefault(when, []).append(found)
                    continue
                self.problem(
                    action,
                    f"<{action.name}> is not supported on entry or exit (an <assign>, a linkflow "
                    "action or a timeout is)",
                )
        if not sends:
            return None
        if len(sends) > 1:
            self.problem(element, "more than one timeout on one state")
        send_id, (event, seconds) = next(iter(sends.items()))
        if send_id not in cancels:
            self.problem(element, f"the timeout '{send_id}' is not cancelled on exit")
        return event, seconds

    def seconds(self, action: Element) -> float | None:
        text = action.attrs.get("delay", "").strip()
        found = _DELAY.match(text)
        if not found or not found.group(1):
            self.problem(action, f"delay '{text}' is not a duration like 30s, 5m, 2d or 500ms")
            return None
        return float(found.group(1)) * _UNIT[found.group(2)]

    def final(self, element: Element, nested: bool = False) -> dict[str, Any]:
        """A final state: inside a compound state, without donedata, `final: done`."""
        spec: dict[str, Any] = {}
        outcome = "done" if nested else "completed"
        for child in element.children:
            tag = (child.namespace, child.name)
            if tag == (NAMESPACE, "state"):
                spec.update(self.json_object(child, "<lf:state>"))
            elif tag == (SCXML, "donedata"):
                for param in child.children:
                    name = param.attrs.get("name", "")
                    value = param.attrs.get("expr", "").strip().strip("'\"")
                    if (param.namespace, param.name) != (SCXML, "param") or name not in (
                        "outcome",
                        "handoff",
                    ):
                        self.problem(param, "<donedata> holds an outcome and a handoff <param>")
                    elif name == "outcome":
                        if value not in OUTCOMES:
                            self.problem(
                                param, f"unknown outcome '{value}' ({', '.join(OUTCOMES)})"
                            )
                        outcome = value
                    else:
                        spec["handoff"] = value
            else:
                self.unknown(child, "<final>")
        return {"final": outcome, **spec}

    # -- transitions -----------------------------------------------------------------------

    def edge(self, element: Element, source: str) -> None:
        event = element.attrs.get("event", "").strip()
        target = element.attrs.get("target", "").strip()
        if not event:
            self.problem(element, "a transition without an event (eventless) is not supported")
            return
        if " " in event or "*" in event:
            self.problem(element, f"event '{event}': one event name per transition, no wildcard")
            return
        if not target or " " in target:
            self.problem(element, "a transition needs exactly one target state")
            return
        index_text = element.attr(NAMESPACE, "index")
        key = (0, int(index_text)) if index_text and index_text.isdigit() else None
        if key is None:
            self.unindexed += 1
            key = (1, self.unindexed)
        cond = element.attrs.get("cond", "").strip()
        known = self.edges.get(key)
        if known is not None:
            if (known.event, known.target, known.cond) != (event, target, cond):
                self.problem(element, f"lf:index {key[1]} differs from its first occurrence")
            known.sources.append(source)
            return
        extra: dict[str, Any] = {}
        actions: list[Any] = []
        for child in element.children:
            tag = (child.namespace, child.name)
            if tag == (NAMESPACE, "transition"):
                extra.update(self.json_object(child, "<lf:transition>"))
                continue
            if tag == (SCXML, "send"):  # a notify (scxml_effects.py)
                notify = CallReader(self.problem).notify(child)
                if notify is not None:
                    extra.setdefault("notify", []).append(notify)
                continue
            found = self.action(child)
            if found is not None:
                actions.append(found)
            elif tag not in ((NAMESPACE, "action"), (SCXML, "assign")):
                self.unknown(child, "<transition>")
        self.edges[key] = _Edge(event, target, cond, actions, [source], extra, element.location)

    def action(self, child: Element) -> Any:
        """An `<lf:action>` or an `<assign>` as a linkflow action, else None (a broken one
        with a problem)."""
        tag = (child.namespace, child.name)
        if tag == (NAMESPACE, "action"):
            return self.json_of(child, "<lf:action>")
        if tag != (SCXML, "assign"):
            return None
        if "location" not in child.attrs or "expr" not in child.attrs:
            self.problem(child, "<assign> needs location and expr")
            return None
        return {"set": {"path": child.attrs["location"], "value": child.attrs["expr"]}}

    def path(self, state_id: str) -> str:
        """A state's linkflow path, from its SCXML id (an unknown id stays as it is: the
        loader then names it)."""
        return self.paths.get(state_id, state_id)

    def guard_list(self, cond: str) -> list[str]:
        """`a && !b` over declared guards, or one guard made of the whole condition."""
        parts = [p.strip() for p in cond.split("&&")]
        names = [_NAME.match(p) for p in parts]
        if all(m is not None and m.group(1) in self.guards for m in names):
            return [p.replace(" ", "") for p in parts]
        name = self.generated.get(cond)
        if name is None:
            name = f"cond_{len(self.generated) + 1}"
            self.generated[cond] = name
            self.guards[name] = {
                "when": cond,
                "message": f"Condition {len(self.generated)} of the imported chart does not hold.",
            }
        return [name]

    def transition(self, edge: _Edge) -> dict[str, Any]:
        extra = dict(edge.extra)
        written = [self.path(s) for s in edge.sources]
        sources: Any = extra.pop("from", None) or (written[0] if len(written) == 1 else written)
        event = answer_event(edge.event)  # done.invoke.x -> x.done, error.invoke.x -> x.failed
        if event.startswith("done.state."):
            event = "done.state." + self.path(event.removeprefix("done.state."))
        out: dict[str, Any] = {"event": event, "from": sources, "to": self.path(edge.target)}
        if edge.cond:
            out["guards"] = self.guard_list(edge.cond)
        if edge.actions:
            out["actions"] = edge.actions
        out.update(extra)
        return out


def read_scxml(text: str | bytes, file: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The workflow (as its YAML's data) an SCXML text describes, and every problem found."""
    root, problems = read_xml(text, file)
    if root is None:
        return None, problems
    reader = _Reader(file)
    doc = reader.document(root)
    if reader.problems:
        return None, reader.problems
    return doc, []


def workflow_yaml(doc: dict[str, Any], source: str) -> str:
    """The workflow's YAML text, with a line saying where it came from."""
    import yaml  # noqa: PLC0415 - PyYAML: only an import writes YAML

    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return f"# Imported from {source} by `linkflow import scxml`.\n{body}"


def _region_initial(states: dict[str, Any], path: str) -> bool:
    """Whether the state at `path` is where a region of a parallel state starts: each state
    from the region down to it is its parent's `initial`."""
    parts = path.split(".")
    specs: list[dict[str, Any]] = []
    level: Any = states
    for part in parts:
        spec = level.get(part) if isinstance(level, dict) else None
        if not isinstance(spec, dict):
            return False
        specs.append(spec)
        level = spec.get("states")
    for depth in range(len(parts) - 1, 0, -1):
        parent = specs[depth - 1]
        if parent.get("parallel"):
            return True
        if parent.get("initial") != parts[depth]:
            return False
    return False
