"""The targets, and the results written as Markdown (`RESULTS.md`) and JSON (`results.json`)."""

from __future__ import annotations

import json
import math
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from benchmarks.figures import Figure
from benchmarks.hostile import slowest
from benchmarks.listing import worst_ratio
from benchmarks.postgres import postgres_targets
from benchmarks.profiling import Profile
from benchmarks.targets import Target
from benchmarks.world_load import projected

PACKAGES = (
    "linkflow",
    "transitions",
    "python-statemachine",
    "sismic",
    "common-expression-language",
    "PyYAML",
    "jsonschema",
    "networkx",
)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {  # the load average is the run's, not the machine's: results["load"]
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
    }


def libraries() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _ratio(figure: Figure | None, top: str, bottom: str, column: str) -> float:
    if figure is None:
        return math.nan
    return figure.median(top, column) / figure.median(bottom, column)


def evaluate_targets(figures: dict[str, Figure]) -> list[Target]:
    flow = figures.get("flow")
    create = figures.get("create")
    memory = figures.get("memory")
    guards = figures.get("guards")
    processes = figures.get("processes")
    refusal = figures.get("refusal")
    flow_col = flow.columns[0] if flow else ""
    targets = [
        Target(
            "flow_vs_transitions",
            "linkflow full flow ≤ 1.5x hand-written shared-Machine transitions",
            _ratio(flow, "linkflow", "transitions", flow_col),
            1.5,
            "x",
            "<=",
        ),
        Target(
            "flow_vs_python_statemachine",
            "linkflow full flow ≥ 8x faster than python-statemachine",
            _ratio(flow, "python-statemachine", "linkflow", flow_col),
            8.0,
            "x",
            ">=",
        ),
        Target(
            "flow_vs_sismic",
            "linkflow full flow ≥ 5x faster than sismic",
            _ratio(flow, "sismic", "linkflow", flow_col),
            5.0,
            "x",
            ">=",
        ),
        Target(
            "refusal_vs_transitions",
            "linkflow one refused event ≤ 3x hand-written shared-Machine transitions",
            _ratio(refusal, "linkflow", "transitions", refusal.columns[0] if refusal else ""),
            3.0,
            "x",
            "<=",
        ),
    ]
    if create is not None:
        small, large = create.columns
        targets.append(
            Target(
                "create_scaling",
                f"linkflow create {large} ≤ 1.2x {small}",
                _ratio_cols(create, "linkflow", large, small),
                1.2,
                "x",
                "<=",
            )
        )
    if memory is not None:
        targets.append(
            Target(
                "memory",
                f"linkflow memory ≤ 2 KB per live instance ({memory.columns[0]})",
                memory.median("linkflow", memory.columns[0]),
                2048.0,
                "bytes",
                "<=",
            )
        )
    if guards is not None:
        first, last = guards.columns[0], guards.columns[-1]
        targets.append(
            Target(
                "guard_scaling",
                f"linkflow guard cost with {last} ≤ 1.2x with {first}",
                _ratio_cols(guards, "linkflow", last, first),
                1.2,
                "x",
                "<=",
            )
        )
    hostile = figures.get("hostile")
    if hostile is not None:
        targets.append(
            Target(
                "hostile_event",
                "no single event on a hostile payload within the limits over 50 ms",
                slowest(hostile),
                50.0,
                "ms",
                "<=",
            )
        )
    if processes is not None:
        col = processes.columns[0]
        targets.append(
            Target(
                "help",
                "`linkflow --help` < 0.3 s",
                processes.median("linkflow --help", col),
                0.3,
                "s",
                "<",
            )
        )
        targets.append(
            Target(
                "validate",
                "`linkflow validate workflows/` < 0.5 s",
                processes.median("linkflow validate workflows/", col),
                0.5,
                "s",
                "<",
            )
        )
    mutate = figures.get("mutate")
    if mutate is not None:
        runs = [row for row in mutate.rows if row.startswith("mutate")]
        fastest = min(runs, key=lambda row: mutate.median(row, "wall time"))
        targets.append(
            Target(
                "mutate_domain",
                "`linkflow mutate` on the domain < 60 s",
                mutate.median(fastest, "wall time"),
                60.0,
                "s",
                "<",
                fastest,
            )
        )
    targets.extend(_store_targets(figures))
    world_load = figures.get("world_load")
    if world_load is not None:
        targets.append(
            Target(
                "world_load",
                "load a 100,000-record world file (JSON: read, every check, the World) < 2 s",
                projected(world_load),
                2.0,
                "s",
                "<",
            )
        )

    targets.extend(postgres_targets(figures))
    targets.extend(_service_targets(figures))
    return targets


