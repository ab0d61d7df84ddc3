"""A workflow with compound states over HTTP: the state is the active leaf's dotted path, the
diagram draws the compound states, and a done event is taken within the step that entered the
done state."""

from __future__ import annotations

from pathlib import Path

from linkflow.store import Store
from tests.service.server import ServiceProcess
from tests.service.test_instances_api import send, start

ROOT = Path(__file__).resolve().parents[2]


def test_the_nested_example_over_http(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store.open(url) as store:
        store.load_world(ROOT / "examples" / "expense_world.yaml")
    examples = str(ROOT / "examples")
    with ServiceProcess(examples, store=url) as running, running.client() as http:
        created = start(http, "expense_claim", claim="taxi")
        ident = created["id"]
        assert created["state"] == "preparing.details"
        for event in ("next", "add_receipt"):
            assert send(http, ident, event).json()["accepted"] is True
        step = send(http, ident, "next").json()
        assert (step["from"], step["to"]) == ("preparing.receipts", "approval.manager")
        read = http.get(f"/instances/{ident}").json()
        assert read["state"] == "approval.manager"
        assert read["data"]["log"] == ["receipts", "receipts", "prepared", "approval started"]
        diagram = http.get("/workflows/expense_claim/diagram.svg")
        assert diagram.status_code == 200
        assert b"cluster_state_approval" in diagram.content


def test_the_parallel_examples_over_http(tmp_path: Path) -> None:
    """One event moving both regions is one step between configurations, and a state filter
    finds the instances whose configuration holds a leaf or a state around one."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    examples = str(ROOT / "examples")
    with ServiceProcess(examples, store=url) as running, running.client() as http:
        quote = start(http, "freight_quote")["id"]
        assert send(http, quote, "request").json()["accepted"] is True
        step = send(http, quote, "remind").json()
        assert (step["from"], step["to"]) == (
            "quoting.north.asked+quoting.south.asked",
            "quoting.north.reminded+quoting.south.reminded",
        )
        shipped = start(http, "onboarding", documents=1)["id"]
        fresh = start(http, "onboarding", documents=1)["id"]
        assert send(http, shipped, "ship").json()["accepted"] is True

        def listed(state: str) -> set[str]:
            page = http.get("/instances", params={"state": state, "limit": 100})
            assert page.status_code == 200, page.text
            return {i["id"] for i in page.json()["instances"]}

        assert listed("onboarding.equipment.shipped") == {shipped}
        assert listed("onboarding.documents.collecting") == {shipped, fresh}
        assert listed("quoting.south") == {quote}
        assert listed("quoting.north.asked") == set()
