"""The figures: what is measured, on which sizes, and how each value is obtained.

Every figure is a table of rows (an implementation, or a reference) by columns (a size), each
cell a `Stat` over the repeats. Implementations are measured round-robin within each repeat.
"""

from __future__ import annotations

import gc
import math
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import domain
from benchmarks.impls import Implementation
from benchmarks.timing import Stat, calibrate, create_us, interleaved, per_item_us

#: Implementations whose instance is one heavy object graph; their live populations are capped
#: unless --full, so the whole run stays within a few minutes (the cap is printed with the value).
NICE_SIZES = (100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 20)


@dataclass(frozen=True)
class Config:
    """Sizes and budgets of one run."""

    quick: bool = False
    repeats: int = 5
    small_live: int = 1_000
    large_live: int = 100_000
    marginal: int = 1_000
    memory_live: int = 100_000
    memory_repeats: int = 3
    world_sizes: tuple[int, ...] = (10, 1_000, 100_000)
    #: The world the flow figures run against.
    flow_world: int = 1_000
    batch_target_s: float = 0.1
    #: Untimed setup (instances to create first) one timed batch may need, in seconds.
    setup_budget_s: float = 0.25
    max_batch: int = 20_000
    #: Seconds one population build may take before the population is capped (0: never cap).
    population_budget_s: float = 3.0
    process_repeats: int = 5
    generated_states: int = 1_000
    generated_transitions: int = 5_000
    profile: bool = True
    workflow_file: Path | None = None
    event_names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def quick_config(cls, **overrides: Any) -> Config:
        base: dict[str, Any] = {
            "quick": True,
            "repeats": 2,
            "small_live": 20,
            "large_live": 200,
            "marginal": 20,
            "memory_live": 200,
            "memory_repeats": 1,
            "world_sizes": (10, 100, 1_000),
            "flow_world": 100,
            "batch_target_s": 0.002,
            "setup_budget_s": 0.01,
            "max_batch": 50,
            "population_budget_s": 0.5,
            "process_repeats": 1,
            "generated_states": 30,
            "generated_transitions": 120,
        }
        base.update(overrides)
        return cls(**base)


@dataclass
class Figure:
    """One table of results."""

    key: str
    title: str
    unit: str
    columns: list[str]
    rows: dict[str, dict[str, Stat]] = field(default_factory=dict)
    #: Extra computed columns (such as ratios), by row then column.
    derived: dict[str, dict[str, float]] = field(default_factory=dict)
    derived_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def median(self, row: str, column: str) -> float:
        stat = self.rows.get(row, {}).get(column)
        return stat.median if stat is not None else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "unit": self.unit,
            "columns": self.columns,
            "rows": {
                row: {col: stat.as_dict() for col, stat in cells.items()}
                for row, cells in self.rows.items()
            },
            "derived": self.derived,
            "notes": self.notes,
        }


def live_count(per_op_us: float, wanted: int, budget_s: float) -> int:
    """`wanted`, or the largest nice size whose build fits the budget (at least 1,000)."""
    if budget_s <= 0 or per_op_us * wanted / 1e6 <= budget_s:
        return wanted
    fitting = int(budget_s * 1e6 / max(per_op_us, 0.01))
    for size in NICE_SIZES:
        if size <= fitting and size <= wanted:
            return max(size, min(wanted, 1_000))
    return min(wanted, 1_000)


def _probe_create(impl: Implementation, count: int = 50) -> float:
    keep: list[Any] = []
    return create_us(impl.create, count, keep)


def _marginal_create(impl: Implementation, live: list[Any], count: int) -> float:
    """Create `count` more onto the live population, timed; then drop them again."""
    mark = len(live)
    value = create_us(impl.create, count, live)
    del live[mark:]
    return value


def _fmt(n: int) -> str:
    return f"{n:,}"


# -- create ---------------------------------------------------------------------------------------


def figure_create(impls: list[Implementation], cfg: Config) -> Figure:
    small, large = cfg.small_live, cfg.large_live
    col_small, col_large = f"at {_fmt(small)} live", f"at {_fmt(large)} live"
    fig = Figure(
        "create",
        "Create one instance, with N instances already alive",
        "µs",
        [col_small, col_large],
        derived_columns=["large / small"],
    )
    fig.notes.append(
        f"Marginal cost: {_fmt(cfg.marginal)} more instances are created onto a live population "
        "of N (kept in a list) and timed; they are dropped again after each repeat. The "
        "populations are gc.freeze()d and a full collection runs before each batch, so one "
        "library's garbage cannot trigger a collection inside another's timing."
    )
    probes = {impl.key: _probe_create(impl) for impl in impls}
    for column, wanted in ((col_small, small), (col_large, large)):
        populations: dict[str, list[Any]] = {}
        for impl in impls:
            size = live_count(probes[impl.key], wanted, cfg.population_budget_s)
            populations[impl.key] = [impl.create() for _ in range(size)]
        # The populations stay alive but out of the cyclic GC's way: each timed batch then shows
        # the library's own cost at that size, not CPython's passes over a bigger heap (which
        # the 25% rule amortizes to a constant per allocation anyway).
        gc.collect()
        gc.freeze()

        stats = interleaved(
            {i.key: partial(_marginal_create, i, populations[i.key], cfg.marginal) for i in impls},
            cfg.repeats,
            "µs",
        )
        for impl in impls:
            stat = stats[impl.key]
            stat.ops = cfg.marginal
            size = len(populations[impl.key])
            if size != wanted:
                stat.note = f"population capped at {_fmt(size)} live (of {_fmt(wanted)})"
                fig.notes.append(
                    f"{impl.key} {column}: population capped at {_fmt(size)} live, since one "
                    f"instance costs ~{probes[impl.key]:.0f} µs to create (use --full for all)."
                )
            fig.rows.setdefault(impl.key, {})[column] = stat
        gc.unfreeze()
        populations.clear()
        gc.collect()
    for row, cells in fig.rows.items():
        fig.derived[row] = {"large / small": cells[col_large].median / cells[col_small].median}
    return fig


