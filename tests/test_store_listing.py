"""The instance listing: every filter, keyset pages that neither repeat nor skip, and plans
that read an index range (no table scan, no sort) for the first page of each filter."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkflow.errors import UsageError
from linkflow.store import InstanceRecord, Store
from linkflow.store.listing import Filters, statements
from tests.support.store import BOARDS, TALLY, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[Store]:
    with Store.open(store_url, clock=clock) as opened:
        opened.load_world(BOARDS)
        yield opened


def _fill(store: Store, clock: FakeClock, plan: list[tuple[str, str, float]]) -> None:
    """Instances of tally by (board, what happens to it, seconds to wait before starting)."""
    for board, fate, wait in plan:
        clock.advance(wait)
        started = store.start(TALLY, {"board": board})
        if fate != "open":
            clock.advance(0.5)
            store.send(started.id, fate)


def _all(store: Store) -> list[InstanceRecord]:
    return store.page(limit=1_000_000).records


def _matches(record: InstanceRecord, filters: Filters) -> bool:
    for name in ("workflow", "state", "outcome"):
        wanted = getattr(filters, name)
        if wanted is not None and getattr(record, name) != wanted:
            return False
    for column in ("created", "updated"):
        value = getattr(record, column)
        low, high = getattr(filters, f"{column}_from"), getattr(filters, f"{column}_to")
        if (low is not None and value < low) or (high is not None and value >= high):
            return False
    for key, wanted in filters.data.items():
        found: Any = record.data
        for part in key.split("."):
            if not isinstance(found, dict) or part not in found:
                return False
            found = found[part]
        if found != wanted or type(found) is not type(wanted):
            return False
    return True


def _expected(store: Store, filters: Filters) -> list[str]:
    key = "updated" if filters.by_updated else "created"
    kept = [r for r in _all(store) if _matches(r, filters)]
    kept.sort(key=lambda r: (getattr(r, key), r.id), reverse=True)
    return [r.id for r in kept]


def _page_through(store: Store, filters: Filters, size: int, scan: int) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(10_000):
        page = store.page(filters, limit=size, after=after, scan=scan)
        assert len(page.records) <= size
        seen += [r.id for r in page.records]
        if page.after is None:
            return seen
        assert page.after != after, "a page must move on"
        after = page.after
    raise AssertionError("paging did not end")


def test_each_filter_keeps_what_it_names(store: Store, clock: FakeClock) -> None:
    _fill(store, clock, [("main", "open", 1), ("main", "close", 1), ("side", "drop", 1)] * 3)
    everything = _all(store)
    assert len(everything) == 12  # each close hands off to a tally_review instance
    open_ids = {r.id for r in everything if r.state == "open"}
    assert {r.id for r in store.page(Filters(state="open")).records} == open_ids
    assert len(store.page(Filters(outcome="cancelled")).records) == 3
    assert len(store.page(Filters(workflow="tally_review")).records) == 3
    side = store.page(Filters(data={"board": "side"})).records
    assert [r.data["board"] for r in side] == ["side"] * 3
    middle = everything[len(everything) // 2].created
    newer = store.page(Filters(created_from=middle)).records
    assert newer
    assert all(r.created >= middle for r in newer)
    older = store.page(Filters(created_to=middle)).records
    assert len(newer) + len(older) == 12
    moved = store.page(Filters(updated_from=everything[0].created)).records
    assert [r.id for r in moved] == _expected(store, Filters(updated_from=everything[0].created))


def test_a_data_field_compares_value_and_type(store: Store, clock: FakeClock) -> None:
    _fill(store, clock, [("main", "open", 1)])
    assert len(store.page(Filters(data={"count": 0})).records) == 1
    assert store.page(Filters(data={"count": False})).records == []
    assert store.page(Filters(data={"count": "0"})).records == []
    assert store.page(Filters(data={"missing": None})).records == []


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"data": {"a b": 1}}, "a data field is names of letters"),
        ({"data": {"x": [1]}}, "only a string, number, true, false or null"),
        ({"data": {"x": float("nan")}}, "is not a JSON number"),
        ({"created_from": float("inf")}, "'created_from' must be a finite time"),
        ({"updated_to": "soon"}, "'updated_to' must be a finite time"),
    ],
)
def test_a_bad_filter_is_a_usage_error_that_names_it(filters: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Filters(**filters)


def test_a_bounded_scan_gives_a_short_page_and_goes_on_after_the_window(
    store: Store, clock: FakeClock
) -> None:
    plan: list[tuple[str, str, float]] = [("side", "open", 1), *[("main", "open", 1)] * 6]
    _fill(store, clock, plan)
    first = store.page(Filters(data={"board": "side"}), limit=5, scan=3)
    assert first.records == []  # the window held no match...
    assert first.after is not None  # ...and the listing goes on after it
    assert _page_through(store, Filters(data={"board": "side"}), 5, 3) == _expected(
        store, Filters(data={"board": "side"})
    )


FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "workflow": st.sampled_from(["tally", "tally_review", "none"]),
        "state": st.sampled_from(["open", "closed", "dropped"]),
        "outcome": st.sampled_from(["completed", "cancelled"]),
        "created_from": st.integers(1_000_000, 1_000_012).map(float),
        "created_to": st.integers(1_000_000, 1_000_012).map(float),
        "updated_from": st.integers(1_000_000, 1_000_012).map(float),
        "updated_to": st.integers(1_000_000, 1_000_012).map(float),
        "data": st.dictionaries(
            st.sampled_from(["board", "count"]), st.sampled_from(["main", "side", 0]), max_size=1
        ),
    },
)
PLANS = st.lists(
    st.tuples(
        st.sampled_from(["main", "side"]),
        st.sampled_from(["open", "close", "drop"]),
        st.sampled_from([0.0, 0.0, 1.0]),  # equal creation times: the id breaks the tie
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=PLANS, filters=FILTERS, size=st.integers(1, 4), scan=st.integers(1, 6))
def test_paging_yields_each_match_once_in_order(
    plan: list[tuple[str, str, float]], filters: dict[str, Any], size: int, scan: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock()
        with Store.open(f"sqlite:///{Path(folder) / 's.db'}", clock=clock) as store:
            store.load_world(BOARDS)
            _fill(store, clock, plan)
            wanted = Filters(**filters)
            assert _page_through(store, wanted, size, scan) == _expected(store, wanted)


FIRST_PAGES = {
    "none": Filters(),
    "workflow": Filters(workflow="tally"),
    "state": Filters(state="open"),
    "outcome": Filters(outcome="completed"),
    "created": Filters(created_from=1.0, created_to=2e9),
    "updated": Filters(updated_from=1.0, updated_to=2e9),
    "data": Filters(data={"board": "main"}),
    "state+data": Filters(state="open", data={"board": "main"}),
    "workflow+state": Filters(workflow="tally", state="open"),
}


def _plan_lines(store: Store, text: str, params: tuple[Any, ...]) -> list[str]:
    with store.backend.read() as tx:
        if store.backend.name == "postgresql":
            # A tiny table is read whole (and sorted) by choice; what matters is that an index
            # can answer in order, so the planner is told to avoid the other ways if it can.
            for switch in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                tx.run(f"SET LOCAL {switch} = off")
            return [str(row[0]) for row in tx.all(f"EXPLAIN {text}", params)]
        return [str(row[3]) for row in tx.all(f"EXPLAIN QUERY PLAN {text}", params)]


@pytest.mark.parametrize("name", FIRST_PAGES)
@pytest.mark.parametrize("after", [None, (1e9, "m")], ids=["first", "next"])
def test_each_filter_reads_an_index_range_without_a_sort(
    store: Store, clock: FakeClock, name: str, after: tuple[float, str] | None
) -> None:
    _fill(store, clock, [("main", "open", 1), ("side", "close", 1)])
    page, edge = statements(store.sql, FIRST_PAGES[name], 50, after)
    for text, params in (page, *([edge] if edge else [])):
        lines = _plan_lines(store, text, params)
        joined = "\n".join(lines)
        assert "TEMP B-TREE" not in joined, joined
        assert "Sort" not in joined, joined
        assert "Seq Scan" not in joined, joined
        assert not any(line.strip() == "SCAN instances" for line in lines), joined
        assert "instances_" in joined, joined  # one of the listing indexes
