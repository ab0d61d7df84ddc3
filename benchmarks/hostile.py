"""The hostile-payload cost bound: the slowest single event over payloads built to be as
expensive as the limits allow (default payload sizes, expression bounds), plus payloads past
them that must be refused cheaply. Target: no single event over 50 ms."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.figures import Config, Figure
from benchmarks.timing import interleaved
from linkflow.language.expressions import MAX_OPERATIONS
from linkflow.language.loader import load_workflow
from linkflow.language.schema import DEFAULT_LIMITS
from linkflow.runtime.compiled import MAX_PAYLOAD_BYTES, MAX_PAYLOAD_VALUES
from linkflow.runtime.engine import Engine

COLUMN = "slowest event"
ITEMS = DEFAULT_LIMITS["maxItems"]
CHARS = DEFAULT_LIMITS["maxLength"]
LONG = "x" * (CHARS - 1) + "y"
#: As many long strings as fit the payload's size limit next to a short list.
FITTING = (MAX_PAYLOAD_BYTES - 4 * 1024) // (CHARS + 3)
LONG_LIST = [f"{k:04d}" + "x" * (CHARS - 4) for k in range(FITTING)]
SHORT_LIST = [f"{k:04d}" for k in range(ITEMS)]
_TERMS = MAX_OPERATIONS // 2 - 1  # each term is `.` and `+`

#: name -> (guard expression, payload). Every payload is within the limits unless the name
#: says it is refused.
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    f"all x in list ({ITEMS} short x {FITTING} long strings)": (
        "payload.a.all(x, !(x in payload.b))",
        {"a": SHORT_LIST, "b": LONG_LIST},
    ),
    f"exists_one with startsWith over {FITTING} long strings": (
        "payload.a.exists_one(x, x.startsWith(payload.s) || x.endsWith(payload.s))",
        {"a": LONG_LIST, "s": LONG},
    ),
    f"{_TERMS} concatenations of a 1,000-character string": (
        " + ".join(["payload.s"] * _TERMS) + " != ''",
        {"s": LONG},
    ),
    "regex from the payload against a long string": (
        "payload.s.matches(payload.p)",
        {"s": "a" * (CHARS - 1) + "!", "p": "(a*)*b" + "|(a+)+$" * 100},
    ),
    f"{MAX_PAYLOAD_VALUES - 50:,} values in a schema-open payload": (
        "size(payload) > 0",
        {f"f{k}": [k] * 18 for k in range((MAX_PAYLOAD_VALUES - 50) // 19)},
    ),
    "refused: 10 MB string": ("true", {"s": "x" * 10_000_000}),
    "refused: 100,000-item list": ("true", {"a": list(range(100_000))}),
}


def _engine(when: str, folder: Path) -> Engine:
    workflow = {
        "workflow": "hostile",
        "initial": "start",
        "states": {"start": {}, "end": {"final": "completed"}},
        "events": {"go": {"payload": {"type": "object"}}},
        "guards": {"costly": {"when": when, "message": "no"}},
        "transitions": [{"event": "go", "from": "start", "to": "end", "guards": ["costly"]}],
    }
    path = folder / "hostile.yaml"
    path.write_text(json.dumps(workflow), encoding="utf-8")
    return Engine(load_workflow(path))


def slowest_event_ms(engine: Engine, payload: dict[str, Any], sends: int) -> float:
    """The slowest of `sends` single events, each on a fresh instance, in milliseconds."""
    slowest = 0.0
    for _ in range(sends):
        instance = engine.create()
        start = time.perf_counter()
        instance.send("go", payload)
        slowest = max(slowest, time.perf_counter() - start)
    return slowest * 1e3


def figure_hostile(cfg: Config) -> Figure:
    fig = Figure("hostile", "Hostile payloads: the slowest single event", "ms", [COLUMN])
    fig.notes.append(
        "Each row sends a payload built to cost as much as the limits allow (payload values get "
        f"at most {ITEMS} items and {CHARS:,} characters unless their schema says otherwise; "
        "expressions are bounded at load) to a guard written to be expensive. A value is the "
        "slowest of several single events in one repeat. Rows marked refused are past the "
        "limits and must be turned away cheaply."
    )
    sends = 3 if cfg.repeats <= 2 else 10
    with tempfile.TemporaryDirectory(prefix="linkflow-hostile-") as work:
        subjects = {}
        for name, (when, payload) in CASES.items():
            engine = _engine(when, Path(work))
            subjects[name] = lambda e=engine, p=payload: slowest_event_ms(e, p, sends)
        for name, stat in interleaved(subjects, cfg.repeats, "ms").items():
            fig.rows[name] = {COLUMN: stat}
    return fig


def slowest(fig: Figure) -> float:
    """The slowest event of the whole figure, in milliseconds."""
    return max(stat.high for cells in fig.rows.values() for stat in cells.values())
