"""`python -m benchmarks.listing` runs end to end on tiny stores: every filter's first page is
timed on both, each holds the rows the filters keep, and each gets a ratio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import listing


def test_the_listing_benchmark_runs_and_reports_each_filter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing.main(["--sizes", "300,900", "--repeat", "2", "--work", str(tmp_path)])
    report = json.loads(capsys.readouterr().out)
    names = [*listing.filters(300), *listing.WORST]
    assert list(report["ratio"]) == names
    small, large = report["runs"]
    assert (small["instances"], large["instances"]) == (300, 900)
    for run in (small, large):
        assert set(run["first_page"]) == set(names)
        assert run["first_page"]["none"]["rows"] == listing.PAGE
        assert run["first_page"]["data field, no match (bounded worst case)"]["rows"] == 0
    assert list(tmp_path.iterdir()) == []  # the stores are removed
