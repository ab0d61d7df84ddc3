"""The instance listing: filters, keyset pages, and the one query each page runs.

A page is a range of one index read backwards (newest first, the id breaking ties), from just
after the last instance of the page before (its sort time and id: the cursor). So the first
page costs the same at a thousand instances as at a million, and a page never repeats or skips
an instance while others are added.

Which index: the first filter given of workflow, state, outcome (each has an index ending in
`created, id`); else the creation-time index. A state filter names a state path (`a.b`): it
matches that state, the states inside it and the configurations of a parallel state (leaves
joined by `+`) that hold it, which no one range of the state index holds in creation order;
so it is a residual filter (below), and only a whole configuration (a value with `+`) is
matched exactly, on the state index. An update-time range orders the listing by
`updated` instead and reads the update-time index. The other filters given are checked row by
row on that index's range ("residual" filters, among them every data field).

A residual filter has no index to answer it, so a page reads at most `scan` rows of the
driving index (a bounded scan): when those hold fewer matches than the page size, the page is
short, and its cursor is the last row read, not the last row returned, so the next page goes on
from there. A client pages until the cursor is None; it never concludes from a short page that
the listing has ended.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from linkflow.errors import UsageError
from linkflow.store.backend import Tx
from linkflow.store.core import record_of
from linkflow.store.records import InstanceRecord
from linkflow.store.world_view import dump

#: Rows of the driving index a page with residual filters reads at most.
SCAN_LIMIT = 5000
#: A data field: names of letters, digits and _ joined by dots (`account.handle`).
FIELD_RULE = "a data field is names of letters, digits and _ joined by dots (e.g. 'handle')"
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}")
_INDEXED = ("workflow", "state", "outcome")
#: A state path a `state` filter matches by containment (lowercase: SQLite's LIKE ignores case).
_STATE_PATH = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")


@dataclass(frozen=True, slots=True)
class Filters:
    """What a listing keeps. Times are seconds since the epoch: `*_from` inclusive, `*_to`
    exclusive. `data` maps a data field (dotted path) to the JSON scalar it must equal."""

    workflow: str | None = None
    state: str | None = None
    outcome: str | None = None
    created_from: float | None = None
    created_to: float | None = None
    updated_from: float | None = None
    updated_to: float | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("created_from", "created_to", "updated_from", "updated_to"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise UsageError(f"'{name}' must be a finite time in seconds, not {value!r}")
        for key, value in self.data.items():
            check_field(key)
            if value is not None and not isinstance(value, str | int | float | bool):
                raise UsageError(
                    f"data field '{key}': only a string, number, true, false or null can be matched"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise UsageError(f"data field '{key}': {value!r} is not a JSON number")

    @property
    def by_updated(self) -> bool:
        """Whether the listing is ordered (and paged) by update time, not creation time."""
        return self.updated_from is not None or self.updated_to is not None


def check_field(key: str) -> str:
    if not isinstance(key, str) or _FIELD.fullmatch(key) is None:
        raise UsageError(f"{FIELD_RULE}; got {key!r}")
    return key


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing and where the next one starts (None: nothing remains)."""

    records: list[InstanceRecord]
    after: tuple[float, str] | None
    #: The column the page is ordered by and the cursor's time is of: created or updated.
    order: str = "created"


@dataclass(frozen=True, slots=True)
class _Query:
    driving: list[str]
    driving_params: list[Any]
    residual: list[str]
    residual_params: list[Any]


def _plan(sql: Mapping[str, str], filters: Filters, after: tuple[float, str] | None) -> _Query:
    order = "updated" if filters.by_updated else "created"
    driving: list[str] = []
    driving_params: list[Any] = []
    residual: list[str] = []
    residual_params: list[Any] = []
    chosen = False
    for name in _INDEXED:
        value = getattr(filters, name)
        if value is None:
            continue
        if name == "state" and _STATE_PATH.fullmatch(value):
            residual.append(sql["filter_state_within"])
            residual_params.extend(_within(value))
            continue
        if not chosen and order == "created":
            driving.append(sql[f"filter_{name}"])
            driving_params.append(value)
            chosen = True
        else:
            residual.append(sql[f"filter_{name}"])
            residual_params.append(value)
    for column in ("created", "updated"):
        low, high = getattr(filters, f"{column}_from"), getattr(filters, f"{column}_to")
        if column == order and after is not None and high is not None and after[0] < high:
            high = None  # the cursor is the tighter upper bound: the index range starts there
        # The range of the sort column is part of the index range; the other one is residual.
        into, params = (driving, driving_params) if column == order else (residual, residual_params)
        if low is not None:
            into.append(sql[f"filter_{column}_from"])
            params.append(float(low))
        if high is not None:
            into.append(sql[f"filter_{column}_to"])
            params.append(float(high))
    for key, value in filters.data.items():
        residual.append(sql["filter_data"])
        text = dump(value)
        residual_params.extend((key, text, key, text))
    if after is not None:
        driving.append(sql[f"filter_after_{order}"])
        driving_params.extend((after[0], after[1]))
    return _Query(driving, driving_params, residual, residual_params)


