"""A workflow as a W3C SCXML 1.0 document (https://www.w3.org/TR/scxml/).

The machine is plain SCXML: `<state>`, `<final>`, `<transition event= cond= target=>`, the
workflow's data in `<datamodel>`, a timeout as a delayed `<send>` on entry cancelled on exit,
with the transition its event takes, a final state's outcome and handoff as its `<donedata>`,
a state's `invoke` as `<invoke type="http">` and a transition's `notify` as `<send
type="http">` (scxml_effects.py).

The datamodel is `linkflow`: a `cond` names the workflow's guards (`a && !b`: each must hold;
`!` negates), each declared by an `<lf:guard name= when=>` whose `when` is linkflow's
expression; `<assign location= expr=>` is linkflow's `set`; a `<data>`'s `expr` is the
field's default (JSON), and a field declared with a type keeps that declaration in
`lf:declared`. What SCXML has no element for (events' payloads and labels, guards' messages,
bindings, descriptions, the other actions) is kept in elements and attributes of linkflow's
namespace (`NAMESPACE`), which SCXML allows anywhere and other processors skip, holding the
workflow's own YAML keys as JSON, so that `linkflow import scxml` gives the same workflow back.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from linkflow.interop.chart import Edge, Node, chart, condition
from linkflow.interop.scxml_effects import add_effects
from linkflow.language.model import Workflow, active_leaves
from linkflow.language.yaml_loader import parse_text

SCXML = "http://www.w3.org/2005/07/scxml"
NAMESPACE = "https://linkflow.dev/ns/scxml"
#: The event a waiting state's timeout sends itself: `linkflow.timeout.<state>`.
TIMEOUT_EVENT = "linkflow.timeout."
#: Top-level keys the SCXML structure carries itself; every other one travels as JSON.
STRUCTURE_KEYS = ("workflow", "initial", "data", "states", "events", "guards", "transitions")
#: A transition's keys the SCXML structure carries.
TRANSITION_KEYS = ("event", "from", "to", "guards", "actions", "notify")


def _s(tag: str) -> str:
    return f"{{{SCXML}}}{tag}"


def _lf(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _extension(parent: ET.Element, tag: str, value: Any, **attrs: str) -> None:
    element = ET.SubElement(parent, _lf(tag), attrs)
    element.text = as_json(value)


def delay(seconds: float) -> str:
    """SCXML's duration (`\\d*(\\.\\d+)?(ms|s|m|h|d)`) for a number of seconds."""
    text = f"{seconds:f}".rstrip("0").rstrip(".")
    return f"{text}s"


def _is_plain_set(action: Any) -> bool:
    """`set: {path, value}` and nothing else: SCXML's own `<assign>` says it."""
    if not isinstance(action, dict) or list(action) != ["set"]:
        return False
    body = action["set"]
    return isinstance(body, dict) and sorted(body) == ["path", "value"]


def _actions(parent: ET.Element, raw_actions: Any) -> None:
    for action in raw_actions or ():
        if _is_plain_set(action):
            body = action["set"]
            ET.SubElement(
                parent, _s("assign"), {"location": str(body["path"]), "expr": str(body["value"])}
            )
        else:
            _extension(parent, "action", action)


def _transition(parent: ET.Element, edge: Edge, raw: Mapping[str, Any], first: bool) -> None:
    attrs = {"event": edge.event}
    cond = condition(edge.guards)
    if cond:
        attrs["cond"] = cond
    attrs["target"] = edge.declared_target or edge.target
    attrs[_lf("index")] = str(edge.index)
    element = ET.SubElement(parent, _s("transition"), attrs)
    extra = {k: v for k, v in raw.items() if k not in TRANSITION_KEYS}
    if raw.get("from") == "*":
        extra["from"] = "*"  # every non-final state, also those added later
    if first and extra:
        _extension(element, "transition", extra)
    _actions(element, raw.get("actions"))


def _state_extra(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A state's keys besides those SCXML says (final, handoff, the timeout's wait and target)."""
    extra = {
        k: v
        for k, v in raw.items()
        if k not in ("final", "handoff", "states", "initial", "entry", "exit", "parallel", "invoke")
    }
    waiting = extra.get("waiting")
    if isinstance(waiting, dict) and isinstance(waiting.get("timeout"), dict):
        timeout = {k: v for k, v in waiting["timeout"].items() if k not in ("seconds", "to")}
        extra["waiting"] = {**waiting, "timeout": timeout}
    return extra


def _raw_state(raw_states: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    """The YAML of the state at a dotted path, as written."""
    raw: Any = {"states": raw_states}
    for part in path.split("."):
        raw = ((raw or {}).get("states") or {}).get(part) or {}
    return raw if isinstance(raw, dict) else {}


def _entry_exit(element: ET.Element, node: Node, raw: Mapping[str, Any]) -> None:
    """A state's entry and exit actions, and the timer of its wait."""
    if node.timeout_seconds is not None or node.entry:
        entry = ET.SubElement(element, _s("onentry"))
        _actions(entry, raw.get("entry"))
        if node.timeout_seconds is not None:
            event = f"{TIMEOUT_EVENT}{node.id}"
            ET.SubElement(
                entry,
                _s("send"),
                {"event": event, "delay": delay(node.timeout_seconds), "id": event},
            )
    if node.timeout_seconds is not None or node.exit:
        leave = ET.SubElement(element, _s("onexit"))
        _actions(leave, raw.get("exit"))
        if node.timeout_seconds is not None:
            ET.SubElement(leave, _s("cancel"), {"sendid": f"{TIMEOUT_EVENT}{node.id}"})


