"""The OpenAPI document is true: every route is in it, every path in it is a route, and the
answers of a real server fit the response schemas it lists."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from starlette.routing import Route

from linkflow.language.loader import load_workflows
from linkflow.service.app import create_app
from linkflow.service.config import ServiceConfig
from linkflow.service.openapi import document
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
