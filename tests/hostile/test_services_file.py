"""A services file that would change the request's structure, smuggle a header, write a
credential or crash the loader is refused at load, each problem located in the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from linkflow.language.loader import load
from tests.hostile.helpers import ROOT, cli

EXAMPLE = ROOT / "examples" / "supplier_order"


def project(tmp_path: Path, change: dict[str, Any]) -> Path:
    """The supplier_order example with its `supplier` service changed by `change` (headers
    and response fields added to the example's, anything else replaced)."""
    shutil.copy(EXAMPLE / "supplier_order.yaml", tmp_path / "supplier_order.yaml")
    services = yaml.safe_load((EXAMPLE / "services.yaml").read_text(encoding="utf-8"))
    supplier = services["services"]["supplier"]
    for key, value in change.items():
        if key in ("headers", "response"):
            supplier[key] = {**supplier[key], **value}
        else:
            supplier[key] = value
    (tmp_path / "services.yaml").write_text(json.dumps(services, indent=1), encoding="utf-8")
    return tmp_path / "supplier_order.yaml"


def services_problems(tmp_path: Path, change: dict[str, Any]) -> list[str]:
    result = load([project(tmp_path, change)])
    return [str(p) for p in result.problems if "services.yaml" in str(p.location.file)]


REFUSED = [
    ({"headers": {"X-Note": "a\r\nX-Injected: 1"}}, "holds a line break"),
    ({"headers": {"X-Note": "a\nb"}}, "holds a line break"),
    ({"headers": {"X-Note": "ends with a line break\n"}}, "holds a line break"),
    ({"headers": {"X-Note": "a\x00b"}}, "a control character"),
    ({"headers": {"X-Note": "caf\u00e9"}}, "non-ASCII"),
    ({"headers": {"Host": "other.example"}}, "header 'Host' is written by the HTTP client"),
    ({"headers": {"content-length": "0"}}, "header 'content-length' is written by the HTTP"),
    ({"headers": {"Transfer-Encoding": "chunked"}}, "is written by the HTTP client"),
    ({"headers": {"Idempotency-Key": "fixed"}}, "header 'Idempotency-Key'"),
    ({"headers": {"Accept-Encoding": "gzip"}}, "header 'Accept-Encoding' is written by the"),
    ({"headers": {"X-Trace": "a", "x-trace": "b"}}, "header 'x-trace' is declared twice"),
    ({"headers": {"X-Custom": "Bearer abcdef123456"}}, "looks like a credential"),
    ({"headers": {"X-Custom": "basic dXNlcjpwYXNz"}}, "looks like a credential"),
    ({"base_url": "http://:8080"}, "base_url is not usable: it names no host"),
    ({"base_url": "http://h.example?x=1"}, "holds a query or fragment"),
    ({"base_url": "http://h.example/p#f"}, "holds a query or fragment"),
    ({"base_url": "http://h.example:99999"}, "base_url is not usable: it is not a URL"),
    ({"base_url": "http://h.example:abc"}, "base_url is not usable: it is not a URL"),
    ({"base_url": "http://[::1"}, "base_url is not usable: it is not a URL"),
    ({"base_url": "http://h\x00x"}, "a control character"),
    ({"base_url": "http://h.example\\x"}, "a control character"),
    ({"path": "x/{data.order_id}"}, "path must start with '/'"),
    ({"path": "{data.order_id}"}, "path must start with '/'"),
    ({"path": "http://other.example/x"}, "path must start with '/'"),
    ({"path": "/x\r\nHost: other"}, "path holds a space, a control character"),
    ({"path": "/x/{data.order_id"}, "a brace that is not a `{placeholder}`"),
    ({"path": "/x/{}"}, "a brace that is not a `{placeholder}`"),
    ({"path": "/x#frag"}, "a '#'"),
    ({"auth": {"scheme": "header", "header": "Host", "env": "T"}}, "header 'Host' is written"),
    (
        {
            "headers": {"X-Thing": "1"},
            "auth": {"scheme": "header", "header": "x-thing", "env": "T"},
        },
        "header 'x-thing' is declared under `headers` too",
    ),
    ({"auth": {"scheme": "bearer", "secret_file": "a\x00b"}}, "secret_file is not a usable path"),
    ({"timeout": "2h"}, "a call's timeout is at most 3600 seconds"),
    ({"timeout": 315360000}, "a call's timeout is at most 3600 seconds"),
    ({"response": {"id": {"$ref": "http://127.0.0.1:9/s.json"}}}, "'$ref' is not taken here"),
    ({"response": {"id": {"$ref": "#/nowhere"}}}, "'$ref' is not taken here"),
]


@pytest.mark.parametrize(("change", "expected"), REFUSED, ids=[repr(c) for c, _ in REFUSED])
def test_a_hostile_declaration_is_refused_where_it_stands(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    problems = services_problems(tmp_path, change)
    assert any(expected in p for p in problems), problems
    # located: file:line:column before the message
    assert all(p.split(":")[1].isdigit() and p.split(":")[2].isdigit() for p in problems)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"headers": {"Accept": "application/json", "User-Agent": "token-bot/1.0"}},
        {"base_url": "https://h.example:8443/api/v1"},
        {"base_url": "http://[::1]:8099"},
        {"timeout": "1h"},
        {"path": "/orders/{data.order_id}/reserve?sku={data.sku}"},
        {"auth": {"scheme": "header", "header": "X-Supplier-Auth", "env": "SUPPLIER_TOKEN"}},
    ],
)
def test_what_a_real_service_needs_still_loads(tmp_path: Path, change: dict[str, Any]) -> None:
    assert services_problems(tmp_path, change) == []


def test_a_nul_in_a_secret_file_path_is_a_located_problem_not_a_traceback(
    tmp_path: Path,
) -> None:
    path = project(tmp_path, {"auth": {"scheme": "bearer", "secret_file": "key\x00.txt"}})
    done = cli("validate", str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert "services.yaml:" in done.stdout + done.stderr
    assert "secret_file is not a usable path" in done.stdout + done.stderr
