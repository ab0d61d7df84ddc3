"""One rule for a test that cannot run here: in CI (CI=true) it fails, elsewhere it is skipped
with the reason. A skipped test proves nothing, so CI never accepts one."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def unavailable(reason: str) -> NoReturn:
    """Fail in CI, skip elsewhere, naming what is missing."""
    if in_ci():
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)
