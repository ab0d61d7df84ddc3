"""The benchmark harness runs on tiny sizes and writes well-formed results (no timing checks)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks.cli import main
from benchmarks.generate import generate_workflow, write_workflow
from linkflow import load
from tests.support.postgres import PostgresUnavailable, find_binary
from tests.support.requirements import unavailable

FIGURES = {
    "flow",
    "refusal",
    "create",
    "memory",
    "guards",
    "domain",
    "mutate",
    "processes",
    "hostile",
    "store",
    "store_scaling",
    "store_bytes",
    "durable_flow",
    "store_timers",
    "world_load",
    "effects_step",
    "service",
    "service_cost",
    "effects_worker",
    "listing",
}
#: The figures with a row per implementation (the others measure linkflow alone or the store).
COMPARED = {"flow", "refusal", "create", "memory", "guards"}
#: The PostgreSQL figures: measured when the server binaries are installed (always in CI).
PG_FIGURES = {"pg_store", "pg_flow", "pg_scaling", "pg_bytes"}
PG_TARGETS = 4
IMPLEMENTATIONS = {"plain", "transitions", "python-statemachine", "sismic", "linkflow"}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench")
    assert main(["--quick", "--out", str(out)]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_quick_run_writes_json_with_every_figure(results: tuple[Path, dict[str, Any]]) -> None:
    _, data = results
    assert data["quick"] is True
    assert {"cpu", "cores", "python"} <= set(data["machine"])
    assert data["libraries"]["transitions"] != "not installed"
    if _postgres_installed():
        assert set(data["figures"]) == FIGURES | PG_FIGURES, data["notes"]
    else:  # outside CI: the run goes on and says the PostgreSQL figures were not measured
        assert set(data["figures"]) == FIGURES, data["notes"]
        assert any("PostgreSQL figures not measured" in note for note in data["notes"])
    assert set(data["implementations"]) == IMPLEMENTATIONS, data["notes"]
    for key in COMPARED:
        assert set(data["figures"][key]["rows"]) >= IMPLEMENTATIONS, key
    for figure in data["figures"].values():
        for cells in figure["rows"].values():
            for stat in cells.values():
                assert stat["repeats"] == len(stat["values"]) >= 1
                assert stat["min"] <= stat["median"] <= stat["max"]


def test_every_target_has_a_verdict(results: tuple[Path, dict[str, Any]]) -> None:
    _, data = results
    # effects_worker, service_two_processes, listing_scaling
    assert len(data["targets"]) == 26 + PG_TARGETS
    assert "refusal_vs_transitions" in data["targets"]
    for figure in ("flow", "refusal"):
        notes = data["figures"][figure]["notes"]
        assert any(n.startswith("Where linkflow's") for n in notes), notes
    compare = {"<=": float.__le__, ">=": float.__ge__, "<": float.__lt__}
    for key, target in data["targets"].items():
        on_postgres = key.startswith("pg_") or key == "service_two_processes"
        if on_postgres and not _postgres_installed():
            assert (target["measured"], target["met"]) == (None, None), key
            continue
        assert isinstance(target["measured"], float), key
        # The verdict is the comparison of what was measured with the limit, nothing else.
        expected = compare[target["compare"]](target["measured"], float(target["limit"]))
        assert target["met"] is expected, (key, target)
    flow = data["figures"]["durable_flow"]["rows"]
    medians = {row.split(" ")[0]: cells[next(iter(cells))]["median"] for row, cells in flow.items()}
    assert set(medians) == {"bare", "linkflow", "django-fsm-2"}
    measured = data["targets"]["durable_vs_django"]["measured"]
    assert measured == pytest.approx(medians["django-fsm-2"] / medians["linkflow"])
    effects = data["figures"]["effects_worker"]["derived"]
    worker = next(v["calls/s"] for row, v in effects.items() if row.startswith("worker"))
    assert data["targets"]["effects_worker"]["measured"] == worker
    listing = data["figures"]["listing"]["derived"]
    covered = [v["large / small"] for row, v in listing.items() if "worst case" not in row]
    assert len(covered) == 8  # every filter the CLI and the API offer, and one combination
    assert data["targets"]["listing_scaling"]["measured"] == max(covered)
    timer = data["figures"]["store_timers"]["rows"]["fire_due: every due timer"]
    assert data["targets"]["store_timers"]["measured"] == next(iter(timer.values()))["median"]
    service = data["figures"]["service"]["rows"]
    rates = {row: cells["events/s"]["median"] for row, cells in service.items()}
    sqlite = [rates[r] for r in rates if r.startswith("SQLite")]
    assert len(sqlite) == 2  # 1 client, 8 clients
    assert data["targets"]["service_group_commit"]["measured"] == pytest.approx(
        sqlite[1] / sqlite[0]
    )
    pg = [rates[r] for r in rates if r.startswith("PostgreSQL") and r.endswith("8 clients")]
    if pg:  # one process, then two, measured interleaved
        assert data["targets"]["service_two_processes"]["measured"] == pytest.approx(pg[1] / pg[0])
    cost = data["figures"]["service_cost"]
    assert set(cost["rows"]) == {
        f"{server}, {n} client{'s' if n > 1 else ''}"
        for server in ("linkflow serve", "bare Starlette app")
        for n in (1, 8)
    }
    one = cost["rows"]["linkflow serve, 1 client"]
    bare = cost["rows"]["bare Starlette app, 1 client"]
    ratio = one["server CPU ms/event"]["median"] / bare["server CPU ms/event"]["median"]
    assert data["targets"]["service_cpu_vs_bare"]["measured"] == pytest.approx(ratio)
    assert "service_vs_bare_8_clients" in data["targets"]
    hostile = data["figures"]["hostile"]["rows"]
    assert len(hostile) >= 5
    slowest = max(cell["max"] for cells in hostile.values() for cell in cells.values())
    assert data["targets"]["hostile_event"]["measured"] == slowest


def test_postgres_figures_name_their_settings_and_round_trips(
    results: tuple[Path, dict[str, Any]],
) -> None:
    _, data = results
    if not _postgres_installed():
        unavailable("PostgreSQL is not installed here (`make postgresql`)")
    store = data["figures"]["pg_store"]
    assert "fsync=on, synchronous_commit=on" in store["columns"][0]
    trips = {row.split(" ")[0]: cells["round trips"] for row, cells in store["derived"].items()}
    assert trips["bare"] == 4.0
    assert 1.0 <= trips["linkflow"] <= 4.0  # pipelined: no more than the bare commit
    flow = data["figures"]["pg_flow"]["rows"]
    assert {row.split(" ")[0] for row in flow} == {"bare", "linkflow", "django-fsm-2"}


def test_markdown_has_the_tables(results: tuple[Path, dict[str, Any]]) -> None:
    out, _ = results
    text = (out / "RESULTS.md").read_text()
    for heading in ("## Machine", "## Libraries", "## Targets", "## Figures"):
        assert heading in text
    assert text.count("| linkflow") >= 5
    _, data = results
    # Every target has its row, with the verdict its numbers give.
    for target in data["targets"].values():
        verdict = "**met**" if target["met"] else "**MISSED**"
        rows = [line for line in text.splitlines() if line.startswith(f"| {target['target']} |")]
        assert len(rows) == 1, target["target"]
        assert rows[0].endswith(f"| {verdict} |"), rows[0]


def test_generated_workflow_is_valid(tmp_path: Path) -> None:
    doc = generate_workflow(60, 250)
    assert len(doc["states"]) == 60
    assert len(doc["transitions"]) == 250
    path = write_workflow(tmp_path / "generated.yaml", 60, 250)
    result = load([path])
    assert result.ok, [str(p) for p in result.problems]


def _postgres_installed() -> bool:
    if os.environ.get("CI") == "true":
        return True  # in CI it must be there: a missing server fails the figures' checks
    try:
        find_binary("initdb")
    except PostgresUnavailable:
        return False
    return True
