"""Shared fixtures: paths into the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


#: Fixture files under cases/ include scenarios that fail on purpose; they are data, not tests.
collect_ignore_glob = ["cases/*"]


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