def _store_targets(figures: dict[str, Figure]) -> list[Target]:
    store = figures.get("store")
    scaling = figures.get("store_scaling")
    stored = figures.get("store_bytes")
    targets = []
    if store is not None:
        event = next(r for r in store.rows if r.startswith("linkflow"))
        bare = next(r for r in store.rows if r.startswith("bare"))
        targets.append(
            Target(
                "durable_event",
                "one durable SQLite event (synchronous=FULL) ≤ 2x a bare commit of update + insert",
                store.median(event, store.columns[0]) / store.median(bare, store.columns[0]),
                2.0,
                "x",
                "<=",
            )
        )
        derived = store.derived.get(event, {})
        if "CPU / bare commit" in derived:
            targets.append(
                Target(
                    "durable_event_cpu",
                    "CPU per durable SQLite event ≤ 2x the bare commit's CPU",
                    derived["CPU / bare commit"],
                    2.0,
                    "x",
                    "<=",
                )
            )
        if "statements" in derived:
            targets.append(
                Target(
                    "durable_event_statements",
                    "statements per accepted SQLite event (BEGIN and COMMIT included) ≤ 5, and one "
                    "more per world record it writes (the counter's `flip` writes one: ≤ 6)",
                    derived["statements"],
                    6.0,
                    "statements",
                    "<=",
                )
            )
    timers = figures.get("store_timers")
    if timers is not None:
        column = timers.columns[0]
        targets.append(
            Target(
                "store_timers",
                f"firing {column} (SQLite, synchronous=FULL) < 10 s, measured",
                timers.median(next(iter(timers.rows)), column),
                10.0,
                "s",
                "<",
            )
        )
    effects = figures.get("effects_worker")
    if effects is not None:
        worker_row = next(r for r in effects.rows if r.startswith("worker"))
        bare_row = next(r for r in effects.rows if r.startswith("bare"))
        bare_rate = effects.derived[bare_row]["calls/s"]
        targets.append(
            Target(
                "effects_worker",
                "one effects worker performs ≥ 500 calls/s against the local fake API at "
                "concurrency 32",
                effects.derived[worker_row]["calls/s"],
                500.0,
                "calls/s",
                ">=",
                f"a bare httpx loop at the same concurrency in the same run: {bare_rate:.0f} "
                "calls/s",
            )
        )
    flow = figures.get("durable_flow")
    if flow is not None:
        column = flow.columns[0]
        ours = next(r for r in flow.rows if r.startswith("linkflow"))
        theirs = next(r for r in flow.rows if r.startswith("django"))
        targets.append(
            Target(
                "durable_vs_django",
                "durable five-event flow on SQLite (synchronous=FULL): linkflow's events/s "
                "≥ 2x django-fsm-2's",
                flow.median(theirs, column) / flow.median(ours, column),
                2.0,
                "x",
                ">=",
            )
        )
    if scaling is not None:
        small, large = scaling.columns
        for row in ("start", "send"):
            targets.append(
                Target(
                    f"store_{row}_scaling",
                    f"durable {row} with {large} ≤ 1.2x with {small}",
                    _ratio_cols(scaling, row, large, small),
                    1.2,
                    "x",
                    "<=",
                )
            )
    listing = figures.get("listing")
    if listing is not None:
        small, large = listing.columns
        targets.append(
            Target(
                "listing_scaling",
                f"first listing page with {large} ≤ 1.2x with {small}, each filter (the worst)",
                worst_ratio(listing),
                1.2,
                "x",
                "<=",
            )
        )
    if stored is not None:
        targets.append(
            Target(
                "store_bytes",
                "≤ 2 KB stored per finished link_login instance (plus its history)",
                stored.median("instance row", stored.columns[0]),
                2048.0,
                "bytes",
                "<=",
            )
        )
    return targets


def _service_targets(figures: dict[str, Figure]) -> list[Target]:
    return _service_group_commit(figures) + _service_cost(figures)


