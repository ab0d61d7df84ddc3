"""Real `linkflow serve` processes for the service tests, each started once per run.

`service` serves the project's workflows on a fresh SQLite store; `api` serves the test
workflows (tests/cases/store and tests/cases/service) on SQLite and on PostgreSQL, with the
boards world loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from linkflow.store import Store
from tests.service.server import ServiceProcess
from tests.support.postgres import PostgresServer
from tests.support.store import BOARDS, CASES

SERVICE_CASES = Path(__file__).resolve().parents[1] / "cases" / "service"
TEST_WORKFLOWS = (str(CASES), str(SERVICE_CASES))


def new_store(backend: str, request: pytest.FixtureRequest, folder: Path) -> str:
    """A fresh, empty store URL on `backend`, with the boards world loaded."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'store.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.database()
    with Store.open(url) as store:
        store.load_world(BOARDS)
    return url


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    folder = tmp_path_factory.mktemp("service")
    with ServiceProcess(store=f"sqlite:///{folder / 'store.db'}") as running:
        yield running


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    url = new_store(request.param, request, tmp_path_factory.mktemp("api"))
    with ServiceProcess(*TEST_WORKFLOWS, store=url) as running:
        running.backend = request.param
        yield running
