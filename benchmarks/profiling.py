"""Where linkflow's time and memory go, for the targets it misses: cProfile for calls,
`-X importtime` and cProfile for processes, tracemalloc allocation sites for memory."""

from __future__ import annotations

import cProfile
import gc
import pstats
import re
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Profile:
    """A ranked list of where the time (or memory) went."""

    title: str
    total: float
    unit: str
    #: (where, own share of the total, cumulative share, calls or count)
    lines: list[tuple[str, float, float, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "total": self.total,
            "unit": self.unit,
            "lines": [
                {"where": w, "own_share": own, "cumulative_share": cum, "count": n}
                for w, own, cum, n in self.lines
            ],
            "notes": self.notes,
        }


def _where(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        shown = "/".join(parts[parts.index("site-packages") + 1 :])
    else:
        try:
            shown = str(path.resolve().relative_to(ROOT))
        except ValueError:
            shown = path.name
    return f"{shown}:{line}({name})"


def _rank(stats: pstats.Stats, top: int) -> tuple[float, list[tuple[str, float, float, int]]]:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in raw.values()) or 1e-12
    by_own = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    lines = [(_where(func), tt / total, ct / total, int(nc)) for func, (_, nc, tt, ct, _) in by_own]
    return total, lines


def _cumulative(stats: pstats.Stats, prefix: str, top: int) -> list[tuple[str, float, float, int]]:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in raw.values()) or 1e-12
    chosen = [item for item in raw.items() if _where(item[0]).startswith(prefix)]
    chosen.sort(key=lambda item: item[1][3], reverse=True)
    return [
        (_where(func), tt / total, ct / total, int(nc)) for func, (_, nc, tt, ct, _) in chosen[:top]
    ]


def profile_calls(
    title: str, action: Callable[[Any], Any], items: Iterable[Any], top: int = 14
) -> Profile:
    """cProfile `action(item)` over `items`: the top functions by own time, and linkflow's own
    functions by cumulative time (so the engine's share of each step is visible)."""
    todo = list(items)
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    for item in todo:
        action(item)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total, lines = _rank(stats, top)
    result = Profile(title, total / max(len(todo), 1) * 1e6, "µs per call (profiled)", lines)
    engine_lines = _cumulative(stats, "engine/", 10)
    if engine_lines:
        result.notes.append(
            "engine functions by cumulative share: "
            + "; ".join(f"{w} {cum:.0%} ({n} calls)" for w, _, cum, n in engine_lines)
        )
    return result


def profile_process(title: str, args: list[str], top: int = 12) -> Profile:
    """Profile `python -m linkflow ARGS` in a fresh process: cProfile plus the slowest imports."""
    out = ROOT / ".bench-profile.prof"
    try:
        subprocess.run(
            [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "linkflow", *args],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        stats = pstats.Stats(str(out))
        total, lines = _rank(stats, top)
    finally:
        out.unlink(missing_ok=True)
    result = Profile(title, total, "s (profiled)", lines)
    imports = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "linkflow", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stderr
    rows = []
    for match in re.finditer(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", imports):
        _own, cumulative, indent, name = match.groups()
        rows.append((int(cumulative), len(indent), name))
    top_level = sorted((r for r in rows if r[1] <= 1), reverse=True)[:8]
    if top_level:
        result.notes.append(
            "slowest top-level imports (-X importtime, cumulative): "
            + "; ".join(f"{name} {us / 1e3:.0f} ms" for us, _, name in top_level)
        )
    return result


def memory_sites(title: str, create: Callable[[], Any], count: int, top: int = 10) -> Profile:
    """The allocation sites (file:line) of `count` live instances, by bytes."""
    gc.collect()
    tracemalloc.start(1)
    try:
        before = tracemalloc.take_snapshot()
        live = [create() for _ in range(count)]
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    diff = after.compare_to(before, "lineno")
    total = sum(d.size_diff for d in diff if d.size_diff > 0) or 1
    lines = []
    for d in diff[:top]:
        frame = d.traceback[0]
        where = _where((frame.filename, frame.lineno, ""))
        lines.append((where.removesuffix("()"), d.size_diff / total, 0.0, d.count_diff))
    del live
    return Profile(title, total / count, "bytes per instance", lines)