def _service_cost(figures: dict[str, Figure]) -> list[Target]:
    cost = figures.get("service_cost")
    if cost is None:
        return []
    one = cost.derived.get("linkflow serve, 1 client", {})
    eight = cost.derived.get("linkflow serve, 8 clients", {})
    loop = one.get("event loop / bare app", math.nan)
    loads = [v for cells in cost.rows.values() for stat in cells.values() for v in stat.load]
    where = (
        f"event loop (HTTP path) {loop:.2f}x the bare app's; the rest is the store's work in "
        "worker threads (see the figure's threads column)"
    )
    return [
        Target(
            "service_cpu_vs_bare",
            "service: server CPU per event ≤ 1.5x a bare Starlette + uvicorn app doing the bare "
            "commit, 1 client (SQLite synchronous=FULL)",
            one.get("CPU / bare app", math.nan),
            1.5,
            "x",
            "<=",
            where if not loads else f"{where}; load up to {max(loads):.1f}",
        ),
        Target(
            "service_vs_bare_8_clients",
            "service: events/s at 8 HTTP clients ≥ 2x the bare Starlette app's at 8 clients "
            "(SQLite synchronous=FULL)",
            eight.get("events/s / bare app", math.nan),
            2.0,
            "x",
            ">=",
        ),
    ]


def _service_group_commit(figures: dict[str, Figure]) -> list[Target]:
    service = figures.get("service")
    if service is None:
        return []
    eight = next((r for r in service.rows if r.startswith("SQLite") and "8 clients" in r), "")
    two = "PostgreSQL, 2 service processes, 8 clients"
    return [
        Target(
            "service_two_processes",
            "service: 2 service processes ≥ 1.6x the events/s of one at 8 HTTP clients "
            "(PostgreSQL, fsync on; the two setups measured interleaved)",
            service.derived.get(two, {}).get("/ 1 process", math.nan),
            1.6,
            "x",
            ">=",
            "on a 2-core machine the load generator and both servers share the cores",
        ),
        Target(
            "service_group_commit",
            "service: 8 HTTP clients ≥ 4x the events/s of one client (SQLite synchronous=FULL)",
            service.derived.get(eight, {}).get("/ 1 client", math.nan),
            4.0,
            "x",
            ">=",
        ),
    ]


def _ratio_cols(figure: Figure, row: str, top: str, bottom: str) -> float:
    return figure.median(row, top) / figure.median(row, bottom)


# -- output ---------------------------------------------------------------------------------------


def _num(value: float, unit: str) -> str:
    if math.isnan(value):
        return "-"
    if unit == "bytes":
        return f"{value:,.0f}"
    if unit == "s":
        return f"{value:.3f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cell(figure: Figure, row: str, column: str) -> str:
    stat = figure.rows.get(row, {}).get(column)
    if stat is None or not stat.values:
        return "-"
    text = f"**{_num(stat.median, figure.unit)}** ({_num(stat.low, figure.unit)}-"
    text += f"{_num(stat.high, figure.unit)})"
    if stat.cpu:
        text += f"; CPU **{_num(stat.cpu_median, figure.unit)}**"
    if stat.loaded:
        text += " ⚠"
    if stat.note and figure.key != "processes":
        text += " †"
    return text


def amount(value: float, unit: str) -> str:
    """A measured value in its unit: ratios, seconds, milliseconds or bytes."""
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "statements":
        return f"{value:.0f} statements"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:,.1f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "bytes":
        return f"{value:,.0f} B"
    return f"{value:,.0f} {unit}"  # a rate such as calls/s


def limit_text(value: float, unit: str, compare: str) -> str:
    """A target's limit with its comparison sign (≤ 1.5x, < 10 s, ≤ 2,048 B)."""
    sign = {"<=": "≤", ">=": "≥", "<": "<"}[compare]
    if unit == "statements":
        return f"{sign} {value:.0f} statements"
    if unit in ("x", "s", "ms"):
        return f"{sign} {value:g}{'' if unit == 'x' else ' '}{unit}"
    if unit == "bytes":
        return f"{sign} {value:,.0f} B"
    return f"{sign} {value:,.0f} {unit}"


def _measured(target: Target) -> str:
    if math.isnan(target.measured):
        return "-"
    return amount(target.measured, target.unit)


def _limit(target: Target) -> str:
    return limit_text(target.limit, target.unit, target.compare)


