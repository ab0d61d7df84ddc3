"""Diagram descriptions as Mermaid flowcharts (text only; no Graphviz needed).

A flowchart rather than a stateDiagram: it has the shapes, classes, dashed and thick links and
edges leaving a subgraph that the description needs. Node ids are prefixed (`s_`, `w_`) so a
state called `end` or `graph` cannot clash with Mermaid keywords. Every text from a workflow is
written inside double quotes with Mermaid's entity codes (`#quot;`, `#lt;`, ...), so it reads as
text, never as markup; no `click` directive is written, so nothing becomes a link. Tooltips
need `click` in Mermaid, so the long texts live in the Graphviz SVG and the docs instead.
"""

from __future__ import annotations

import re

from linkflow.output.diagram_model import (
    EDGE_STYLES,
    NODE_STYLES,
    START,
    TRACE_COLOR,
    Diagram,
    Edge,
    EdgeRole,
    Node,
    Role,
    View,
)
from linkflow.output.diagram_text import wrap

#: Characters per line of a title in the reader view.
READER_WRAP = 20

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "|": "#124;",
    "`": "#96;",
    "\\": "#92;",
    # `%%{init: ...}%%` directives and other syntax in a label stay plain text.
    "%": "#37;",
    "{": "#123;",
    "}": "#125;",
    "'": "#39;",
}


def text(value: str) -> str:
    """Workflow text made inert inside a quoted Mermaid label."""
    flat = " ".join(_CONTROL.sub(" ", value).split())
    return "".join(_ENTITIES.get(char, char) for char in flat)


def _id(node_id: str, diagram: Diagram) -> str:
    if node_id == START:
        return "start__"
    # a nested state's path has dots, which Mermaid ids do not take: a dot becomes `-`, which
    # no state name holds
    return ("w_" if diagram.name == "overview" else "s_") + node_id.replace(".", "-")


def _titles(title: str, diagram: Diagram) -> list[str]:
    if diagram.view is View.READER:
        return [text(line) for line in wrap(title, READER_WRAP)] or [text(title)]
    return [text(title)]


def _node_label(node: Node, diagram: Diagram) -> str:
    parts = [f"<b>{'<br/>'.join(_titles(node.title, diagram))}</b>"]
    parts.extend(f"<small>{text(line)}</small>" for line in node.lines)
    return '"' + "<br/>".join(parts) + '"'


def _node(node: Node, diagram: Diagram) -> str:
    ident = _id(node.id, diagram)
    if node.role is Role.START:
        return f'{ident}((" ")):::start'
    label = _node_label(node, diagram)
    style = NODE_STYLES[node.role]
    shape = f"([{label}])" if style.double else f"({label})"
    classes = f":::{node.role.value}"
    return f"{ident}{shape}{classes}"


def _edge_label(edge: Edge, diagram: Diagram) -> str:
    title = "<br/>".join(_titles(edge.title, diagram)) if edge.title else ""
    numbers = ", ".join(str(n) for n in edge.order if n > 0)
    if numbers:
        title = f"{numbers}. {title}"
    parts = [f"<b>{title}</b>"] if title else []
    parts.extend(text(line) for line in edge.lines)
    return "<br/>".join(parts)


def _link(edge: Edge, diagram: Diagram) -> str:
    source = edge.from_cluster or _id(edge.source, diagram)
    target = _id(edge.target, diagram)
    style = EDGE_STYLES[edge.role]
    arrow = "==>" if edge.traced and diagram.traced else ("-.->" if style.dashed else "-->")
    label = _edge_label(edge, diagram)
    return f'{source} {arrow}|"{label}"| {target}' if label else f"{source} {arrow} {target}"


def _link_style(edge: Edge, diagram: Diagram) -> str:
    style = EDGE_STYLES[edge.role]
    color = style.color
    width = style.width
    if diagram.traced:
        color, width = (TRACE_COLOR, 2.6) if edge.traced else ("#b0b0b0", width)
    return f"stroke:{color},stroke-width:{width:g}px,color:{style.font}"


