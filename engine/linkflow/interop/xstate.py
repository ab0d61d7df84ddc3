"""A workflow as an XState v5 machine config (JSON): `createMachine(config, implementations)`.

What maps to what (docs/interop.md has the table):
- the data fields -> `context`, each with its default.
- states -> `states`, the initial state -> `initial`, a final state -> `type: "final"` with
  `meta.linkflow.outcome`; a handoff -> `meta.linkflow.handoff` on that final state (the
  machine is done there; whoever runs it starts the named machine next, as linkflow does).
- an event -> an event type in `on`; transitions of one event from one state -> a list, tried
  in order, the first whose guard holds taken (linkflow's order).
- guards -> named guards: one guard is `"guard": "name"`; a negated guard or several are
  `{"type": "linkflow.all", "params": {"guards": ["a", "!b"]}}`, which holds when each named
  guard holds (`!` negates); the implementations are the caller's.
- actions -> named actions `{"type": "linkflow.set" | "linkflow.append" | "linkflow.add" |
  "linkflow.remove", "params": {...}}` with linkflow's path and expression text.
- a waiting state's timeout -> `after: {<milliseconds>: target}`.
- a transition back to its own state -> `reenter: true` (linkflow restarts a timeout there).
- a compound state -> `type: "compound"` with `initial` and its `states` (keyed by the short
  name); its transitions -> its own `on`, `*` -> the root's `on`; a `done.state.<path>`
  transition -> `onDone` on that compound state; a `final: done` child -> `type: "final"`;
  entry and exit actions -> `entry` / `exit`. Targets are then absolute (`#<workflow>.<path>`).
- a state's `invoke`, a transition's `notify`, a state's `compensate` -> XState's `invoke` with
  `onDone` / `onError`, a `linkflow.notify` action, `meta.linkflow.compensate`
  (xstate_effects.py).

The output is deterministic: keys in a fixed order, so a committed export diffs cleanly.
"""

from __future__ import annotations

import json
from typing import Any

from linkflow.interop.chart import Edge, Node, chart
from linkflow.interop.xstate_effects import add_effects
from linkflow.language.model import Action, Workflow

#: The named guard that holds when each guard of its `params.guards` holds.
ALL_GUARDS = "linkflow.all"


def _guard(edge: Edge) -> Any:
    if not edge.guards:
        return None
    if len(edge.guards) == 1 and not edge.guards[0].negated:
        return edge.guards[0].guard.name
    return {"type": ALL_GUARDS, "params": {"guards": [g.label for g in edge.guards]}}


def action_params(action: Action) -> dict[str, Any]:
    params: dict[str, Any] = {"path": action.target.text}
    if action.value is not None:
        params["value"] = action.value.source
    if action.each:
        params["each"] = True
    if action.for_item is not None and action.for_in is not None:
        params["for_each"] = {"item": action.for_item, "in": action.for_in.source}
    return params


def _action(action: Action) -> dict[str, Any]:
    return {"type": f"linkflow.{action.kind.value}", "params": action_params(action)}


def _transition(edge: Edge, machine: str = "") -> dict[str, Any]:
    """One transition; with `machine` (a workflow that nests) its target is absolute."""
    target = f"#{machine}.{edge.declared_target}" if machine else edge.target
    out: dict[str, Any] = {"target": target}
    guard = _guard(edge)
    if guard is not None:
        out["guard"] = guard
    if edge.actions:
        out["actions"] = [_action(a) for a in edge.actions]
    if edge.reenters:
        out["reenter"] = True
    if edge.description:
        out["description"] = edge.description
    return out


def milliseconds(seconds: float) -> int | float:
    ms = seconds * 1000
    return int(ms) if float(ms).is_integer() else ms


def _state(node: Node, machine: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if node.description:
        out["description"] = node.description
    if node.final is not None:
        out["type"] = "final"
        meta: dict[str, str] = {"outcome": node.final.value}
        if node.handoff:
            meta["handoff"] = node.handoff
        out["meta"] = {"linkflow": meta}
    if node.done:
        out["type"] = "final"
    if node.children:
        out["type"] = "parallel" if node.parallel else "compound"
        if not node.parallel:
            out["initial"] = node.initial
        out["states"] = {_key(child): _state(child, machine) for child in node.children}
    if node.entry:
        out["entry"] = [_action(a) for a in node.entry]
    if node.exit:
        out["exit"] = [_action(a) for a in node.exit]
    on = _on(node.edges, machine)
    if on:
        out["on"] = on
    if node.done_edges:
        out["onDone"] = [_transition(edge, machine) for edge in node.done_edges]
    if node.timeout_seconds is not None:
        to = f"#{machine}.{node.timeout_to}" if machine else node.timeout_to
        out["after"] = {str(milliseconds(node.timeout_seconds)): {"target": to}}
    return out


def _on(edges: tuple[Edge, ...], machine: str) -> dict[str, list[dict[str, Any]]]:
    on: dict[str, list[dict[str, Any]]] = {}
    for edge in edges:
        on.setdefault(edge.event, []).append(_transition(edge, machine))
    return on


def _key(node: Node) -> str:
    """A state's name in its parent's `states`: the last part of its path."""
    return node.id.rpartition(".")[2]


def xstate_config(workflow: Workflow) -> dict[str, Any]:
    """The machine config XState v5's `createMachine` takes, as plain JSON data."""
    root = chart(workflow)
    config: dict[str, Any] = {"id": root.id, "initial": root.initial}
    if root.description:
        config["description"] = root.description
    if workflow.data:
        config["context"] = json.loads(json.dumps(dict(workflow.data)))  # a copy, JSON only
    machine = workflow.name if workflow.compounds else ""
    config["states"] = {_key(child): _state(child, machine) for child in root.children}
    on = _on(root.edges, machine)
    if on:
        config["on"] = on
    add_effects(config, root, workflow)  # invoke, notify, compensate (xstate_effects.py)
    return config


def xstate_json(workflow: Workflow) -> str:
    return json.dumps(xstate_config(workflow), indent=2, ensure_ascii=False) + "\n"