def render_markdown(
    results: dict[str, Any],
    figures: dict[str, Figure],
    targets: list[Target],
    profiles: list[Profile],
    labels: dict[str, str],
) -> str:
    lines: list[str] = []
    add = lines.append
    mode = "quick (tiny sizes: numbers are not meaningful)" if results["quick"] else "full"
    add("# linkflow benchmarks")
    add("")
    add(
        f"Written by `python -m benchmarks` on {results['date']} — mode: {mode}; "
        f"the run took {results['elapsed_s']:.0f} s. Cells show the **median** and the "
        "(min-max) over the repeats; implementations are measured round-robin within each "
        "repeat. Lower is better everywhere. † = see the figure's notes."
    )
    add("")
    add("## Machine")
    add("")
    m = results["machine"]
    add("| cpu | cores (usable) | python | platform |")
    add("|---|---|---|---|")
    add(f"| {m['cpu']} | {m['cores']} ({m['usable_cores']}) | {m['python']} | {m['platform']} |")
    load = results.get("load")
    if load:
        add("")
        add(
            f"1-minute load average: {load['start']:.2f} when the run began, {load['end']:.2f} "
            "when it ended. A durable figure taken above 1.0 is marked ⚠ and shows CPU time "
            "beside wall time: compare CPU when the machine was busy."
        )
    add("")
    add("## Libraries")
    add("")
    add("| package | version |")
    add("|---|---|")
    for name, ver in results["libraries"].items():
        add(f"| {name} | {ver} |")
    add("")
    add(f"linkflow workflow: `{results['workflow_file']}`.")
    add("")
    add("## Targets")
    add("")
    add("| target | measured | limit | result |")
    add("|---|---|---|---|")
    for t in targets:
        add(f"| {t.text} | {_measured(t)} | {_limit(t)} | **{t.verdict}** |")
    add("")
    add("## Figures")
    for figure in figures.values():
        lines.extend(_figure_lines(figure, labels))
    if profiles:
        add("")
        add("## Profiles of the missed targets")
        for profile in profiles:
            lines.extend(_profile_lines(profile))
    if results["notes"]:
        add("")
        add("## Notes")
        add("")
        for note in results["notes"]:
            add(f"- {note}")
    add("")
    return "\n".join(lines)


def _figure_lines(figure: Figure, labels: dict[str, str]) -> list[str]:
    """One figure's section of RESULTS.md: its table, then its notes."""
    lines = ["", f"### {figure.title} ({figure.unit})", ""]
    add = lines.append
    header = ["", *figure.columns, *figure.derived_columns]
    add("| " + " | ".join(header) + " |")
    add("|" + "---|" * len(header))
    for row in figure.rows:
        cells = [_cell(figure, row, c) for c in figure.columns]
        derived = [_derived(figure.derived.get(row, {}), c) for c in figure.derived_columns]
        label = labels.get(row, row)
        add("| " + " | ".join([label, *cells, *derived]) + " |")
    if figure.key == "processes":
        add("")
        for row, row_cells in figure.rows.items():
            for stat in row_cells.values():
                if stat.note:
                    add(f"- `{row}`: {stat.note}")
    if figure.notes:
        add("")
        for note in figure.notes:
            add(f"- {note}")
    return lines


def _profile_lines(profile: Profile) -> list[str]:
    """One missed target's profile in RESULTS.md: where the time or memory went."""
    lines = ["", f"### {profile.title}", ""]
    add = lines.append
    add(f"Total: {_num(profile.total, '')} {profile.unit}.")
    add("")
    add("| where | own share | cumulative share | calls / allocations |")
    add("|---|---|---|---|")
    for where, own, cum, count in profile.lines:
        add(f"| `{where}` | {own:.1%} | {cum:.1%} | {count:,} |")
    for note in profile.notes:
        add("")
        add(f"- {note}")
    return lines


def write_results(
    out_dir: Path,
    results: dict[str, Any],
    figures: dict[str, Figure],
    targets: list[Target],
    profiles: list[Profile],
    labels: dict[str, str],
) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = dict(results)
    payload["implementations"] = labels
    payload["figures"] = {key: figure.as_dict() for key, figure in figures.items()}
    payload["targets"] = {t.key: t.as_dict() for t in targets}
    payload["profiles"] = [p.as_dict() for p in profiles]
    json_path = out_dir / "results.json"
    json_path.write_text(json.dumps(_clean(payload), indent=2, allow_nan=False) + "\n")
    md_path = out_dir / "RESULTS.md"
    md_path.write_text(render_markdown(results, figures, targets, profiles, labels))
    return md_path, json_path


def _derived(values: dict[str, float], column: str) -> str:
    """A derived cell: a rate or a time names its unit ("mutants/s", "events/s", "CPU s",
    "projected s for ..."), anything else ("/ bare commit") is a ratio; a row without the
    value (an anchor) shows a dash."""
    if column not in values or math.isnan(values[column]):
        return "—"
    if column == "statements":
        return f"{values[column]:.0f}"
    if column.endswith("/s"):
        return f"{values[column]:,.0f}"
    if column.endswith(" s") or column.startswith("projected s"):
        return f"{values[column]:,.2f} s"
    return f"{values[column]:.2f}x"


def _clean(value: Any) -> Any:
    """JSON-ready: NaN and infinities become null (strict JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
