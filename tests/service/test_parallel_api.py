"""A workflow with a parallel state over HTTP: the state is the regions' leaves joined by `+`,
stored in the same column (no migration: it is one string), and the diagram draws a box per
region."""

from __future__ import annotations

from pathlib import Path

from tests.service.server import ServiceProcess
from tests.service.test_instances_api import send, start

ROOT = Path(__file__).resolve().parents[2]


def test_the_parallel_example_over_http(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with ServiceProcess(str(ROOT / "examples"), store=url) as running, running.client() as http:
        created = start(http, "onboarding", documents=1)
        ident = created["id"]
        assert created["state"] == "onboarding.documents.collecting+onboarding.equipment.ordering"
        step = send(http, ident, "ship").json()
        assert (step["from"], step["to"]) == (
            "onboarding.documents.collecting+onboarding.equipment.ordering",
            "onboarding.documents.collecting+onboarding.equipment.shipped",
        )
        assert send(http, ident, "sign").json()["accepted"] is True
        read = http.get(f"/instances/{ident}").json()
        assert read["state"] == "onboarding.documents.signed+onboarding.equipment.shipped"
        last = send(http, ident, "receive").json()
        assert last["to"] == "working"
        assert [t["event"] for t in last["then"]] == ["done.state.onboarding"]
        assert http.get(f"/instances/{ident}").json()["outcome"] == "completed"
        diagram = http.get("/workflows/onboarding/diagram.svg")
        assert diagram.status_code == 200
        assert b"cluster_state_onboarding__equipment" in diagram.content
