"""The OpenAPI document is true: every route is in it, every path in it is a route, and the
answers of a real server fit the response schemas it lists."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from starlette.routing import Route

from linkflow.language.loader import load_workflows
from linkflow.service.app import create_app
from linkflow.service.config import ServiceConfig
from linkflow.service.instances import decode_cursor, encode_cursor
from linkflow.service.openapi import build_document, document
from linkflow.service.openapi_schemas import CURSOR_PATTERN, MAX_FEED_NUMBER
from linkflow.service.problems import MEDIA_TYPE
from tests.service.server import ROOT, ServiceProcess

METHODS = {"get", "post", "put", "patch", "delete"}


def app_operations() -> set[tuple[str, str]]:
    workflows = load_workflows([ROOT / "workflows"])
    app = create_app(ServiceConfig(), workflows=workflows)
    found = set()
    for route in app.routes:
        assert isinstance(route, Route), f"{route!r} is not a plain route"
        for method in route.methods or ():
            if method.lower() in METHODS:
                found.add((route.path, method.lower()))
    return found


def documented_operations() -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, operations in document()["paths"].items()
        for method in operations
        if method in METHODS
    }


def test_every_route_is_documented_and_every_documented_path_is_a_route() -> None:
    assert app_operations() == documented_operations()


def test_the_document_is_openapi_3_1_with_resolvable_references() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    text = str(doc)
    for name in doc["components"]["schemas"]:
        assert name in text
    refs = [part.split("'")[0] for part in text.split("'$ref': '")[1:]]
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"]


def check_response(method: str, path: str, status: int, content_type: str, body: Any) -> None:
    """The status is documented for the operation, and a JSON body fits its schema."""
    doc = document()
    operation = doc["paths"][path][method]
    assert str(status) in operation["responses"], f"{method} {path} -> {status} is undocumented"
    content = operation["responses"][str(status)].get("content", {})
    media = content_type.split(";", maxsplit=1)[0]
    assert media in content, f"{method} {path} -> {status} answers {media}"
    schema = content[media].get("schema")
    if schema is not None:
        resolver = {"components": doc["components"], **schema}
        jsonschema.Draft202012Validator(resolver).validate(body)


CALLS = [
    ("get", "/healthz", "/healthz"),
    ("get", "/readyz", "/readyz"),
    ("get", "/openapi.json", "/openapi.json"),
    ("get", "/workflows", "/workflows"),
    ("get", "/workflows/{name}", "/workflows/link_login"),
    ("get", "/workflows/{name}", "/workflows/unknown_flow"),
    ("get", "/workflows/{name}/diagram.svg", "/workflows/link_qr/diagram.svg"),
]


@pytest.mark.parametrize(("method", "template", "path"), CALLS)
def test_live_answers_fit_the_document(
    service: ServiceProcess, method: str, template: str, path: str
) -> None:
    with service.client() as http:
        response = http.request(method.upper(), path)
    media = response.headers["content-type"]
    body = response.json() if "json" in media else None
    check_response(method, template, response.status_code, media, body)


def served_document(secured: bool) -> dict[str, Any]:
    return build_document(secured=secured, workflows=load_workflows([ROOT / "workflows"]))


@pytest.mark.parametrize("secured", [False, True])
def test_every_schema_of_a_served_document_is_valid_json_schema_2020_12(secured: bool) -> None:
    doc = served_document(secured)
    for name, schema in doc["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as err:  # pragma: no cover - the message names it
            pytest.fail(f"{name}: {err.message}")
    text = json.dumps(doc)
    for ref in re.findall(r'"\$ref": "([^"]+)"', text):
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"], ref


def test_security_is_declared_only_when_a_token_is_set() -> None:
    open_doc, secured_doc = served_document(False), served_document(True)
    assert "security" not in open_doc
    assert "securitySchemes" not in open_doc["components"]
    assert "401" not in json.dumps(open_doc["paths"])
    assert secured_doc["security"] == [{"bearer": []}]
    assert secured_doc["paths"]["/healthz"]["get"]["security"] == []
    assert "401" in secured_doc["paths"]["/instances"]["post"]["responses"]


def test_workflows_events_and_data_are_the_served_ones() -> None:
    doc = served_document(False)
    workflows = load_workflows([ROOT / "workflows"])
    names = doc["paths"]["/workflows/{name}"]["get"]["parameters"][0]["schema"]["enum"]
    assert names == sorted(workflows)
    start = doc["paths"]["/instances"]["post"]["requestBody"]["content"]["application/json"]
    assert start["schema"]["discriminator"]["propertyName"] == "workflow"
    schemas = doc["components"]["schemas"]
    qr = schemas["Start.link_qr"]
    assert qr["properties"]["workflow"] == {"const": "link_qr"}
    assert set(schemas["Data.link_qr"]["properties"]) == set(workflows["link_qr"].data)
    events = {v["properties"]["event"]["const"]: v for v in schemas["Event.link_qr"]["anyOf"]}
    assert set(events) == {e for e in workflows["link_qr"].events if not e.startswith("$")}
    assert events["approve"]["required"] == ["event", "payload"]
    assert events["refresh"]["properties"]["payload"]["maxProperties"] == 0


def test_starting_links_to_the_instance_operations() -> None:
    doc = served_document(True)
    operations = {
        o["operationId"]
        for path in doc["paths"].values()
        for o in path.values()
        if "operationId" in o
    }
    for status in ("200", "201"):
        links = doc["paths"]["/instances"]["post"]["responses"][status]["links"]
        assert {link["operationId"] for link in links.values()} <= operations
        assert links["GetInstance"]["parameters"] == {"id": "$response.body#/id"}


def test_every_problem_field_is_documented_and_a_stale_if_match_names_the_version() -> None:
    doc = document()
    problem = doc["components"]["schemas"]["Problem"]
    assert problem["additionalProperties"] is False
    assert {"limit", "event", "current_version"} <= set(problem["properties"])
    stale = doc["paths"]["/instances/{id}/events"]["post"]["responses"]["412"]
    assert stale["content"][MEDIA_TYPE]["schema"] == {
        "$ref": "#/components/schemas/VersionMismatch"
    }


def test_the_served_document_says_whether_a_token_is_needed(service: ServiceProcess) -> None:
    with service.client() as http:
        doc = http.get("/openapi.json").json()
    assert "security" not in doc
    assert "Start.link_qr" in doc["components"]["schemas"]


@pytest.mark.parametrize(
    ("created", "ident"), [(1796000000.1234567, "a.b:c-d_e"), (0.0, "x"), (1e-05, "9"), (-2.5, "z")]
)
def test_every_cursor_given_out_fits_its_pattern_and_reads_back(created: float, ident: str) -> None:
    cursor = encode_cursor(created, ident)
    assert re.fullmatch(CURSOR_PATTERN, cursor)
    assert decode_cursor(cursor) == (created, ident)


def test_a_feed_number_past_the_maximum_is_refused_naming_the_maximum(
    service: ServiceProcess,
) -> None:
    with service.client() as http:
        answer = http.get("/feed", params={"after": str(MAX_FEED_NUMBER + 1)})
        stream = http.get(
            "/feed/stream", params={"after": "1" * 19}, headers={"Last-Event-ID": "0"}
        )
    for refused in (answer, stream):
        assert refused.status_code == 400
        assert f"from 0 to {MAX_FEED_NUMBER}" in refused.json()["detail"]
        assert "or more" not in refused.json()["detail"]
