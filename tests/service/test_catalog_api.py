"""The workflows over HTTP, against a real server: listing, detail, diagrams, probes, 404s."""

from __future__ import annotations

from tests.service.server import ServiceProcess

PROBLEM = "application/problem+json"


def test_probes_answer(service: ServiceProcess) -> None:
    with service.client() as http:
        assert http.get("/healthz").json() == {"status": "alive"}
        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"


def test_workflows_are_listed_by_name(service: ServiceProcess) -> None:
    with service.client() as http:
        listed = http.get("/workflows").json()["workflows"]
    names = [w["name"] for w in listed]
    assert names == sorted(names)
    assert "link_login" in names
    login = next(w for w in listed if w["name"] == "link_login")
    assert login["states"] > 0
    assert login["events"] > 0


def test_a_workflow_shows_its_events_with_payload_schemas(service: ServiceProcess) -> None:
    with service.client() as http:
        detail = http.get("/workflows/link_login").json()
    assert detail["name"] == "link_login"
    assert "file" not in detail  # where the server keeps its files is not the client's business
    log_in = next(e for e in detail["events"] if e["name"] == "log_in")
    assert log_in["secret"] == ["password"]
    assert log_in["schema"]["properties"]["password"]["type"] == "string"
    assert {s["name"] for s in detail["states"]} >= {detail["initial"]}


def test_the_diagram_is_svg(service: ServiceProcess) -> None:
    with service.client() as http:
        first = http.get("/workflows/link_login/diagram.svg")
        again = http.get("/workflows/link_login/diagram.svg")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/svg+xml"
    assert first.content.lstrip().startswith(b"<?xml") or b"<svg" in first.content[:500]
    assert again.content == first.content


def test_unknown_names_and_paths_are_problems(service: ServiceProcess) -> None:
    with service.client() as http:
        unknown = http.get("/workflows/no_such_flow")
        missing = http.get("/nowhere")
        wrong_method = http.delete("/workflows")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    assert unknown.json()["type"] == "urn:linkflow:problem:unknown-workflow"
    assert "link_login" in unknown.json()["detail"]
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:linkflow:problem:not-found"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["type"] == "urn:linkflow:problem:method-not-allowed"
    assert "GET" in wrong_method.headers["allow"]


def test_each_request_is_one_json_log_line(service: ServiceProcess) -> None:
    with service.client() as http:
        http.get("/workflows/link_login")
        http.get("/workflows/no_such_flow")
    lines = [r for r in service.log_records() if r.get("message") == "request"]
    shown = [(r["method"], r["route"], r["status"]) for r in lines]
    assert ("GET", "/workflows/{name}", 200) in shown
    assert ("GET", "/workflows/{name}", 404) in shown
    assert all(isinstance(r["duration_ms"], float | int) for r in lines)
