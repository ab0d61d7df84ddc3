"""`python -m benchmarks`: run every figure, check the targets, profile the misses, write
`RESULTS.md` and `results.json`.

    python -m benchmarks                 # the full run (a few minutes on 2 cores)
    python -m benchmarks --quick         # tiny sizes: checks the harness, not the speed
    python -m benchmarks --workflow workflows/link_login.yaml --event open=open_link
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import domain
from benchmarks.domain_flow import figure_domain
from benchmarks.durable_flow import figure_durable_flow
from benchmarks.effects_step import figure_effects_step
from benchmarks.figures import (
    Config,
    Figure,
    figure_create,
    figure_flow,
    figure_guards,
    figure_memory,
    figure_refusal,
)
from benchmarks.hostile import figure_hostile
from benchmarks.impls import Implementation
from benchmarks.impls.linkflow_impl import WORKFLOW_FILE, LinkflowImpl
from benchmarks.impls.plain import PlainImpl
from benchmarks.impls.shared_machine import SharedMachineImpl
from benchmarks.inmemory import breakdown_notes
from benchmarks.listing import figure_listing
from benchmarks.mutation import figure_mutate
from benchmarks.postgres import PostgresFigures
from benchmarks.processes import figure_processes
from benchmarks.profiling import Profile, memory_sites, profile_calls, profile_process
from benchmarks.report import evaluate_targets, libraries, machine, write_results
from benchmarks.service import figure_service, figure_service_cost
from benchmarks.store import figure_store, figure_store_bytes, figure_store_scaling
from benchmarks.targets import Target
from benchmarks.timers import figure_store_timers
from benchmarks.timing import load_average
from benchmarks.world_load import figure_world_load, profile_world_load

HERE = Path(__file__).resolve().parent


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_implementations(
    cfg: Config, only: set[str] | None, notes: list[str]
) -> list[Implementation]:
    """Every implementation that loads and runs the flow correctly; the others become notes."""

    def linkflow() -> Implementation:
        return LinkflowImpl(cfg.workflow_file or WORKFLOW_FILE, cfg.event_names)

    def plain() -> Implementation:
        return PlainImpl()

    def shared_machine() -> Implementation:
        return SharedMachineImpl()

    def pystatemachine() -> Implementation:
        from benchmarks.impls.pystatemachine import PyStateMachineImpl  # noqa: PLC0415 - python-statemachine, a compared library: missing, it skips one implementation

        return PyStateMachineImpl()

    def sismic() -> Implementation:
        from benchmarks.impls.sismic_impl import SismicImpl  # noqa: PLC0415 - sismic, a compared library: missing, it skips one implementation

        return SismicImpl()

    # Each library is imported only when its implementation is built, so a missing one (the
    # `bench` extra not installed) becomes a note instead of stopping the run.
    factories: list[tuple[str, Callable[[], Implementation]]] = [
        ("plain", plain),
        ("transitions", shared_machine),
        ("python-statemachine", pystatemachine),
        ("sismic", sismic),
        ("linkflow", linkflow),
    ]
    impls: list[Implementation] = []
    for key, factory in factories:
        if only is not None and key not in only:
            continue
        try:
            impl = factory()
        except Exception as err:
            notes.append(f"{key}: could not be set up, left out: {type(err).__name__}: {err}")
            continue
        problems = conformance(impl)
        if problems:
            notes.append(f"{key}: does not run the flow correctly, left out: {'; '.join(problems)}")
            continue
        impl.prepare(domain.make_world(cfg.flow_world))
        impls.append(impl)
    return impls


def conformance(impl: Implementation) -> list[str]:
    """What is wrong with how `impl` runs the flow and refuses the wrong password, or []."""
    try:
        impl.prepare(domain.make_world(10))
        instance = impl.create()
        if impl.state(instance) != domain.INITIAL:
            return [f"a new instance is in '{impl.state(instance)}', not '{domain.INITIAL}'"]
        impl.run_flow(instance)
        problems = []
        if impl.state(instance) != domain.FINAL:
            problems.append(f"the flow ends in '{impl.state(instance)}', not '{domain.FINAL}'")
        if impl.dropdown(instance) != [domain.ACCOUNT]:
            problems.append(f"the dropdown is {impl.dropdown(instance)}")
        problems += domain.check_world_after_flow(impl.current_world())
        refused = impl.create()
        impl.advance(refused)
        if impl.state(refused) != domain.REFUSE_IN:
            problems.append(f"open+confirm lead to '{impl.state(refused)}'")
        impl.refuse(refused)
        if impl.state(refused) != domain.REFUSE_IN:
            problems.append(f"the wrong password moved the instance to '{impl.state(refused)}'")
        return problems
    except Exception as err:
        return [f"{type(err).__name__}: {err}"]


def profile_misses(
    targets: list[Target], impls: list[Implementation], cfg: Config
) -> list[Profile]:
    """Profile linkflow for each target it misses."""
    linkflow = next((i for i in impls if i.key == "linkflow"), None)
    missed = {t.key for t in targets if t.met is False}
    profiles: list[Profile] = []
    count = 50 if cfg.quick else 3_000
    if linkflow is not None and missed & {
        "flow_vs_transitions",
        "flow_vs_python_statemachine",
        "flow_vs_sismic",
    }:
        instances = [linkflow.create() for _ in range(count)]
        profiles.append(profile_calls("linkflow: one full flow", linkflow.run_flow, instances))
    if linkflow is not None and "refusal_vs_transitions" in missed:
        pool = [linkflow.create() for _ in range(count)]
        for instance in pool:
            linkflow.advance(instance)
        profiles.append(profile_calls("linkflow: one refused event", linkflow.refuse, pool))
    if linkflow is not None and "create_scaling" in missed:
        profiles.append(
            profile_calls("linkflow: create", lambda _: linkflow.create(), range(count * 10))
        )
    if linkflow is not None and "memory" in missed:
        profiles.append(memory_sites("linkflow: memory per instance", linkflow.create, count))
    if linkflow is not None and "guard_scaling" in missed:
        linkflow.prepare(domain.make_world(cfg.world_sizes[-1]))
        instances = [linkflow.create() for _ in range(count)]
        for instance in instances:
            linkflow.advance(instance)
        profiles.append(
            profile_calls(
                f"linkflow: `login` with {cfg.world_sizes[-1]:,} accounts",
                linkflow.login,
                instances,
            )
        )
        linkflow.prepare(domain.make_world(cfg.flow_world))
    if "world_load" in missed:
        profiles.append(profile_world_load())
    if "help" in missed:
        profiles.append(profile_process("process: linkflow --help", ["--help"]))
    if "validate" in missed:
        profiles.append(
            profile_process("process: linkflow validate workflows/", ["validate", "workflows"])
        )
    return profiles


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark linkflow against transitions, python-statemachine, sismic and "
        "plain Python on the link-a-TikTok-account-by-login flow.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (harness check only)")
    parser.add_argument(
        "--out", type=Path, default=HERE, help="where to write RESULTS.md and results.json"
    )
    parser.add_argument("--repeats", type=int, help="repeats per figure (default 5; quick 2)")
    parser.add_argument(
        "--workflow",
        type=Path,
        help="the linkflow workflow to run (default benchmarks/flows/link_login.yaml)",
    )
    parser.add_argument(
        "--event",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help="the workflow's name for one of open, confirm, login, approve, refresh",
    )
    parser.add_argument("--only", help="comma-separated implementations to run")
    parser.add_argument(
        "--full",
        action="store_true",
        help="no population caps: python-statemachine and sismic at 100,000 live too (slow)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip profiling the misses")
    parser.add_argument(
        "--figures",
        default="",
        help="comma-separated figures to run, no others (store, durable_flow, ...); with --out "
        "elsewhere, so a partial run does not replace RESULTS.md",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated figures to skip "
        "(create, flow, refusal, memory, guards, domain, mutate, processes, world_load)",
    )
    return parser.parse_args(argv)


def make_config(args: argparse.Namespace) -> Config:
    renames: dict[str, str] = {}
    for item in args.event:
        ours, _, theirs = item.partition("=")
        if ours not in domain.EVENTS or not theirs:
            raise SystemExit(f"--event {item}: expected one of {', '.join(domain.EVENTS)}=NAME")
        renames[ours] = theirs
    overrides: dict[str, Any] = {
        "workflow_file": args.workflow.resolve() if args.workflow else None,
        "event_names": renames,
        "profile": not args.no_profile,
    }
    if args.repeats:
        overrides["repeats"] = args.repeats
    if args.full:
        overrides["population_budget_s"] = 0.0
    return Config.quick_config(**overrides) if args.quick else Config(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = make_config(args)
    started = time.perf_counter()
    load_start = load_average()
    notes: list[str] = []
    only = {k.strip() for k in args.only.split(",")} if args.only else None
    skip = {k.strip() for k in args.skip.split(",") if k.strip()}
    chosen = {k.strip() for k in args.figures.split(",") if k.strip()}
    impls = build_implementations(cfg, only, notes)
    for note in notes:
        _say(f"note: {note}")
    _say("implementations: " + ", ".join(i.key for i in impls))

    steps: list[tuple[str, Callable[[], Figure | None]]] = [
        ("flow", lambda: figure_flow(impls, cfg)),
        ("refusal", lambda: figure_refusal(impls, cfg)),
        ("create", lambda: figure_create(impls, cfg)),
        ("memory", lambda: figure_memory(impls, cfg)),
        ("guards", lambda: figure_guards(impls, cfg)),
        ("domain", lambda: figure_domain(impls, cfg)),
        ("hostile", lambda: figure_hostile(cfg)),
        ("mutate", lambda: figure_mutate(cfg)),
    ]
    with tempfile.TemporaryDirectory(prefix="linkflow-bench-") as work:
        steps.append(("processes", lambda: figure_processes(cfg, Path(work))[0]))

        steps.append(("store", lambda: figure_store(cfg, Path(work))))
        steps.append(("store_scaling", lambda: figure_store_scaling(cfg, Path(work))))
        steps.append(("store_bytes", lambda: figure_store_bytes(cfg, Path(work))))
        steps.append(("listing", lambda: figure_listing(cfg, Path(work))))

        steps.append(("store_timers", lambda: figure_store_timers(cfg, Path(work))))
        steps.append(("durable_flow", lambda: figure_durable_flow(cfg, Path(work))))
        steps.append(("effects_worker", lambda: _effects_worker(cfg, Path(work))))

        steps.append(("world_load", lambda: figure_world_load(cfg, Path(work))))
        steps.append(("effects_step", lambda: figure_effects_step(cfg, Path(work))))

        postgres = PostgresFigures(cfg, Path(work))
        steps.extend(postgres.steps())
        steps.append(("pg_stop", postgres.close))  # not a figure: stops the cluster

        steps.append(("service", lambda: figure_service(cfg, Path(work))))
        steps.append(("service_cost", lambda: figure_service_cost(cfg, Path(work))))
        if chosen:
            # pg_stop is no figure: it stops the cluster a chosen PostgreSQL figure started.
            skip |= {key for key, _ in steps if key not in chosen and key != "pg_stop"}
        figures = _run_figures(steps, skip, notes)

    if "flow" in figures or "refusal" in figures:
        breakdown_notes(figures.get("flow"), figures.get("refusal"), impls, cfg.quick)
    targets = evaluate_targets(figures)
    profiles = _profiles(targets, impls, cfg, notes) if cfg.profile else []

    workflow = getattr(next((i for i in impls if i.key == "linkflow"), None), "workflow_file", None)
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": cfg.quick,
        "elapsed_s": time.perf_counter() - started,
        "machine": machine(),
        "load": {"start": load_start, "end": load_average()},
        "libraries": libraries(),
        "workflow_file": _shown(workflow),
        "config": {
            "repeats": cfg.repeats,
            "small_live": cfg.small_live,
            "large_live": cfg.large_live,
            "marginal": cfg.marginal,
            "memory_live": cfg.memory_live,
            "world_sizes": list(cfg.world_sizes),
            "flow_world": cfg.flow_world,
            "population_budget_s": cfg.population_budget_s,
            "process_repeats": cfg.process_repeats,
            "generated": [cfg.generated_states, cfg.generated_transitions],
        },
        "notes": notes,
    }
    labels = {i.key: f"{i.key} — {i.label}" for i in impls}
    md, js = write_results(args.out, results, figures, targets, profiles, labels)
    for target in targets:
        _say(f"{target.verdict:>12}  {target.text}: {target.measured:.3g} {target.unit}")
    _say(f"wrote {md} and {js} in {time.perf_counter() - started:.0f} s")
    return 0


def _effects_worker(cfg: Config, work: Path) -> Figure:
    from benchmarks.effects_worker import figure_effects_worker  # noqa: PLC0415 - httpx and uvicorn: the service extra, loaded only when this figure runs

    return figure_effects_worker(cfg, work)


def _run_figures(
    steps: list[tuple[str, Callable[[], Figure | None]]], skip: set[str], notes: list[str]
) -> dict[str, Figure]:
    """Run each figure's step in order (not those in `skip`); a step that fails is a note."""
    figures: dict[str, Figure] = {}
    for key, step in steps:
        if key in skip:
            notes.append(f"figure `{key}` skipped (--skip, or not among --figures)")
            continue
        begun = time.perf_counter()
        try:
            figure = step()
            if figure is not None:
                figures[key] = figure
        except Exception as err:
            notes.append(f"figure `{key}` failed: {type(err).__name__}: {err}")
            traceback.print_exc()
        _say(f"{key}: {time.perf_counter() - begun:.1f} s")
    return figures


def _profiles(
    targets: list[Target], impls: list[Implementation], cfg: Config, notes: list[str]
) -> list[Profile]:
    """Profiles of the targets missed; none (and a note) when profiling fails."""
    profiles: list[Profile] = []
    begun = time.perf_counter()
    try:
        profiles = profile_misses(targets, impls, cfg)
    except Exception as err:
        notes.append(f"profiling failed: {type(err).__name__}: {err}")
    _say(f"profiles: {time.perf_counter() - begun:.1f} s")
    return profiles


def _shown(path: Path | None) -> str:
    if path is None:
        return "(linkflow not run)"
    try:
        return str(path.resolve().relative_to(HERE.parent))
    except ValueError:
        return str(path)
