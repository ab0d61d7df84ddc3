"""An instance keeps the definition it started on: the service checks an event's name and
payload against that one, not against a newer definition of the same workflow."""

from __future__ import annotations

from pathlib import Path

import httpx

from linkflow.store import Store
from tests.service.server import ServiceProcess

V1 = """\
workflow: doorbell
initial: idle
data:
  rings: 0
states:
  idle: {}
  answered: {final: completed}
events:
  ring:
    payload:
      type: object
      required: [who]
      additionalProperties: false
      properties:
        who: {type: string}
  answer: {}
transitions:
  - event: answer
    from: idle
    to: answered
  - event: ring
    from: idle
    to: idle
    actions:
      - set: {path: data.rings, value: data.rings + 1}
"""

#: v2 asks `ring` for one more field, and adds `buzz`.
V2 = (
    V1.replace("      required: [who]\n", "      required: [who, floor]\n")
    .replace(
        "        who: {type: string}\n",
        "        who: {type: string}\n        floor: {type: integer}\n",
    )
    .replace(
        "transitions:\n",
        "  buzz: {}\ntransitions:\n  - event: buzz\n    from: idle\n    to: idle\n",
    )
)


def send(http: httpx.Client, ident: str, event: str, payload: dict[str, object]) -> httpx.Response:
    return http.post(f"/instances/{ident}/events", json={"event": event, "payload": payload})


def test_events_are_checked_against_the_definition_the_instance_runs_on(tmp_path: Path) -> None:
    assert V2.count("floor") == 2
    assert V2.count("buzz") == 2
    for version, text in (("v1", V1), ("v2", V2)):
        (tmp_path / version).mkdir()
        (tmp_path / version / "doorbell.yaml").write_text(text, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store.open(url) as store:
        old = store.start(tmp_path / "v1" / "doorbell.yaml")  # pinned to v1
    with ServiceProcess(str(tmp_path / "v2"), store=url) as service, service.client() as http:
        served = http.get("/workflows/doorbell").json()
        new = http.post("/instances", json={"workflow": "doorbell"}).json()
        # The service registered v2 (its answers show a hash prefix): a new instance runs it.
        assert not old.definition.startswith(new["definition"])
        old_ring = send(http, old.id, "ring", {"who": "ana"})
        old_ring_v2 = send(http, old.id, "ring", {"who": "ana", "floor": 3})
        old_buzz = send(http, old.id, "buzz", {})
        new_ring = send(http, new["id"], "ring", {"who": "ana"})
        new_ring_v2 = send(http, new["id"], "ring", {"who": "ana", "floor": 3})
        new_buzz = send(http, new["id"], "buzz", {})
        old_after = http.get(f"/instances/{old.id}").json()
    assert "buzz" in str(served)
    # The old instance: v1's event and payload are accepted, v2's refused before the store.
    assert old_ring.status_code == 200, old_ring.text
    assert old_ring.json()["accepted"] is True
    assert old_ring_v2.status_code == 422, old_ring_v2.text
    assert old_ring_v2.json()["type"] == "urn:linkflow:problem:invalid-payload"
    assert old_buzz.status_code == 422, old_buzz.text
    assert old_buzz.json()["type"] == "urn:linkflow:problem:unknown-event"
    assert "(events: ring, answer)" in old_buzz.json()["detail"]
    assert old.definition.startswith(old_after["definition"])
    assert old_after["data"]["rings"] == 1
    # The new instance runs v2: the other way round.
    assert new_ring.status_code == 422, new_ring.text
    assert new_ring.json()["type"] == "urn:linkflow:problem:invalid-payload"
    assert new_ring_v2.status_code == 200, new_ring_v2.text
    assert new_ring_v2.json()["accepted"] is True
    assert new_buzz.status_code == 200, new_buzz.text
    assert new_buzz.json()["accepted"] is True
