"""Cancel and terminate over HTTP: the answers fit the document, history says who did it, and
a refusal (not allowed now, stale If-Match, bad body) leaves the instance as it was."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.service.server import ServiceProcess
from tests.service.test_instances_api import send, start
from tests.service.test_openapi import check_response


def _act(http: httpx.Client, ident: str, action: str, body: Any, **headers: str) -> httpx.Response:
    response = http.post(f"/instances/{ident}/{action}", json=body, headers=headers)
    media = response.headers["content-type"]
    check_response(
        "post", f"/instances/{{id}}/{action}", response.status_code, media, response.json()
    )
    return response


def test_cancel_takes_the_cancel_path_and_history_says_who(api: ServiceProcess) -> None:
    with api.client() as http:
        made = start(http)
        answer = _act(http, made["id"], "cancel", {"operator": "ana"}, **{"If-Match": '"0"'})
        assert answer.status_code == 200
        assert (answer.json()["event"], answer.json()["outcome"]) == ("drop", "cancelled")
        assert answer.headers["etag"] == '"1"'
        [entry] = http.get(f"/instances/{made['id']}/history").json()["history"]
        assert entry["operator"] == {"action": "cancel", "by": "ana", "via": "api"}


def test_terminate_ends_now_and_says_why(api: ServiceProcess) -> None:
    with api.client() as http:
        made = start(http, "chain")
        answer = _act(http, made["id"], "terminate", {"operator": "ana", "reason": "stuck"})
        assert answer.status_code == 200
        after = http.get(f"/instances/{made['id']}").json()
        assert (after["state"], after["outcome"], after["due"]) == ("a", "terminated", None)
        history = http.get(f"/instances/{made['id']}/history").json()
        check_response("get", "/instances/{id}/history", 200, "application/json", history)
        assert history["history"][-1]["operator"]["reason"] == "stuck"


@pytest.mark.parametrize(
    ("setup", "action", "body", "headers", "status", "slug"),
    [
        ("ended", "terminate", {"operator": "ana"}, {}, 409, "action-not-allowed"),
        ("ended", "cancel", {"operator": "ana"}, {}, 409, "action-not-allowed"),
        ("review", "cancel", {"operator": "ana"}, {}, 409, "action-not-allowed"),
        ("open", "terminate", {"operator": "ana"}, {"If-Match": '"7"'}, 412, "version-mismatch"),
        ("open", "cancel", {}, {}, 400, "invalid-request"),
        ("open", "terminate", {"operator": "   "}, {}, 400, "invalid-request"),
        ("open", "terminate", {"operator": "a\nb"}, {}, 400, "invalid-request"),
        ("open", "cancel", {"operator": "ana", "x": 1}, {}, 400, "invalid-request"),
    ],
)
def test_a_refused_action_changes_nothing(
    api: ServiceProcess,
    setup: str,
    action: str,
    body: dict[str, Any],
    headers: dict[str, str],
    status: int,
    slug: str,
) -> None:
    with api.client() as http:
        made = start(http)
        ident = made["id"]
        if setup == "ended":
            send(http, ident, "drop")
        elif setup == "review":
            handed = send(http, ident, "close").json()["handed_to"]
            ident = handed
        before = (
            http.get(f"/instances/{ident}").json(),
            http.get(f"/instances/{ident}/history").json(),
        )
        answer = _act(http, ident, action, body, **headers)
        assert answer.status_code == status, answer.text
        assert answer.json()["type"].endswith(slug)
        after = (
            http.get(f"/instances/{ident}").json(),
            http.get(f"/instances/{ident}/history").json(),
        )
        assert after == before


def test_an_unknown_instance_is_a_404(api: ServiceProcess) -> None:
    with api.client() as http:
        answer = _act(http, "nobody-here", "terminate", {"operator": "ana"})
        assert answer.status_code == 404
