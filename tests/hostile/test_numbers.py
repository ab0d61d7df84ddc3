"""Item 2: every number the language takes has a sane range; out-of-range values are located
problems, never a ValueError or OverflowError from deep inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkflow.language.yaml_loader import MAX_SAFE_INTEGER, parse_text
from tests.hostile.helpers import cli

HUGE_NUMBERS = {
    "decimal": "9" * 5000,
    "hexadecimal": "0x" + "f" * 5000,
    "octal": "0o" + "7" * 40,
    "float": "1e309",
    "negative": "-" + str(MAX_SAFE_INTEGER + 1),
}


@pytest.mark.parametrize("kind", sorted(HUGE_NUMBERS))
def test_a_number_out_of_range_is_a_located_problem(kind: str) -> None:
    text = f"workflow: w\nlimits:\n  big: {HUGE_NUMBERS[kind]}\n"
    doc, problems = parse_text(text, "w.yaml")
    assert [str(p) for p in problems] == [
        f"w.yaml:3:8: number out of range: numbers are limited to {MAX_SAFE_INTEGER:,} "
        "either way (quote it to keep it as text)"
    ]
    assert doc is not None
    assert doc.value["limits"]["big"] is None


def test_numbers_in_range_and_quoted_numbers_load() -> None:
    text = f"a: {MAX_SAFE_INTEGER}\nb: 0x1F\nc: 1.5e3\nd: '{'9' * 5000}'\n"
    doc, problems = parse_text(text, "w.yaml")
    assert problems == []
    assert doc is not None
    assert doc.value == {"a": MAX_SAFE_INTEGER, "b": 31, "c": 1500.0, "d": "9" * 5000}


WAITING = """\
workflow: waits
initial: a
states:
  a:
    waiting:
      for: something
      timeout: {seconds: SECONDS, to: b}
  b: {final: timed_out}
events: {}
transitions: []
"""


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        ("1e309", "7:26: number out of range"),
        ("1e300", "7:26: must be at most 315360000"),
        ("0", "7:26: must be more than 0"),
    ],
)
def test_timeout_seconds_have_a_range(tmp_path: Path, seconds: str, message: str) -> None:
    path = tmp_path / "waits.yaml"
    path.write_text(WAITING.replace("SECONDS", seconds), encoding="utf-8")
    done = cli("validate", str(path))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"waits.yaml:{message}" in done.stdout


@pytest.mark.parametrize(
    ("wait", "message"),
    [("1e400", "number out of range"), ("1e300", "must be at most 315360000")],
)
def test_a_scenario_wait_has_a_range(tmp_path: Path, wait: str, message: str) -> None:
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "waits.yaml").write_text(
        WAITING.replace("SECONDS", "10"), encoding="utf-8"
    )
    scenario = tmp_path / "wait.yaml"
    scenario.write_text(
        f"scenario: long wait\nworkflow: waits\nsteps:\n  - wait: {wait}\n", encoding="utf-8"
    )
    for command in ("validate", "test"):
        done = cli(command, str(scenario))
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert f"wait.yaml:4:11: {message}" in done.stdout, done.stdout
