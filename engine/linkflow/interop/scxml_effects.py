"""A workflow's calls (effects) in SCXML: written into `scxml_export`'s document, read back by
`scxml_import`.

- a state's `invoke: {service, as, with}` -> `<invoke id="<as>" type="http" src="<service>">`
  in that `<state>`, each `with:` field a `<param name= expr=>` (`with: {}`: `<content
  expr="{}"/>`). `type="http"` says it is a linkflow service call (an HTTP request declared in
  the project's services file); `src` is the service's name there, not a URL.
- `<as>.done` / `<as>.failed` -> the events SCXML raises for an invoke: `done.invoke.<as>` when
  it finished, and `error.invoke.<as>` when it did not (SCXML names no per-invoke error event;
  this one is in the `error.` family, so `<transition event="error">` catches it as well).
- a transition's `notify: [{service, with}]` -> `<send event="linkflow.notify" type="http"
  target="<service>">` with its `<param>`s, after the transition's other executable content.
- `compensate` has no SCXML element: it stays in the state's `<lf:state>` JSON.

Expressions travel as linkflow's CEL text in `expr` (the `linkflow` datamodel). Nothing of the
services file is written: SCXML carries the services' names only (no URL, header,
authentication or retry policy), and an import finds the declarations in a services file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from linkflow.language.effect_specs import EffectSpec, done_event, failed_event_name
from linkflow.language.model import Workflow
from linkflow.source import SourceLocation

if TYPE_CHECKING:
    from linkflow.interop.xml_reader import Element

SCXML = "http://www.w3.org/2005/07/scxml"
NAMESPACE = "https://linkflow.dev/ns/scxml"
#: The invoke and send type of a linkflow service call.
CALL_TYPE = "http"
#: The event name a notify's `<send>` carries.
NOTIFY_EVENT = "linkflow.notify"
DONE_INVOKE = "done.invoke."
ERROR_INVOKE = "error.invoke."
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _s(tag: str) -> str:
    return f"{{{SCXML}}}{tag}"


def _lf(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def answer_events(workflow: Workflow) -> dict[str, str]:
    """linkflow's answer events by the SCXML events that stand for them."""
    out: dict[str, str] = {}
    for spec in workflow.invokes.values():
        out[done_event(spec.name)] = DONE_INVOKE + spec.name
        out[failed_event_name(spec.name)] = ERROR_INVOKE + spec.name
    return out


def export_problem(workflow: Workflow) -> str:
    """Why the workflow's calls cannot be written as valid SCXML (a located sentence), or ''.
    An invoke's id is an XML ID, unique in the document with the states' ids."""
    for spec in workflow.invokes.values():
        if spec.name in workflow.states or spec.name in workflow.compounds:
            return (
                f"{spec.location}: the invoke named '{spec.name}' has the name of a state: "
                "SCXML ids (a state's, an <invoke>'s) are unique in a document; rename it"
            )
    return ""


def _params(element: ET.Element, spec: EffectSpec) -> None:
    if spec.has_body and not spec.body:
        ET.SubElement(element, _s("content"), {"expr": "{}"})
    for name, expression in spec.body:
        ET.SubElement(element, _s("param"), {"name": name, "expr": expression.source})


def _invoke(element: ET.Element, spec: EffectSpec) -> None:
    """The state's `<invoke>`, after its linkflow JSON and entry and exit blocks."""
    invoke = ET.Element(_s("invoke"), {"id": spec.name, "type": CALL_TYPE, "src": spec.service})
    _params(invoke, spec)
    before = (_lf("state"), _s("onentry"), _s("onexit"))
    at = next((i for i, child in enumerate(element) if child.tag not in before), len(element))
    element.insert(at, invoke)


def add_effects(root: ET.Element, workflow: Workflow) -> None:
    """Write the workflow's invokes and notifies into the document `scxml_text` built (in
    place, before it is indented); a workflow that calls nothing is left as it is."""
    if not (workflow.invokes or workflow.notifies):
        return
    renamed = answer_events(workflow)
    for element in root.iter():
        if element.tag in (_s("state"), _s("parallel")):
            spec = workflow.invokes.get(element.get("id", ""))
            if spec is not None:
                _invoke(element, spec)
        elif element.tag == _s("transition"):
            event = element.get("event", "")
            if event in renamed:
                element.set("event", renamed[event])
            index = element.get(_lf("index"), "")
            for notify in workflow.notifies.get(int(index), ()) if index.isdigit() else ():
                attrs = {"event": NOTIFY_EVENT, "type": CALL_TYPE, "target": notify.service}
                _params(ET.SubElement(element, _s("send"), attrs), notify)


# -- reading ---------------------------------------------------------------------------------


def answer_event(event: str) -> str:
    """The linkflow event an SCXML invoke event stands for (`done.invoke.x` -> `x.done`,
    `error.invoke.x` -> `x.failed`); any other event as it is."""
    if event.startswith(DONE_INVOKE):
        return done_event(event.removeprefix(DONE_INVOKE))
    if event.startswith(ERROR_INVOKE):
        return failed_event_name(event.removeprefix(ERROR_INVOKE))
    return event


