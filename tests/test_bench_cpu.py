"""The durable figures report CPU time beside wall time, the load they were taken at, and the
statements an event costs (issue 29, item 7): checked on the store figure alone, quickly."""

from __future__ import annotations

from pathlib import Path

from benchmarks.figures import Config, Figure
from benchmarks.report import _cell, evaluate_targets
from benchmarks.store import BARE, EVENT, figure_store
from benchmarks.timing import LOADED, Stat


def test_the_store_figure_has_cpu_load_and_statements(tmp_path: Path) -> None:
    fig = figure_store(Config.quick_config(), tmp_path)
    column = fig.columns[0]
    for row in (BARE, EVENT):
        stat = fig.rows[row][column]
        assert len(stat.cpu) == len(stat.values) == len(stat.load) == 2
        assert all(cpu > 0 for cpu in stat.cpu)
        assert "cpu_median" in stat.as_dict()
        assert "loaded" in stat.as_dict()
    assert fig.derived[BARE]["statements"] == 4  # BEGIN, UPDATE, INSERT, COMMIT
    # BEGIN, the instance row, the world record, the feed entry, the history entry, COMMIT.
    assert fig.derived[EVENT]["statements"] == 6
    ratio = fig.rows[EVENT][column].cpu_median / fig.rows[BARE][column].cpu_median
    assert fig.derived[EVENT]["CPU / bare commit"] == ratio
    targets = {t.key: t for t in evaluate_targets({"store": fig})}
    assert targets["durable_event_statements"].met is True
    assert targets["durable_event_cpu"].measured == ratio


def test_a_cell_shows_cpu_and_marks_a_loaded_repeat() -> None:
    fig = Figure("store", "t", "µs", ["c"])
    fig.rows["quiet"] = {"c": Stat("µs", [10.0, 12.0], cpu=[5.0, 6.0], load=[0.2, 0.5])}
    fig.rows["busy"] = {"c": Stat("µs", [10.0], cpu=[5.0], load=[LOADED + 0.5])}
    fig.rows["plain"] = {"c": Stat("µs", [10.0])}
    assert _cell(fig, "quiet", "c").endswith("CPU **5.50**")
    assert _cell(fig, "busy", "c").endswith("CPU **5.00** ⚠")
    assert "CPU" not in _cell(fig, "plain", "c")