def _within(state: str) -> tuple[str, ...]:
    """The parameters of `filter_state_within` for a state path."""
    escaped = state.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return (
        state,
        f"{escaped}.%",
        f"{escaped}+%",
        f"%+{escaped}",
        f"%+{escaped}+%",
        f"%+{escaped}.%",
    )


def _where(conditions: Sequence[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def statements(
    sql: Mapping[str, str],
    filters: Filters,
    limit: int,
    after: tuple[float, str] | None = None,
    scan: int = SCAN_LIMIT,
) -> tuple[tuple[str, tuple[Any, ...]], tuple[str, tuple[Any, ...]] | None]:
    """The page's query and, when there are residual filters, the window-edge query (with
    their parameters): what `read_page` runs, and what a test asks the planner about."""
    order = "updated" if filters.by_updated else "created"
    query = _plan(sql, filters, after)
    where = _where(query.driving)
    if not query.residual:
        text = sql["instances_page"].replace("{where}", where).replace("{order}", order)
        return (text, (*query.driving_params, limit + 1)), None
    text = (
        sql["instances_window"]
        .replace("{where}", where)
        .replace("{order}", order)
        .replace("{residual}", " AND ".join(query.residual))
    )
    window = max(scan, 1)
    page = (text, (*query.driving_params, window, *query.residual_params, limit + 1))
    edge = sql["window_edge"].replace("{where}", where).replace("{order}", order)
    return page, (edge, (*query.driving_params, window - 1))


def read_page(
    tx: Tx,
    sql: Mapping[str, str],
    filters: Filters,
    limit: int,
    after: tuple[float, str] | None = None,
    scan: int = SCAN_LIMIT,
) -> Page:
    """One page of at most `limit` instances after the cursor `after` (see the module's text)."""
    limit = max(int(limit), 0)
    order = "updated" if filters.by_updated else "created"
    (text, params), edge_query = statements(sql, filters, limit, after, scan)
    rows = tx.all(text, params)
    records = [record_of(r) for r in rows[:limit]]
    if len(rows) > limit:
        return Page(records, _cursor(records[-1], order) if records else None, order)
    if edge_query is None:
        return Page(records, None, order)
    # Fewer matches than asked: either the index range ended inside the window, or the window
    # was full and the rest lies beyond it. The window's last row says which.
    edge = tx.one(*edge_query)
    if edge is None:
        return Page(records, None, order)
    return Page(records, (float(edge[0]), str(edge[1])), order)


def _cursor(record: InstanceRecord, order: str) -> tuple[float, str]:
    return (record.updated if order == "updated" else record.created, record.id)


#: A cursor as text: the sort time (repr: exact) and the id, joined by "~".
CURSOR_RULE = "a cursor is the text a listing gave out to continue it (TIME~ID)"
_CURSOR = re.compile(
    r"-?[0-9]{1,17}(\.[0-9]{1,17})?(e[+-]?[0-9]{1,2})?~[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
)


def encode_cursor(after: tuple[float, str]) -> str:
    return f"{float(after[0])!r}~{after[1]}"


def decode_cursor(text: str) -> tuple[float, str]:
    """The place a cursor names; UsageError for text no listing gives out."""
    if not _CURSOR.fullmatch(text):
        raise UsageError(f"{CURSOR_RULE}; got {text[:80]!r}")
    moment, _, ident = text.partition("~")
    return float(moment), ident


def data_condition(text: str) -> tuple[str, Any]:
    """`FIELD=VALUE` of a command line or query: VALUE is read as a JSON scalar when it is one
    (`3`, `true`, `null`, `"3"`), else taken as the string it is (`mia`)."""
    key, sep, raw = text.partition("=")
    if not sep:
        raise UsageError(f"a data filter is FIELD=VALUE (e.g. handle=mia); got {text[:80]!r}")
    check_field(key)
    value: Any = raw
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    if isinstance(value, list | dict) or (isinstance(value, float) and not math.isfinite(value)):
        value = raw
    return key, value
