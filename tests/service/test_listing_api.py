"""GET /instances with every filter, paged by cursor; GET /feed says whether more remain. A bad
filter is a 400 problem that names it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.service.server import ServiceProcess
from tests.service.test_instances_api import new_id, send, start
from tests.service.test_openapi import check_response


def _list(http: httpx.Client, **params: Any) -> dict[str, Any]:
    response = http.get("/instances", params=params)
    assert response.status_code == 200, response.text
    check_response("get", "/instances", 200, response.headers["content-type"], response.json())
    body: dict[str, Any] = response.json()
    return body


def _all_pages(http: httpx.Client, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page = _list(http, **params, **({"cursor": cursor} if cursor else {}))
        seen += [i["id"] for i in page["instances"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def test_listing_filters_by_data_time_and_state_and_pages(api: ServiceProcess) -> None:
    board = new_id("board")
    with api.client() as http:
        made = [start(http, board=board) for _ in range(5)]
        send(http, made[1]["id"], "drop")
        newest_first = [m["id"] for m in reversed(made)]
        assert _all_pages(http, data=f"board={board}", limit=2) == newest_first
        dropped = _list(http, data=f"board={board}", state="dropped")["instances"]
        assert [i["id"] for i in dropped] == [made[1]["id"]]
        assert _all_pages(http, data=[f"board={board}", "count=0"], outcome="cancelled") == [
            made[1]["id"]
        ]
        since = made[2]["created"]
        recent = _all_pages(http, created_from=repr(since), data=f"board={board}")
        assert recent == newest_first[:3]
        moved = _list(http, updated_from=repr(made[1]["created"]), data=f"board={board}")
        assert made[1]["id"] in [i["id"] for i in moved["instances"]]


def test_the_feed_says_whether_more_remain(api: ServiceProcess) -> None:
    with api.client() as http:
        made = start(http)
        send(http, made["id"], "add", {"item": "pen"})
        send(http, made["id"], "add", {"item": "ink"})
        first = http.get("/feed", params={"limit": 1}).json()
        assert first["more"] is True
        rest = http.get("/feed", params={"after": first["last"], "limit": 500}).json()
        check_response("get", "/feed", 200, "application/json", rest)
        assert rest["entries"]
        assert rest["more"] is False


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"data": "board"}, "'data'"),
        ({"data": "a b=1"}, "'data'"),
        ({"created_from": "soon"}, "'created_from'"),
        ({"updated_to": "1e400"}, "'updated_to'"),
        ({"created_to": "nan"}, "'created_to'"),
    ],
)
def test_a_bad_filter_is_a_400_that_names_it(
    api: ServiceProcess, params: dict[str, str], named: str
) -> None:
    with api.client() as http:
        answer = http.get("/instances", params=params)
        assert answer.status_code == 400
        assert named in answer.json()["detail"]
        assert http.get("/instances").status_code == 200