def invoked_by(event: str) -> str:
    """The invoke id an SCXML event answers for, or ''."""
    for prefix in (DONE_INVOKE, ERROR_INVOKE):
        if event.startswith(prefix):
            return event.removeprefix(prefix)
    return ""


class CallReader:
    """Reads `<invoke>` and a notify's `<send>`; each problem at its line and column through
    `problem(element, message)`."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem

    def _refused(self, element: Element, allowed: tuple[str, ...], what: str) -> bool:
        extra = sorted(k for k in element.attrs if k not in allowed and " " not in k)
        if extra:
            self.problem(
                element,
                f"{what}: the attribute {extra[0]} is not supported (linkflow reads "
                f"{', '.join(allowed)})",
            )
            return True
        kind = element.attrs.get("type", "scxml")
        if kind != CALL_TYPE:
            self.problem(
                element,
                f"{what} of type '{kind}' is not supported: linkflow calls a declared service, "
                f'written type="{CALL_TYPE}" with the service\'s name in '
                f"{'src' if element.name == 'invoke' else 'target'}",
            )
            return True
        return False

    def _with(self, element: Element, what: str) -> dict[str, Any] | None:
        """The call's `with:` from `<param>`s or `<content>`; None when it writes none, or
        when a problem was found ({} then, with the problem)."""
        body: dict[str, Any] | None = None
        for child in element.children:
            tag = (child.namespace, child.name)
            if tag == (SCXML, "param"):
                name = child.attrs.get("name", "")
                if not name or "expr" not in child.attrs or "location" in child.attrs:
                    self.problem(child, f"a <param> of {what} needs a name and an expr")
                    continue
                body = body if body is not None else {}
                if name in body:  # the JSON body has one value per field: which one was meant?
                    self.problem(child, f"a second <param> named '{name}' in {what}")
                    continue
                body[name] = child.attrs["expr"]
            elif tag == (SCXML, "content"):
                if (
                    child.attrs.get("expr", "").strip() != "{}"
                    or child.children
                    or child.text.strip()
                ):
                    self.problem(
                        child,
                        f'<content> of {what} is read only as an empty body (expr="{{}}"): '
                        "give each field as a <param name= expr=>",
                    )
                    continue
                body = body if body is not None else {}
            elif tag == (SCXML, "finalize"):
                self.problem(child, "<finalize> is not supported: the answer is an event")
            else:
                self.problem(child, f"<{child.name}> is not supported in {what}")
        return body

    def invoke(self, element: Element) -> dict[str, Any] | None:
        """A state's `invoke:` from its `<invoke>`, or None (with a problem)."""
        what = "<invoke>"
        if self._refused(element, ("id", "type", "src"), what):
            return None
        name, service = element.attrs.get("id", ""), element.attrs.get("src", "")
        if not _NAME.match(name):
            self.problem(element, f"{what} needs an id, the name of its answers (<id>.done)")
            return None
        if not _NAME.match(service):
            self.problem(element, f"{what}'s src '{service}' is not a service's name")
            return None
        body = self._with(element, what)
        out: dict[str, Any] = {"service": service, "as": name}
        if body is not None:
            out["with"] = body
        return out

    def state_invoke(self, element: Element, spec: dict[str, Any]) -> None:
        """A state's `<invoke>` into its `spec` (one per state)."""
        invoke = self.invoke(element)
        if invoke is not None and "invoke" in spec:
            self.problem(element, "a second <invoke> in one state (linkflow invokes one)")
        elif invoke is not None:
            spec["invoke"] = invoke

    def notify(self, element: Element) -> dict[str, Any] | None:
        """A transition's notify from its `<send>`, or None (with a problem)."""
        what = "<send>"
        if self._refused(element, ("event", "type", "target"), what):
            return None
        event = element.attrs.get("event", NOTIFY_EVENT)
        service = element.attrs.get("target", "")
        if event != NOTIFY_EVENT:
            self.problem(element, f"a notify's <send> sends the event {NOTIFY_EVENT}")
            return None
        if not _NAME.match(service):
            self.problem(element, f"{what}'s target '{service}' is not a service's name")
            return None
        body = self._with(element, what)
        out: dict[str, Any] = {"service": service}
        if body is not None:
            out["with"] = body
        return out


def invoke_names(states: dict[str, Any]) -> set[str]:
    """The `as` of every invoke among some states read (nested ones included)."""
    found: set[str] = set()
    for spec in states.values():
        if not isinstance(spec, dict):
            continue
        invoke = spec.get("invoke")
        if isinstance(invoke, dict) and isinstance(invoke.get("as"), str):
            found.add(invoke["as"])
        found |= invoke_names(spec.get("states") or {})
    return found


def unanswered(
    states: dict[str, Any], events: list[tuple[str, SourceLocation]]
) -> list[tuple[SourceLocation, str]]:
    """A problem for each `done.invoke.<id>` / `error.invoke.<id>` event whose id no
    `<invoke>` among the states read has."""
    invoked = invoke_names(states)
    out: list[tuple[SourceLocation, str]] = []
    for event, location in events:
        answers = invoked_by(event)
        if answers and answers not in invoked:
            out.append(
                (
                    location,
                    f"event '{event}' answers an invoke '{answers}', and no <invoke> has that id",
                )
            )
    return out
