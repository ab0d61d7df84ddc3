"""One shared `linkflow serve` process for the read-only API tests (started once per module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.service.server import ServiceProcess


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    with ServiceProcess() as running:
        yield running
