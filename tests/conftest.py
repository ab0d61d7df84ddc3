"""Shared fixtures: paths into the repository, and a throwaway PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.leftovers import checkout_files, leftovers
from tests.support.postgres import PostgresServer, PostgresUnavailable, start_server
from tests.support.requirements import unavailable

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session", autouse=True)
def leaves_nothing_behind() -> Iterator[None]:
    """Tests keep their files in temporary folders and stop every process they start: a
    session that leaves a new file in the checkout, or a child process running, fails."""
    before = checkout_files(ROOT)
    yield
    left = leftovers(ROOT, before)
    assert not left, "the test run left things behind:\n" + "\n".join(left)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run. In CI (CI=true) not getting one is a failure;
    elsewhere the tests that need it are skipped, with the reason."""
    try:
        server = start_server()
    except PostgresUnavailable as err:
        unavailable(f"PostgreSQL could not start: {err}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.database()


#: Fixture files under cases/ include scenarios that fail on purpose; they are data, not tests.
collect_ignore_glob = ["cases/*"]

#: Tests that start servers, browsers, PostgreSQL or many processes, by file: marked `slow`, so
#: `make check-fast` (the inner loop) leaves them out; `make test` runs everything.
SLOW_FILES = {
    "test_bench_smoke.py",
    "test_install.py",
    "test_store_cli.py",
    "test_store_disk_full.py",
    "test_store_processes.py",
    "test_studio_browser.py",
    "test_studio_operations_browser.py",
    "test_core_install.py",
    "test_extras.py",
    "test_determinism.py",
    "test_webhooks.py",
    "test_effects_worker.py",
    "test_effects_cli.py",
    "test_effects_crash.py",
}
SLOW_FOLDERS = {"service", "fuzz"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path
        params = getattr(item, "callspec", None)
        on_postgres = params is not None and "postgresql" in params.params.values()
        if (
            path.name in SLOW_FILES
            or path.parent.name in SLOW_FOLDERS
            or on_postgres
            or "postgres" in getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.slow)


#: Hypothesis profiles. `ci` (the default, used by `make test`) is derandomised: the same
#: examples on every run and machine, so a red build is reproducible. `fuzz` (`make fuzz`) runs
#: many more, random ones. Choose with HYPOTHESIS_PROFILE.
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci",
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_QUIET,
)
settings.register_profile(
    "fuzz", max_examples=3000, deadline=None, print_blob=True, suppress_health_check=_QUIET
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