def _class_defs() -> list[str]:
    out = []
    for role, style in NODE_STYLES.items():
        parts = [f"fill:{style.fill}", f"stroke:{style.border}", f"color:{style.font}"]
        if style.dashed:
            parts.append("stroke-dasharray:5 3")
        if style.double or style.bold:
            parts.append("stroke-width:3px")
        out.append(f"classDef {role.value} {','.join(parts)}")
    out.append(f"classDef traced stroke:{TRACE_COLOR},stroke-width:3px")
    return out


def _body(diagram: Diagram, cluster: str, indent: str) -> list[str]:
    """The nodes and nested subgraphs inside `cluster` ("" for the top), in node order."""
    lines: list[str] = []
    done: set[str] = set()
    known = {c.id: c for c in diagram.clusters}
    children = {c.id: c for c in diagram.clusters if c.parent == cluster}
    for node in diagram.nodes:
        owner = node.cluster
        while owner and owner in known and known[owner].parent != cluster:
            owner = known[owner].parent
        if owner in children:
            if owner not in done:
                done.add(owner)
                child = children[owner]
                lines.append(f'{indent}subgraph {child.id}["{text(child.title)}"]')
                lines.extend(_body(diagram, child.id, indent + "  "))
                lines.append(f"{indent}end")
                lines.append(
                    f"{indent}style {child.id} fill:#fafafa,stroke:#bdbdbd,stroke-dasharray:4 3"
                )
        elif node.cluster == cluster or (cluster == "" and node.cluster not in known):
            lines.append(indent + _node(node, diagram))
    return lines


def _legend(diagram: Diagram) -> list[str]:
    """The reader view's notes and legend, as a box of sample nodes (Mermaid has no legend)."""
    if not diagram.legend and not diagram.notes:
        return []
    lines = ['subgraph legend["Legend"]', "  direction TB"]
    for number, note in enumerate(diagram.notes, 1):
        lines.append(f'  note_{number}["{text(note)}"]:::note')
    for number, item in enumerate(diagram.legend, 1):
        words = text(item.words)
        if item.role is not None:
            lines.append(f'  legend_{number}("{words}"):::{item.role.value}')
        elif item.edge is not None:
            lines.append(f'  legend_{number}["{words}"]:::{item.edge.value}')
        else:
            lines.append(f'  legend_{number}(["{words}"]):::note')
    lines.append("end")
    return lines


def to_mermaid(diagram: Diagram) -> str:
    """The diagram as a Mermaid flowchart."""
    lines = [
        # The name only: a title is free text, and a comment line needs none of it.
        f"%% {diagram.name}: generated by `linkflow render`; do not edit",
        f"flowchart {diagram.direction}",
    ]
    lines.extend("  " + line for line in _class_defs())
    if diagram.view is View.READER:
        lines.append("  classDef note fill:#ffffff,stroke:#9e9e9e,color:#1f2933")
        lines.extend(
            f"  classDef {role.value} fill:#ffffff,stroke:{EDGE_STYLES[role].color},"
            f"color:{EDGE_STYLES[role].font},stroke-dasharray:5 3"
            for role in (EdgeRole.ASSUMED, EdgeRole.TIMEOUT)
        )
        lines.extend("  " + line for line in _legend(diagram))
    lines.extend(_body(diagram, "", "  "))
    for edge in diagram.edges:
        lines.append("  " + _link(edge, diagram))
    for number, edge in enumerate(diagram.edges):
        lines.append(f"  linkStyle {number} {_link_style(edge, diagram)}")
    traced = [_id(n.id, diagram) for n in diagram.nodes if n.traced and n.role is not Role.START]
    if diagram.traced and traced:
        lines.append(f"  class {','.join(traced)} traced")
    return "\n".join(lines) + "\n"


__all__ = ["EdgeRole", "text", "to_mermaid"]
