"""Loading a large world file: 100,000 records of the project's own world schema, written as
JSON, read end to end (the bytes, every check a small world gets, the World) and imported
into a SQLite store. The anchor, in the same run: `json.loads` of the same bytes, which does
none of the checks. Target: the load under 2 s."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.figures import Config, Figure
from benchmarks.profiling import Profile, profile_calls
from benchmarks.timing import interleaved
from linkflow.runtime.world_loader import load_world_and_schema
from linkflow.store import Store

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "workflows" / "world.schema.yaml"
RECORDS = 100_000
ANCHOR = "json.loads of the same bytes (no checks)"
LOAD = "load_world: read, check, build the World"
STORE = "Store.load_world into SQLite (load + import)"


def make_world(records: int) -> dict[str, Any]:
    """A world of `records` records over every collection of the Ads Manager world schema,
    each record as a real world would hold it (ids that refer to one another, access maps,
    permission maps)."""
    users_n, tiktok_n, ads_n, centers_n = (records * p // 100 for p in (40, 30, 15, 10))
    campaigns_n = records - users_n - tiktok_n - ads_n - centers_n - 1
    users = {f"u{k}": {"name": f"User {k}", "email": f"u{k}@example.com"} for k in range(users_n)}
    centers = {
        f"bc{k}": {
            "name": f"Center {k}",
            "admins": [f"u{k}"],
            "members": [f"u{k}", f"u{k + 1}"],
            "verified": k % 2 == 0,
            "tiktok_accounts": [f"tt{k}"],
            "organization_accounts_created": 0,
        }
        for k in range(centers_n)
    }
    tiktok = {
        f"tt{k}": {
            "name": f"Account {k}",
            "username": f"tt{k}",
            "owner_kind": "person",
            "business_centers": [f"bc{k % max(centers_n, 1)}"],
            "users": [f"u{k}"],
            "admins": [f"u{k}"],
            "permissions": {f"u{k}": "admin"},
        }
        for k in range(tiktok_n)
    }
    ads = {
        f"ad{k}": {
            "name": f"Ad account {k}",
            "business_center": f"bc{k % max(centers_n, 1)}",
            "access": {f"u{k}": "admin", f"u{k + 1}": "operator"},
            "identities": [f"tt{k}"],
        }
        for k in range(ads_n)
    }
    campaigns = {
        f"c{k}": {
            "name": f"Campaign {k}",
            "ad_account": f"ad{k}",
            "type": "manual",
            "objective": "reach",
            "spark_ads": True,
            "creatives_from_library": False,
        }
        for k in range(campaigns_n)
    }
    settings = {
        "ads_manager": {
            "unsupported_objectives": ["app_promotion"],
            "operating_regions": [{"code": "US", "name": "United States"}],
            "linking_access_levels": ["admin", "operator"],
        }
    }
    collections = {
        "settings": settings,
        "users": users,
        "business_centers": centers,
        "ad_accounts": ads,
        "tiktok_accounts": tiktok,
        "campaigns": campaigns,
    }
    return {"world": "generated", "collections": collections}


def write_world(folder: Path, records: int) -> Path:
    """The world as a JSON file, one key per line (as `json.dumps(indent=1)` writes it), with
    the project's world schema beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SCHEMA, folder / "world.schema.yaml")
    path = folder / "generated.world.json"
    path.write_text(json.dumps(make_world(records), indent=1), encoding="utf-8")
    return path


def _load(path: Path, records: int) -> float:
    start = time.perf_counter()
    world, _, problems = load_world_and_schema(path)
    elapsed = time.perf_counter() - start
    if world is None or sum(map(len, world.collections.values())) != records:
        raise AssertionError(f"the generated world did not load: {problems[:3]}")
    return elapsed


def _anchor(path: Path) -> float:
    start = time.perf_counter()
    json.loads(path.read_bytes())
    return time.perf_counter() - start


def _store(path: Path, folder: Path, records: int) -> float:
    target = folder / "store.db"
    for stale in folder.glob("store.db*"):
        stale.unlink()
    start = time.perf_counter()
    with Store.open(f"sqlite:///{target}") as store:
        loaded = store.load_world(path)
    elapsed = time.perf_counter() - start
    if loaded != records:
        raise AssertionError(f"the store imported {loaded} records, not {records}")
    return elapsed


def figure_world_load(cfg: Config, work: Path) -> Figure:
    records = 1_000 if cfg.quick else RECORDS
    column = f"{records:,} records"
    fig = Figure("world_load", "Loading a large world file", "s", [column])
    folder = work / "world_load"
    path = write_world(folder, records)
    subjects = {
        ANCHOR: lambda: _anchor(path),
        LOAD: lambda: _load(path, records),
        STORE: lambda: _store(path, folder, records),
    }
    for name, stat in interleaved(subjects, cfg.repeats, "s").items():
        fig.rows[name] = {column: stat}
    anchor = fig.median(ANCHOR, column)
    fig.derived_columns = ["/ json.loads", "projected s for 100,000"]
    for name in (LOAD, STORE):
        fig.derived[name] = {
            "/ json.loads": fig.median(name, column) / anchor,
            "projected s for 100,000": fig.median(name, column) * RECORDS / records,
        }
    size = path.stat().st_size / 2**20
    fig.notes.append(
        f"The file: {records:,} records of the Ads Manager world schema over six collections, "
        f"{size:.1f} MiB of JSON written one key per line. `load_world` takes the fast path: "
        "the C json decoder with strict hooks (duplicate keys, NaN, number range), a "
        "jsonschema-rs check of the nesting depth, jsonschema-rs pre-checks of the generic "
        "world format and of the project schema, and a World that adopts the parsed data. "
        "The store row adds one transaction with one executemany (synchronous=FULL)."
    )
    return fig


def projected(fig: Figure, row: str = LOAD) -> float:
    """Seconds for 100,000 records (exactly what was measured in a full run)."""
    return fig.derived[row]["projected s for 100,000"]


def profile_world_load() -> Profile:
    """Where the time of one 100,000-record load goes (for a missed target)."""
    with tempfile.TemporaryDirectory(prefix="linkflow-world-") as work:
        path = write_world(Path(work), RECORDS)
        return profile_calls(f"load_world: {RECORDS:,} records", load_world_and_schema, [path])
