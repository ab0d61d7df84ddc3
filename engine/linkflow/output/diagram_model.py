"""The diagram description the Graphviz and Mermaid renderers draw: roles, styles, parts.

Kept apart from the code that builds diagrams (linkflow.output.diagram) so the renderers, the
reader view and the overlays share one vocabulary without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from linkflow.language.model import Outcome

#: Node id of the start dot (state names are lowercase identifiers, so this cannot clash).
START = "__start__"
#: Cluster id of the box around every non-final state, used by transitions from `"*"`.
ANY_STEP = "any_step"


class Role(StrEnum):
    """What a node is; each role has one style."""

    START = "start"
    STATE = "state"
    WAITING = "waiting"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUSED = "refused"
    DECLINED = "declined"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    WORKFLOW = "workflow"
    ENTRY = "entry"
    #: Reader view: a state where another workflow takes over (not an ending of the flow).
    HANDOFF = "handoff"
    #: Reader view: a wait the person answers themselves, in a window the flow opened.
    WINDOW = "window"


class EdgeRole(StrEnum):
    START = "start"
    STEP = "step"
    TIMEOUT = "timeout"
    ANY = "any"
    HANDOFF = "handoff"
    #: Coverage overlay (`overlay_coverage`): a transition no scenario took.
    UNCOVERED = "uncovered"
    #: Coverage overlay: taken, but one of its guards was never seen refusing (or holding).
    GUARD_GAP = "guard_gap"
    #: Coverage overlay: taken, every guard outcome seen; drawn faded so the gaps stand out.
    COVERED = "covered"
    COVERED_TIMEOUT = "covered_timeout"
    COVERED_ANY = "covered_any"
    #: Reader view: a move the source does not describe (an assumption).
    ASSUMED = "assumed"


@dataclass(frozen=True, slots=True)
class NodeStyle:
    shape: str  # "box" or "point"
    fill: str
    border: str
    font: str = "#1f2933"
    dashed: bool = False
    double: bool = False
    bold: bool = False


@dataclass(frozen=True, slots=True)
class EdgeStyle:
    color: str
    font: str = "#333333"
    dashed: bool = False
    width: float = 1.0


NODE_STYLES: Mapping[Role, NodeStyle] = {
    Role.START: NodeStyle("point", "#1f2933", "#1f2933"),
    Role.STATE: NodeStyle("box", "#eef3fb", "#4a6fa5"),
    Role.WAITING: NodeStyle("box", "#fff8e1", "#b7791f", dashed=True),
    Role.COMPLETED: NodeStyle("box", "#e3f4e1", "#2e7d32", double=True),
    Role.CANCELLED: NodeStyle("box", "#eeeeee", "#757575", double=True),
    Role.REFUSED: NodeStyle("box", "#fde8e8", "#c62828", double=True),
    Role.DECLINED: NodeStyle("box", "#fce4ec", "#ad1457", double=True),
    Role.FAILED: NodeStyle("box", "#f3e5f5", "#6a1b9a", double=True),
    Role.TIMED_OUT: NodeStyle("box", "#fff3e0", "#e65100", double=True),
    Role.WORKFLOW: NodeStyle("box", "#eef3fb", "#4a6fa5"),
    Role.ENTRY: NodeStyle("box", "#e8eaf6", "#283593", bold=True),
    Role.HANDOFF: NodeStyle("box", "#ffffff", "#283593", bold=True),
    Role.WINDOW: NodeStyle("box", "#eef3fb", "#4a6fa5", dashed=True),
}

EDGE_STYLES: Mapping[EdgeRole, EdgeStyle] = {
    EdgeRole.START: EdgeStyle("#1f2933"),
    EdgeRole.STEP: EdgeStyle("#444444"),
    EdgeRole.TIMEOUT: EdgeStyle("#e65100", "#b34700", dashed=True),
    EdgeRole.ANY: EdgeStyle("#9e9e9e", "#757575", dashed=True, width=0.8),
    EdgeRole.HANDOFF: EdgeStyle("#2e7d32", "#1b5e20", width=1.6),
    EdgeRole.UNCOVERED: EdgeStyle("#c62828", "#b71c1c", dashed=True, width=2.2),
    EdgeRole.GUARD_GAP: EdgeStyle("#ef6c00", "#d84315", width=1.8),
    EdgeRole.COVERED: EdgeStyle("#a8a8a8", "#6e6e6e"),
    EdgeRole.COVERED_TIMEOUT: EdgeStyle("#f0b48a", "#a0704a", dashed=True),
    EdgeRole.COVERED_ANY: EdgeStyle("#c8c8c8", "#8e8e8e", dashed=True, width=0.8),
    EdgeRole.ASSUMED: EdgeStyle("#7b1fa2", "#6a1b9a", dashed=True, width=1.2),
}

#: How a traced (visited) node or edge is drawn over its usual style.
TRACE_COLOR = "#1565c0"
TRACE_WIDTH = 2.6

#: The role (and so the style) of a final state, by its outcome.
OUTCOME_ROLES = {
    Outcome.COMPLETED: Role.COMPLETED,
    Outcome.CANCELLED: Role.CANCELLED,
    Outcome.REFUSED: Role.REFUSED,
    Outcome.DECLINED: Role.DECLINED,
    Outcome.FAILED: Role.FAILED,
    Outcome.TIMED_OUT: Role.TIMED_OUT,
}


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    title: str
    role: Role
    #: Short secondary lines under the title (already wrapped).
    lines: tuple[str, ...] = ()
    tooltip: str = ""
    cluster: str = ""
    traced: bool = False


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    title: str
    role: EdgeRole
    lines: tuple[str, ...] = ()
    tooltip: str = ""
    #: When set, the edge leaves the border of this cluster (source is a node inside it).
    from_cluster: str = ""
    #: The position(s) of this edge in a traced path, 1-based; empty when not traced.
    order: tuple[int, ...] = ()
    #: The transition's position in the YAML list (-1 for timeouts, -2 for drawing-only edges).
    index: int = -2
    #: False for an edge drawn again from a further source of the same move: it is drawn, but
    #: does not push the states apart (Graphviz `constraint=false`).
    shapes_layout: bool = True

    @property
    def traced(self) -> bool:
        return bool(self.order)


@dataclass(frozen=True, slots=True)
class Cluster:
    id: str
    title: str
    tooltip: str = ""
    #: The cluster this one sits in; "" at the top.
    parent: str = ""


@dataclass(frozen=True, slots=True)
class LegendItem:
    """One entry of a diagram's legend: a node role or an edge kind, and what it means."""

    words: str
    role: Role | None = None
    edge: EdgeRole | None = None


class View(StrEnum):
    """Who a diagram is drawn for: people learning the flow, or engineers changing it."""

    READER = "reader"
    ENGINEER = "engineer"


@dataclass(frozen=True, slots=True)
class Diagram:
    name: str
    title: str
    tooltip: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    clusters: tuple[Cluster, ...] = ()
    #: "LR" (left to right) or "TB" (top to bottom).
    direction: str = "LR"
    traced: bool = field(default=False)
    view: View = View.ENGINEER
    legend: tuple[LegendItem, ...] = ()
    #: Short sentences under the title (what holds at any step, what is assumed).
    notes: tuple[str, ...] = ()
    #: The widest the rendered picture may be, in points (0: no limit); a wider layout is
    #: scaled down to it.
    max_width_pt: float = 0
