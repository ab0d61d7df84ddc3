"""Items 4, 15 and 19: JSON from the command line and the Python API is strict and bounded,
and no usage error repeats what was typed (it may be a password)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from linkflow.errors import UsageError
from linkflow.language.loader import load_workflow
from linkflow.runtime.engine import Engine
from linkflow.runtime.steps import UNREADABLE_EVENT, RefusalKind
from tests.hostile.helpers import ROOT, cli, tiny_workflow, write

REVIEW = str(ROOT / "examples" / "document_review.yaml")
SECRET = "hunter2-canary"
DEEP = "[" * 60_000 + "]" * 60_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", '{"document": "' + "x" * 300 + '"}', "-e", "submit"], ""),
        (["--data", '{"document": ' + DEEP + "}"], "nested deeper than 32 levels"),
        (["-e", "submit=" + DEEP], "nested deeper than 32 levels"),
        (["-e", 'submit={"a": NaN}'], "NaN is not JSON"),
        (["-e", 'submit={"a": ' + "9" * 5000 + "}"], "a number is out of range"),
        (["--data", '{"document": 1e999}'], "a number is not finite"),
    ],
)
def test_inline_json_is_bounded_and_strict(args: list[str], message: str) -> None:
    done = cli("run", REVIEW, *args)
    assert "Traceback" not in done.stderr
    assert "File name too long" not in done.stderr
    if message:
        assert done.returncode == 2, done.stderr
        assert message in done.stderr
    else:  # a long inline JSON is read as JSON, never as a file name
        assert done.returncode == 1, done.stderr
        assert "There is no document 'xxx" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["-e", 'log_in{"password": "' + SECRET + '"}'],
        ["-e", 'submit={"password": "' + SECRET + '"'],
        ["--data", '{"password": "' + SECRET + '"'],
        ["--data", '{"password": "' + SECRET + '", "x": NaN}'],
        ["--format", "json", "-e", SECRET],
    ],
)
def test_usage_errors_never_echo_the_input(args: list[str]) -> None:
    done = cli("run", REVIEW, *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_an_event_name_that_is_not_a_name_is_refused_without_echo(tmp_path: Path) -> None:
    workflow = load_workflow(write(tmp_path / "t.yaml", tiny_workflow()))
    instance = Engine(workflow).create()
    step = instance.send('log_in{"password": "' + SECRET + '"}')
    assert step.refusal is not None
    assert step.refusal.kind is RefusalKind.UNKNOWN_EVENT
    assert step.event == UNREADABLE_EVENT
    assert SECRET not in repr(step) + repr(instance.history)
    assert instance.send(42).event == UNREADABLE_EVENT  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        object(),
        {1: "a"},
        2**70,
        {"set": {1, 2}},
        [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    ],
)
def test_a_payload_value_that_is_not_strict_json_is_refused(tmp_path: Path, value: Any) -> None:
    # The schema allows any field: only the value's JSON-ness can refuse it.
    payload = {"type": "object"}
    workflow = load_workflow(write(tmp_path / "t.yaml", tiny_workflow(payload=payload)))
    instance = Engine(workflow).create()
    step = instance.send("go", {"field": value})
    assert step.refusal is not None
    assert step.refusal.kind is RefusalKind.INVALID_PAYLOAD
    assert step.refusal.message.startswith("the payload must be plain JSON data: ")
    assert instance.state == "start"
    assert instance.send("go", {"field": [1.5, "ok", None, True]}).accepted


def test_initial_data_must_be_strict_json(tmp_path: Path) -> None:
    workflow = load_workflow(write(tmp_path / "t.yaml", tiny_workflow()))
    with pytest.raises(UsageError, match="is not plain JSON data: a number is not finite"):
        Engine(workflow).create({"note": math.nan})