def _state(
    parent: ET.Element,
    node: Node,
    raw_states: Mapping[str, Any],
    raw_transitions: list[Any],
    seen: set[int],
    inherited: tuple[Edge, ...] = (),
) -> None:
    raw = _raw_state(raw_states, node.id)
    if node.final is not None or node.done:
        element = ET.SubElement(parent, _s("final"), {"id": node.id})
        extra = _state_extra(raw)
        if extra:
            _extension(element, "state", extra)
        if node.final is None:
            return  # a compound state's done child: it raises done.state.<parent>
        done = ET.SubElement(element, _s("donedata"))
        ET.SubElement(done, _s("param"), {"name": "outcome", "expr": f"'{node.final.value}'"})
        if node.handoff:
            ET.SubElement(done, _s("param"), {"name": "handoff", "expr": f"'{node.handoff}'"})
        return
    element = ET.SubElement(parent, _s("parallel" if node.parallel else "state"), {"id": node.id})
    if node.children and not node.parallel:
        element.set("initial", f"{node.id}.{node.initial}")
    extra = _state_extra(raw)
    if extra:
        _extension(element, "state", extra)
    _entry_exit(element, node, raw)
    for edge in (*node.edges, *inherited, *node.done_edges):
        raw_transition = raw_transitions[edge.index] if edge.index < len(raw_transitions) else {}
        _transition(element, edge, raw_transition, edge.index not in seen)
        seen.add(edge.index)
    if node.timeout_seconds is not None:
        ET.SubElement(
            element,
            _s("transition"),
            {"event": f"{TIMEOUT_EVENT}{node.id}", "target": node.timeout_to},
        )
    for child in node.children:
        _state(element, child, raw_states, raw_transitions, seen)


def raw_document(workflow: Workflow) -> dict[str, Any]:
    """The workflow's YAML as written (from the text it was loaded from), or {}."""
    if not workflow.source:
        return {}
    doc, _ = parse_text(workflow.source, workflow.file)
    return doc.value if doc is not None and isinstance(doc.value, dict) else {}


def scxml_text(workflow: Workflow) -> str:
    """The SCXML document, deterministic (the same workflow gives the same bytes)."""
    ET.register_namespace("", SCXML)
    ET.register_namespace("lf", NAMESPACE)
    raw = raw_document(workflow)
    root_node = chart(workflow)
    root = ET.Element(
        _s("scxml"),
        {
            "version": "1.0",
            "name": workflow.name,
            # a parallel state's regions: their leaves, space-separated (SCXML's IDREFS)
            "initial": " ".join(active_leaves(workflow.initial)),
            "datamodel": "linkflow",
        },
    )
    extra = {k: v for k, v in raw.items() if k not in STRUCTURE_KEYS}
    if extra:
        _extension(root, "workflow", extra)
    for name, spec in (raw.get("events") or {}).items():
        _extension(root, "event", spec if spec is not None else {}, name=name)
    for name, guard in workflow.guards.items():
        spec = {k: v for k, v in ((raw.get("guards") or {}).get(name) or {}).items() if k != "when"}
        _extension(root, "guard", spec, name=name, when=guard.when.source)
    if workflow.data:
        model = ET.SubElement(root, _s("datamodel"))
        raw_data = raw.get("data") or {}
        for name, default in workflow.data.items():
            attrs = {"id": name, "expr": as_json(default)}
            declared = raw_data.get(name, default)
            if declared != default:  # the long form, {type: ..., default: ...}
                attrs[_lf("declared")] = as_json(declared)
            ET.SubElement(model, _s("data"), attrs)
    seen: set[int] = set()
    raw_states = raw.get("states") or {}
    raw_transitions = list(raw.get("transitions") or [])
    for child in root_node.children:
        # `*` in a workflow that nests: on every top-level state, tried after their own
        _state(root, child, raw_states, raw_transitions, seen, root_node.edges)
    add_effects(root, workflow)  # invoke and notify (scxml_effects.py)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