# -- flow and refusal -----------------------------------------------------------------------------


def _batches(
    impls: list[Implementation], cfg: Config, make: Callable[[Implementation, int], float]
) -> dict[str, int]:
    return {
        impl.key: calibrate(
            partial(make, impl),
            cfg.batch_target_s,
            5,
            cfg.max_batch,
            setup_budget_s=cfg.setup_budget_s,
        )
        for impl in impls
    }


def figure_flow(impls: list[Implementation], cfg: Config) -> Figure:
    column = "one full flow"
    fig = Figure("flow", "One full flow: the five events, from a fresh instance", "µs", [column])
    fig.notes.append(
        "Fresh instances are created untimed; the five events are then sent to each in turn "
        f"(world of {_fmt(cfg.flow_world)} TikTok accounts)."
    )

    def measure(impl: Implementation, n: int) -> float:
        instances = [impl.create() for _ in range(n)]
        return per_item_us(impl.run_flow, instances)

    return _one_column(fig, column, impls, cfg, measure)


#: How many instances the refused event is sent round.
REFUSAL_POOL = 200


def figure_refusal(impls: list[Implementation], cfg: Config) -> Figure:
    column = "one refused event"
    fig = Figure("refusal", "One refused event: `login` with a wrong password", "µs", [column])
    fig.notes.append(
        f"A pool of up to {REFUSAL_POOL} instances is brought to the login window (untimed); the "
        "refused `login` is then sent round the pool (a refusal changes no state). "
        "python-statemachine raises TransitionNotAllowed (caught); linkflow returns a Step "
        "carrying the rendered refusal message (and records it in the instance's history)."
    )

    def measure(impl: Implementation, n: int) -> float:
        pool = [impl.create() for _ in range(min(n, REFUSAL_POOL))]
        for instance in pool:
            impl.advance(instance)
        return per_item_us(impl.refuse, [pool[k % len(pool)] for k in range(n)])

    return _one_column(fig, column, impls, cfg, measure)


def _one_column(
    fig: Figure,
    column: str,
    impls: list[Implementation],
    cfg: Config,
    measure: Callable[[Implementation, int], float],
) -> Figure:
    """Time `measure` for every implementation, interleaved, into one column with ratios."""
    batch = _batches(impls, cfg, measure)
    stats = interleaved(
        {i.key: partial(measure, i, batch[i.key]) for i in impls}, cfg.repeats, "µs"
    )
    for impl in impls:
        stats[impl.key].ops = batch[impl.key]
        fig.rows[impl.key] = {column: stats[impl.key]}
    _add_ratios(fig, column, "linkflow")
    return fig


def _add_ratios(fig: Figure, column: str, reference: str) -> None:
    if reference not in fig.rows:
        return
    name = f"÷ {reference}"
    fig.derived_columns.append(name)
    base = fig.median(reference, column)
    for row in fig.rows:
        fig.derived.setdefault(row, {})[name] = fig.median(row, column) / base


# -- memory ---------------------------------------------------------------------------------------


