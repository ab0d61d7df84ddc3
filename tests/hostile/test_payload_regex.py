"""Item 3 (and issue 13's overlap): a payload `pattern` that is not a regular expression is a
located problem at validate, not a crash at run."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.helpers import cli, tiny_workflow, write


def test_an_invalid_pattern_is_reported_by_validate_located(tmp_path: Path) -> None:
    payload = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "[0-.]"},
            "fine": {"type": "string", "pattern": "^[a-z]+$"},
            "pattern": {"type": "string", "const": "[0-."},
        },
        "patternProperties": {"(": {"type": "string"}},
    }
    path = write(tmp_path / "regex.yaml", tiny_workflow(payload=payload))
    done = cli("validate", str(path))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stdout.splitlines() if "regular expression" in line]
    assert len(lines) == 2, done.stdout
    # JSON written with indent=1: the pattern's value sits on line 20, the key on line 32.
    assert lines[0].startswith(f"{path}:20:18:"), lines
    assert (
        "payload schema: '[0-.]' is not a valid regular expression (bad character range"
        in (lines[0])
    )
    assert "'(' is not a valid regular expression (missing )" in lines[1]


def test_run_never_meets_an_invalid_pattern(tmp_path: Path) -> None:
    payload = {"type": "object", "properties": {"code": {"type": "string", "pattern": "[0-.]"}}}
    path = write(tmp_path / "regex.yaml", tiny_workflow(payload=payload))
    done = cli("run", str(path), "-e", 'go={"code": "1"}')
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "regex.yaml:20:18: payload schema:" in done.stdout + done.stderr
