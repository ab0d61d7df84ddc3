"""An exploration as plain text, Markdown or JSON, for `linkflow explore`.

The three say the same things in the same order (table, loops, contradictions, never-accepted
events, invariants, bounds); only the formatting differs.
"""

from __future__ import annotations

import re
from typing import Any

from linkflow.analysis.explore_results import Exploration
from linkflow.language.markdown import code, md

MODEL_NOTE = (
    "Guards are free booleans: fixed along a path until a transition writes what they read; "
    "guards that read the payload are fresh at every step."
)


def _table(exploration: Exploration) -> tuple[list[str], list[list[str]]]:
    guards = exploration.guards
    header = ["#", *guards, "outcome", "path"]
    body = [
        [
            str(n),
            *(row.outcome_of(g) for g in guards),
            row.ending.describe(),
            ", ".join(row.events) or "(none)",
        ]
        for n, row in enumerate(exploration.rows, 1)
    ]
    return header, body


def _sections(exploration: Exploration) -> list[tuple[str, list[str]]]:
    return [
        (
            "Loops (cycles reachable from the initial state)",
            [x.describe() for x in exploration.loops],
        ),
        (
            "States reachable only under contradictory guard outcomes",
            [x.describe() for x in exploration.contradictions],
        ),
        ("Events that can never be accepted", [x.describe() for x in exploration.dead_events]),
    ]


def report_text(exploration: Exploration, invariants: list[tuple[str, str, list[str]]]) -> str:
    """The exploration as plain text; `invariants` holds (name, rule, violation texts)."""
    wf = exploration.workflow
    lines = [f"{wf.title} ({wf.file}): explored from '{wf.initial}'", MODEL_NOTE, ""]
    header, body = _table(exploration)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines.append(f"Decision table ({len(body)} row{'s' if len(body) != 1 else ''})")
    for row in [header, *body]:
        cells = [c.rjust(widths[0]) if i == 0 else c.ljust(widths[i]) for i, c in enumerate(row)]
        lines.append("  " + "  ".join(cells).rstrip())
    for title, items in _sections(exploration):
        lines += ["", f"{title}: {len(items) or 'none'}"]
        lines += [f"  - {item}" for item in items]
    lines += ["", _invariant_summary(invariants)]
    for name, rule, texts in invariants:
        tag = f" [{rule}]" if rule else ""
        if not texts:
            lines.append(f"  - {name}{tag}: holds")
        for text in texts:
            lines += ["  - " + text.replace("\n", "\n    ")]
    lines += ["", "Bounds: none hit" if not exploration.bounds else "Bounds hit:"]
    lines += [f"  - {b}" for b in exploration.bounds]
    return "\n".join(lines)


def _invariant_summary(invariants: list[tuple[str, str, list[str]]]) -> str:
    broken = sum(1 for _, _, texts in invariants if texts)
    if not invariants:
        return "Invariants: none declared"
    return f"Invariants: {len(invariants) - broken} hold, {broken} broken"


def report_markdown(exploration: Exploration, invariants: list[tuple[str, str, list[str]]]) -> str:
    wf = exploration.workflow

    cell = md  # every text from the workflow, escaped like the docs pages escape it
    lines = [f"# {md(wf.title)}: exploration", "", f"{code(wf.file)}, from {code(wf.initial)}.", ""]
    lines += [MODEL_NOTE, "", "## Decision table", ""]
    header, body = _table(exploration)
    lines.append("| " + " | ".join(h if h == "#" else cell(h) for h in header) + " |")
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in body]
    for title, items in _sections(exploration):
        lines += ["", f"## {title}", ""]
        lines += [f"- {cell(item)}" for item in items] or ["None."]
    lines += ["", "## Invariants", "", _invariant_summary(invariants) + ".", ""]
    for name, rule, texts in invariants:
        tag = f" ({md(rule)})" if rule else ""
        if not texts:
            lines.append(f"- {code(name)}{tag}: holds")
        for text in texts:
            fence = "`" * max([3, *(len(run) + 1 for run in re.findall("`+", text))])
            lines += [f"- {code(name)}{tag}: broken", "", fence, text, fence, ""]
    lines += ["", "## Bounds", ""]
    lines += [f"- {md(b)}" for b in exploration.bounds] or ["None hit."]
    return "\n".join(lines)


def report_json(exploration: Exploration, invariants: list[dict[str, Any]]) -> dict[str, Any]:
    wf = exploration.workflow
    return {
        "workflow": wf.name,
        "file": wf.file,
        "model": MODEL_NOTE,
        "guards": exploration.guards,
        "rows": [r.as_dict() for r in exploration.rows],
        "loops": [
            {"entry": list(x.entry), "states": list(x.states), "events": list(x.events)}
            for x in exploration.loops
        ],
        "contradictions": [
            {"state": x.state, "path": list(x.path), "guards": list(x.guards)}
            for x in exploration.contradictions
        ],
        "never_accepted": [
            {"event": x.event, "reasons": list(x.reasons)} for x in exploration.dead_events
        ],
        "invariants": invariants,
        "bounds": exploration.bounds,
        "complete": exploration.complete and not exploration.bounds,
    }
