"""Load shedding and a store that goes away: 503 problems with Retry-After, never a 500.

The overload test runs the app in-process (a slow route mounted the way the studio will be), so
that "more requests than the limit at once" is exact rather than a race with a real server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, Router

from linkflow.language.loader import load_workflows
from linkflow.service.app import create_app
from linkflow.service.config import ServiceConfig
from tests.service.conftest import TEST_WORKFLOWS, new_store
from tests.service.server import ROOT, ServiceProcess
from tests.support.postgres import PostgresServer


def test_past_the_limit_requests_get_503_with_retry_after() -> None:
    release = asyncio.Event()

    async def slow(request: Request) -> PlainTextResponse:
        await release.wait()
        return PlainTextResponse("done")

    extra = Mount("/extra", app=Router(routes=[Route("/slow", slow)]))
    config = ServiceConfig(max_requests=2, timer_interval=0)
    app = create_app(config, workflows=load_workflows([ROOT / "workflows"]), mounts=[extra])

    async def scenario() -> tuple[list[httpx.Response], httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            held = [asyncio.create_task(http.get("/extra/slow")) for _ in range(2)]
            await asyncio.sleep(0.05)
            refused = await http.get("/workflows")
            release.set()
            done = await asyncio.gather(*held)
            after = await http.get("/workflows")
        return done, refused, after

    done, refused, after = asyncio.run(scenario())
    assert [r.text for r in done] == ["done", "done"]
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["type"] == "urn:linkflow:problem:overloaded"
    assert after.status_code == 200


def test_a_store_that_goes_away_is_503_and_readyz_says_so(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server: PostgresServer = request.getfixturevalue("postgres")
    url = new_store("postgresql", request, tmp_path)
    name = urlsplit(url).path.lstrip("/")
    with ServiceProcess(*TEST_WORKFLOWS, store=url) as service, service.client() as http:
        assert http.get("/readyz").status_code == 200
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        answers = [http.get("/instances"), http.get("/readyz")]
        logs = service.logs()
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["type"] == "urn:linkflow:problem:store-unavailable"
        assert answer.headers["retry-after"] == "1"
    assert "Traceback" not in logs
