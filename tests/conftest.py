"""Shared fixtures: paths into the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


#: Fixture files under cases/ include scenarios that fail on purpose; they are data, not tests.
collect_ignore_glob = ["cases/*"]