def traced_bytes_per_instance(impl: Implementation, count: int) -> float:
    """Bytes tracemalloc sees allocated per live instance (the list holding them excluded)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        live = [impl.create() for _ in range(count)]
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    holder = 56 + 8 * len(live)  # the list object itself, roughly: not the instances' cost
    del live
    return (after - before - holder) / count


def figure_memory(impls: list[Implementation], cfg: Config) -> Figure:
    column = f"at {_fmt(cfg.memory_live)} live"
    fig = Figure("memory", "Memory per live instance (tracemalloc)", "bytes", [column])
    fig.notes.append(
        "Fresh instances in the initial state; tracemalloc's traced size after creating them, "
        "minus before, divided by the count. tracemalloc slows allocation about 3x, so the "
        "population budget is shared accordingly."
    )
    probes = {impl.key: _probe_create(impl) * 3.5 for impl in impls}
    counts = {
        impl.key: live_count(probes[impl.key], cfg.memory_live, cfg.population_budget_s / 2)
        for impl in impls
    }
    stats = interleaved(
        {i.key: partial(traced_bytes_per_instance, i, counts[i.key]) for i in impls},
        cfg.memory_repeats,
        "bytes",
    )
    for impl in impls:
        stat = stats[impl.key]
        stat.ops = counts[impl.key]
        if counts[impl.key] != cfg.memory_live:
            stat.note = f"measured at {_fmt(counts[impl.key])} live"
            fig.notes.append(
                f"{impl.key}: measured at {_fmt(counts[impl.key])} live instances "
                "(per-instance size does not depend on the count; --full for all)."
            )
        fig.rows[impl.key] = {column: stat}
    return fig


# -- guards against the world's size --------------------------------------------------------------

#: The guard and binding of the linkflow workflow that the reference rows evaluate directly.
LOGIN_GUARD = "credentials_valid"
LOGIN_BINDING = "login_account"
WHOLE_WORLD_GUARD = "world.tiktok_accounts[payload.username].password == payload.password"


def figure_guards(impls: list[Implementation], cfg: Config) -> Figure:
    columns = [f"{_fmt(n)} accounts" for n in cfg.world_sizes]
    fig = Figure(
        "guards",
        "Guard cost against world size: the `login` event (guard: credentials valid)",
        "µs",
        columns,
        derived_columns=["largest / smallest"],
    )
    fig.notes.append(
        "Rows per implementation: one accepted `login` (guard + action), instances brought to "
        "the login window untimed. The last two rows evaluate CEL directly: the workflow's "
        f"`{LOGIN_GUARD}` guard with its `{LOGIN_BINDING}` binding looked up by key (what "
        "linkflow does), and, for reference, a CEL program that is handed the whole world "
        f"document: `{WHOLE_WORLD_GUARD}`."
    )
    linkflow = next((i for i in impls if i.key == "linkflow"), None)
    references = _guard_references(linkflow, fig)
    payload = {"username": domain.ACCOUNT, "password": domain.PASSWORD}
    for column, size in zip(columns, cfg.world_sizes, strict=True):
        world = domain.make_world(size)
        for impl in impls:
            impl.prepare(world)

        def measure(impl: Implementation, n: int) -> float:
            instances = [impl.create() for _ in range(n)]
            for instance in instances:
                impl.advance(instance)
            return per_item_us(impl.login, instances)

        batch = _batches(impls, cfg, measure)
        subjects: dict[str, Callable[[], float]] = {
            i.key: partial(measure, i, batch[i.key]) for i in impls
        }
        for name, evaluate in references.items():
            batch[name] = calls = calibrate(
                partial(_reference_us, evaluate, world, payload),
                cfg.batch_target_s,
                1,
                cfg.max_batch,
                start=1,
            )
            subjects[name] = partial(_reference_us, evaluate, world, payload, calls)
        repeats = cfg.repeats if size < 100_000 else min(cfg.repeats, 3)
        stats = interleaved(subjects, repeats, "µs")
        for row, stat in stats.items():
            stat.ops = batch.get(row, 0)
            fig.rows.setdefault(row, {})[column] = stat
    restore = domain.make_world(cfg.flow_world)
    for impl in impls:
        impl.prepare(restore)
    first, last = columns[0], columns[-1]
    for row, cells in fig.rows.items():
        fig.derived[row] = {"largest / smallest": cells[last].median / cells[first].median}
    return fig


Evaluator = Callable[[domain.World, dict[str, Any]], Any]


def _reference_us(
    evaluate: Evaluator, world: domain.World, payload: dict[str, Any], calls: int
) -> float:
    return per_item_us(lambda _: evaluate(world, payload), range(calls))


def _guard_references(linkflow: Implementation | None, fig: Figure) -> dict[str, Evaluator]:
    """CEL evaluations for the reference rows, or none when the engine cannot give them."""
    try:
        from linkflow.language.expressions import Expression  # noqa: PLC0415 - the engine: missing, the reference rows are skipped (below)
    except ImportError as err:  # pragma: no cover - engine missing
        fig.notes.append(f"reference rows skipped: {err}")
        return {}
    whole = Expression.compile(WHOLE_WORLD_GUARD)
    out: dict[str, Evaluator] = {}
    workflow = getattr(linkflow, "workflow", None)
    guard = workflow.guards.get(LOGIN_GUARD) if workflow is not None else None
    binding = workflow.bindings.get(LOGIN_BINDING) if workflow is not None else None
    if workflow is not None and guard is not None and binding is not None:
        data = {**workflow.data, **domain.instance_data()}
        collection = binding.collection

        def by_binding(world: domain.World, payload: dict[str, Any]) -> Any:
            key = binding.key.evaluate({"data": data, "payload": payload})
            record = world.get(collection, {}).get(key)
            return guard.when.evaluate({"data": data, "payload": payload, LOGIN_BINDING: record})

        out["CEL guard, binding lookup"] = by_binding
    else:
        fig.notes.append(
            f"the workflow has no guard `{LOGIN_GUARD}` with binding `{LOGIN_BINDING}`: "
            "the binding reference row is skipped"
        )

    def whole_world(world: domain.World, payload: dict[str, Any]) -> Any:
        return whole.evaluate({"world": world, "payload": payload})

    out["CEL over whole world (reference)"] = whole_world
    return out
