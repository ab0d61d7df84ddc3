"""The scenario check `nowhere:` finds a value wherever it is kept, and says where without
printing it; 16 scenarios rely on it to prove that a password is never stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkflow.testing.scenarios import run_scenario_file
from tests.hostile.helpers import tiny_workflow, write

PAYLOAD = {
    "type": "object",
    "properties": {
        "note": {"type": "string"},
        "pin": {"type": "string", "secret": True},
        "tag": {"type": "string"},
    },
}


def scenario(tmp_path: Path, value: str) -> Path:
    (tmp_path / "workflows").mkdir()
    actions = [{"set": {"path": "data.note", "value": "payload.note"}}]
    write(tmp_path / "workflows" / "tiny.yaml", tiny_workflow(payload=PAYLOAD, actions=actions))
    path = tmp_path / "s.yaml"
    path.write_text(
        "scenario: nowhere\nworkflow: tiny\nsteps:\n"
        "  - send: go\n"
        "    payload: {note: kept-in-data, pin: secret-4711, tag: kept-in-history}\n"
        f"    expect: {{nowhere: [{value}]}}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("value", "where"),
    [("kept-in-data", "the data of tiny"), ("kept-in-history", "the history of tiny")],
)
def test_nowhere_fails_where_the_value_is_kept(tmp_path: Path, value: str, where: str) -> None:
    result = run_scenario_file(scenario(tmp_path, value))
    assert [f.message for f in result.failures] == [
        f"a value that must appear nowhere was found in {where}"
    ]
    assert result.failures[0].location.line == 6
    assert value not in str(result.as_dict())


def test_nowhere_passes_for_a_secret(tmp_path: Path) -> None:
    result = run_scenario_file(scenario(tmp_path, "secret-4711"))
    assert result.passed, [str(f) for f in result.failures]
