"""A workflow's calls (effects) in its XState v5 machine config, added to what `xstate.py` wrote.

- a state's `invoke: {service, as, with}` -> the state's `invoke: {id: <as>, src: <service>,
  input: {<field>: "<CEL text>"}}`: XState starts the actor named `src` when the state is
  entered and stops it when the state is left (linkflow's "a late answer is ignored").
- the workflow's `<as>.done` / `<as>.failed` transitions -> XState v5's own events for that
  actor, `xstate.done.actor.<as>` / `xstate.error.actor.<as>`: on the invoking state itself as
  its `onDone` / `onError`, anywhere else (a parent, the root) under those event types in `on`.
  The answer's payload is the done event's `output` / the error event's `error` there.
- a transition's `notify: [{service, with}]` -> a named action `{type: "linkflow.notify",
  params: {service, with}}` after the transition's other actions.
- a state's `compensate: {service, with}` -> `meta.linkflow.compensate` on that state (XState
  has nothing that runs when an invoke that succeeded is undone: the caller's concern).
- the machine's `meta.linkflow`: `actors` (the invoked services, the `src` names a caller
  provides with `machine.provide({actors: {...}})`), `notify` and `compensate` (the services
  named by those).

`with:` travels as linkflow's CEL text, never translated: `input` and `params.with` hold
strings such as `"data.sku"`, for the caller's implementation to evaluate (or ignore). Nothing
of the services file is written (no URL, header, authentication or retry policy): only the
services' names, so no secret or reference to one is in the export.
"""

from __future__ import annotations

from typing import Any

from linkflow.interop.chart import Edge, Node
from linkflow.language.effect_specs import EffectSpec, done_event, failed_event_name
from linkflow.language.model import Workflow

#: The named action a transition's `notify` becomes.
NOTIFY_ACTION = "linkflow.notify"
#: The event types XState v5 raises for an invoked actor's result.
DONE_ACTOR = "xstate.done.actor."
ERROR_ACTOR = "xstate.error.actor."


def calls_anything(workflow: Workflow) -> bool:
    return bool(workflow.invokes or workflow.notifies or workflow.compensations)


def body(spec: EffectSpec) -> dict[str, str]:
    """The `with:` of a call: each field's CEL text, in the order written."""
    return {field: expression.source for field, expression in spec.body}


def call(spec: EffectSpec) -> dict[str, Any]:
    """`{service, with}` as the workflow writes it (`with` only when it writes one)."""
    out: dict[str, Any] = {"service": spec.service}
    if spec.has_body:
        out["with"] = body(spec)
    return out


def actor_events(workflow: Workflow) -> dict[str, str]:
    """linkflow's answer events by the XState event types that stand for them."""
    out: dict[str, str] = {}
    for spec in workflow.invokes.values():
        out[done_event(spec.name)] = DONE_ACTOR + spec.name
        out[failed_event_name(spec.name)] = ERROR_ACTOR + spec.name
    return out


def _notify_actions(
    transitions: list[dict[str, Any]], edges: list[Edge], workflow: Workflow
) -> None:
    """Append each edge's `notify` to the XState transition written for it (same order)."""
    for written, edge in zip(transitions, edges, strict=True):
        notifies = workflow.notifies.get(edge.index, ())
        if notifies:
            actions = written.setdefault("actions", [])
            actions.extend({"type": NOTIFY_ACTION, "params": call(spec)} for spec in notifies)


def _on(config: dict[str, Any], edges: tuple[Edge, ...], workflow: Workflow) -> None:
    """Notify actions on `config["on"]`, and the answer events renamed to XState's."""
    on: dict[str, list[dict[str, Any]]] = config.get("on") or {}
    by_event: dict[str, list[Edge]] = {}
    for edge in edges:
        by_event.setdefault(edge.event, []).append(edge)
    for event, listed in by_event.items():
        if event in on:
            _notify_actions(on[event], listed, workflow)
    renamed = actor_events(workflow)
    if any(event in renamed for event in on):
        config["on"] = {renamed.get(event, event): written for event, written in on.items()}


def _state(config: dict[str, Any], node: Node, workflow: Workflow) -> None:
    _on(config, node.edges, workflow)
    if node.done_edges and "onDone" in config:
        _notify_actions(config["onDone"], list(node.done_edges), workflow)
    spec = workflow.invokes.get(node.id)
    if spec is not None:
        invoke: dict[str, Any] = {"id": spec.name, "src": spec.service}
        if spec.has_body:
            invoke["input"] = body(spec)
        on: dict[str, Any] = config.get("on") or {}
        done = on.pop(DONE_ACTOR + spec.name, None)
        error = on.pop(ERROR_ACTOR + spec.name, None)
        if done:
            invoke["onDone"] = done
        if error:
            invoke["onError"] = error
        if "on" in config and not on:
            del config["on"]
        config["invoke"] = invoke
    compensate = workflow.compensations.get(node.id)
    if compensate is not None:
        meta = config.setdefault("meta", {}).setdefault("linkflow", {})
        meta["compensate"] = call(compensate)
    states: dict[str, Any] = config.get("states") or {}
    for child in node.children:
        _state(states[child.id.rpartition(".")[2]], child, workflow)


def add_effects(config: dict[str, Any], root: Node, workflow: Workflow) -> None:
    """Write the workflow's calls into the config `xstate_config` made from `root` (in place).
    A workflow that calls nothing is left as it is."""
    if not calls_anything(workflow):
        return
    _on(config, root.edges, workflow)
    states: dict[str, Any] = config["states"]
    for child in root.children:
        _state(states[child.id.rpartition(".")[2]], child, workflow)
    meta: dict[str, Any] = {"actors": sorted({s.service for s in workflow.invokes.values()})}
    notified = {s.service for specs in workflow.notifies.values() for s in specs}
    if notified:
        meta["notify"] = sorted(notified)
    if workflow.compensations:
        meta["compensate"] = sorted({s.service for s in workflow.compensations.values()})
    config["meta"] = {"linkflow": meta}
