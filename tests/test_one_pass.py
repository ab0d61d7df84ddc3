"""One `validate` shows every problem of a file: the checks after a refused part still run, and
the messages point at a fix (did-you-mean, `==` for `=`, the accepted forms of a duration)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from linkflow.language.durations import DURATION_PATTERN, DurationError, parse_duration
from linkflow.language.expressions import Expression, ExpressionError
from linkflow.language.loader import load
from linkflow.language.schema_files import load_schema

ROOT = Path(__file__).resolve().parent.parent

BASE = """\
workflow: approval
initial: open
data:
  amount: 0
  approvals: []
bindings:
  approver_rec: {{from: people, key: data.approvals}}
states:
  open:
    waiting:
      for: an approver
      timeout: {{seconds: {seconds}, to: expired}}
  approved: {{final: completed}}
  expired: {{final: timed_out}}
events:
  approve:
    payload:
      type: object
      properties:
        approver: {{type: string}}
guards:
  is_director:
    when: {when}
    message: Only a director approves.
transitions:
  - event: approve
    from: open
    to: approved
    guards: [{guard}]
    actions:
      - add: {{path: {target}, value: payload.approver}}
"""


def workflow(tmp_path: Path, **changes: str) -> list[str]:
    """The problems `load` finds in BASE with some of its parts changed, as printed."""
    parts = {
        "seconds": "86400",
        "when": "payload.approver == 'ana'",
        "guard": "is_director",
        "target": "data.approvals",
    }
    path = tmp_path / "approval.yaml"
    path.write_text(BASE.format(**{**parts, **changes}), encoding="utf-8")
    return [str(p).removeprefix(f"{path}:") for p in load([path]).problems]


# -- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        (86400, 86400),
        (2.5, 2.5),
        ("2d", 172800),
        ("90m", 5400),
        ("1h30m", 5400),
        ("45s", 45),
        ("P2D", 172800),
        ("PT90M", 5400),
        ("P1DT12H", 129600),
        ("P1W", 604800),
    ],
)
def test_a_duration_is_read_in_every_accepted_form(written: object, seconds: float) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize("written", ["7 days", "P", "PT", "", "1y", "2D", "P2d", True, "0s"])
def test_a_bad_duration_says_what_is_accepted(written: object) -> None:
    with pytest.raises(DurationError) as err:
        parse_duration(written)
    message = str(err.value)
    assert "2d" in message or "ten years" in message
    if written not in {"0s"}:
        assert "P2D" in message


def test_the_schema_and_the_loader_accept_the_same_duration_forms() -> None:
    schema = load_schema("workflow.schema.json")
    timeout = schema["$defs"]["waiting"]["properties"]["timeout"]["properties"]["seconds"]
    assert timeout["pattern"] == DURATION_PATTERN
    assert timeout["type"] == ["number", "string"]
    step = load_schema("scenario.schema.json")["$defs"]["step"]["properties"]["wait"]
    assert step["pattern"] == DURATION_PATTERN
    assert step["type"] == ["number", "string"]


def test_a_workflow_waits_the_duration_it_writes(tmp_path: Path) -> None:
    path = tmp_path / "approval.yaml"
    path.write_text(
        BASE.format(
            seconds="1h30m",
            when="payload.approver == 'ana'",
            guard="is_director",
            target="data.approvals",
        ),
        encoding="utf-8",
    )
    result = load([path])
    assert result.problems == []
    timeout = result.workflows["approval"].states["open"].waiting
    assert timeout is not None
    assert timeout.timeout is not None
    assert timeout.timeout.seconds == 5400


def test_a_duration_of_no_accepted_form_is_located(tmp_path: Path) -> None:
    (problem,) = workflow(tmp_path, seconds="7 days")
    assert problem.startswith("12:26: '7 days' does not have the expected form")
    assert "2d, 90m, 1h30m" in problem
    assert "P2D" in problem


# -- expressions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        ("role = 'director'", "compare with `==`, not `=`"),
        ("a > 1 and b < 2", "CEL writes `&&` for `and`"),
        ("a or b", "CEL writes `||` for `or`"),
        ("not a", "CEL writes `!` for `not`"),
    ],
)
def test_another_languages_operators_get_a_hint(source: str, hint: str) -> None:
    with pytest.raises(ExpressionError) as err:
        Expression.compile(source)
    assert str(err.value).endswith(f"(hint: {hint})")


def test_operators_inside_quotes_get_no_hint() -> None:
    with pytest.raises(ExpressionError) as err:
        Expression.compile("a == 'x = y and z' +")
    assert "hint" not in str(err.value)


def test_a_bare_field_name_suggests_the_field(tmp_path: Path) -> None:
    assert workflow(tmp_path, when="amount > 10") == [
        "23:11: guard expression uses unknown name 'amount' (did you mean 'data.amount'?)"
    ]


def test_a_payload_field_wins_over_a_name_spelled_alike(tmp_path: Path) -> None:
    assert workflow(tmp_path, when="approver == 'ana'") == [
        "23:11: guard expression uses unknown name 'approver' (did you mean 'payload.approver'?)"
    ]


def test_an_unknown_guard_gets_a_did_you_mean(tmp_path: Path) -> None:
    assert workflow(tmp_path, guard="is_directr") == [
        "29:14: unknown guard 'is_directr' (did you mean 'is_director'?)"
    ]


def test_an_action_target_typo_is_a_problem(tmp_path: Path) -> None:
    assert workflow(tmp_path, target="data.aprovals") == [
        "31:21: path 'data.aprovals' writes data field 'aprovals', which `data` does not "
        "declare (did you mean 'approvals'?)"
    ]


# -- one pass -------------------------------------------------------------------------------


def test_schema_builder_and_target_problems_come_in_one_pass(tmp_path: Path) -> None:
    assert workflow(
        tmp_path, seconds="'7 days'", when="payload.approver = 'ana'", target="data.aprovals"
    ) == [
        "12:26: '7 days' does not have the expected form (How long to wait (at most ten years): "
        "a number of seconds (86400), or 2d, 90m, 1h30m, 45s, or ISO 8601 such as P2D, PT90M, "
        "P1DT12H)",
        "23:11: guard expression does not compile: syntax error: cannot read '= ' (at character "
        "18 of the expression) (hint: compare with `==`, not `=`)",
        "31:21: path 'data.aprovals' writes data field 'aprovals', which `data` does not declare "
        "(did you mean 'approvals'?)",
    ]


def test_a_refused_list_item_leaves_the_next_ones_located_where_they_are(tmp_path: Path) -> None:
    text = BASE.format(
        seconds="60", when="'true'", guard="is_director", target="data.approvals"
    ) + (
        "  - event: approve\n"
        "    from: open\n"
        "  - event: approve\n"
        "    from: open\n"
        "    to: expired\n"
        "    actions:\n"
        "      - set: {path: data.amont, value: '1'}\n"
    )
    path = tmp_path / "approval.yaml"
    path.write_text(text, encoding="utf-8")
    problems = [str(p).removeprefix(f"{path}:") for p in load([path]).problems]
    assert problems == [
        "32:5: missing required key 'to'",
        "38:21: path 'data.amont' writes data field 'amont', which `data` does not declare "
        "(did you mean 'amount'?)",
    ]


def test_a_copy_of_the_example_shows_all_its_mistakes_in_one_validate(tmp_path: Path) -> None:
    project = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", project)
    flow = project / "document_review.yaml"
    text = flow.read_text(encoding="utf-8")
    for old, new in (
        ("seconds: 86400", "seconds: 7 days"),
        ("path: data.approvals", "path: data.aprovals"),
        ("when: payload.code == doc.review_code", "when: payload.code = doc.review_code"),
    ):
        assert old in text
        text = text.replace(old, new)
    flow.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "linkflow", "validate", "--format", "json", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "LINKFLOW_ROOT": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problems = json.loads(result.stdout)["problems"]
    messages = [(p["line"], p["message"]) for p in problems if p["file"] == str(flow)]
    assert len(messages) == 3, problems
    (seconds, seconds_message), (guard, guard_message), (target, target_message) = messages
    assert seconds < guard < target
    assert "'7 days' does not have the expected form" in seconds_message
    assert "2d, 90m" in seconds_message
    assert "hint: compare with `==`, not `=`" in guard_message
    assert "did you mean 'approvals'?" in target_message
    # The language page shows this run's text output: it must be what the command prints.
    shown = subprocess.run(
        [sys.executable, "-m", "linkflow", "validate", "examples"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "LINKFLOW_ROOT": str(tmp_path), "NO_COLOR": "1"},
    )
    page = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    block = page.split("checks these lines):\n\n```text\n", 1)[1].split("```", 1)[0]
    assert (shown.stdout + shown.stderr).strip() == block.strip()


def test_a_misspelt_binding_in_an_expression_gets_a_did_you_mean(tmp_path: Path) -> None:
    assert workflow(tmp_path, when="approver_re != null") == [
        "23:11: guard expression uses unknown name 'approver_re' (did you mean 'approver_rec'?)"
    ]


def test_a_mangled_transition_gives_located_problems_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "approval.yaml"
    text = BASE.format(seconds="60", when="1 == 1", guard="is_director", target="data.approvals")
    path.write_text(
        text + "  - {event: [approve], from: open, to: expired, guards: [null, 5]}\n",
        encoding="utf-8",
    )
    problems = [str(p).removeprefix(f"{path}:") for p in load([path]).problems]
    assert problems == [
        "32:13: expected a string, got a list",
        "32:58: expected a string, got null",
        "32:64: expected a string, got a number",
    ]
