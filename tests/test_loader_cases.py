"""Data-driven loader cases: every bad file prints exactly the lines in its `.expected` file.

`tests/cases/invalid/<name>.yaml` holds one kind of mistake; `<name>.expected` holds what
`linkflow validate tests/cases/invalid/<name>.yaml` prints, one `file:line:column: message` a
line. `tests/cases/valid/` holds files that must validate clean.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from linkflow.cli import main
from linkflow.language.loader import load
from linkflow.language.yaml_loader import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
INVALID = sorted((CASES / "invalid").glob("*.yaml"))
VALID = sorted((CASES / "valid").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in the expected output are relative to the repository root."""
    monkeypatch.chdir(ROOT)


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_there_are_cases() -> None:
    assert len(INVALID) >= 25
    assert len(VALID) >= 3
    for case in INVALID:
        assert case.with_suffix(".expected").is_file(), f"{case.name} has no .expected file"


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.name)
def test_invalid_case_prints_the_expected_lines(
    case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = case.with_suffix(".expected").read_text(encoding="utf-8")
    code = main(["validate", _relative(case)])
    out, err = capsys.readouterr()
    assert code == 1
    count = len(expected.splitlines())
    summary = f"{count} problem{'s' if count != 1 else ''} in 1 file\n"
    assert out + err == expected + summary


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.name)
def test_invalid_case_problems_are_located(case: Path) -> None:
    result = load([_relative(case)])
    assert not result.ok
    assert not result.workflows
    for problem in result.problems:
        assert problem.location.file == _relative(case)
        assert problem.location.line >= 1
        assert problem.location.column >= 1
        assert "Traceback" not in problem.message
        assert "\n" not in problem.message


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_valid_case_validates_clean(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", _relative(case)])
    out, err = capsys.readouterr()
    assert (code, out, err) == (0, "ok: 1 file valid\n", "")


def test_all_problems_of_all_files_are_reported_in_one_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cases = [CASES / "invalid" / f"{n}.yaml" for n in ("duplicate_key", "unknown_references")]
    code = main(["validate", *map(_relative, cases), _relative(VALID[0])])
    out, err = capsys.readouterr()
    expected = "".join(c.with_suffix(".expected").read_text(encoding="utf-8") for c in cases)
    assert code == 1
    assert out + err == expected + "5 problems in 3 files\n"


def test_alias_bomb_is_refused_fast() -> None:
    started = time.perf_counter()
    result = load([_relative(CASES / "invalid" / "alias_bomb.yaml")])
    elapsed = time.perf_counter() - started
    assert not result.ok
    assert elapsed < 1.0  # a safety check, not a benchmark: expanding it would take minutes


def test_a_huge_alias_bomb_is_refused_fast_too(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 30):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    result = load([bomb])
    assert time.perf_counter() - started < 1.0
    assert len(result.problems) == 30 + 29  # each anchor, and each alias once with its count
    assert "(*a28, used 10 times)" in result.problems[-1].message


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    filler = "# padding padding padding padding padding padding padding padding\n"
    big.write_text("workflow: big\n" + filler * (MAX_FILE_BYTES // len(filler) + 1))
    assert big.stat().st_size > MAX_FILE_BYTES
    started = time.perf_counter()
    result = load([big])
    assert time.perf_counter() - started < 1.0
    [problem] = result.problems
    assert (problem.location.line, problem.location.column) == (1, 1)
    assert problem.message.startswith("file is larger than 1024 KiB")


def test_a_file_just_under_the_limit_is_read(tmp_path: Path) -> None:
    text = (CASES / "valid" / "waiting_timeout.yaml").read_text(encoding="utf-8")
    padded = tmp_path / "padded.yaml"
    padded.write_text(text + "#" * (MAX_FILE_BYTES - len(text) - 1) + "\n", encoding="utf-8")
    assert padded.stat().st_size == MAX_FILE_BYTES
    assert load([padded]).ok


def test_missing_path_is_a_problem_not_a_crash() -> None:
    result = load(["tests/cases/no_such_file.yaml"])
    assert [str(p) for p in result.problems] == [
        "tests/cases/no_such_file.yaml: no such file or folder"
    ]


def test_a_folder_is_searched_for_yaml_files() -> None:
    result = load([_relative(CASES / "valid")])
    assert result.ok, result.problems
    assert sorted(result.files) == [_relative(p) for p in VALID]
    assert set(result.workflows) == {"document_review", "login", "norway", "routing"}


# -- builder and graph checks, one mistake each -------------------------------------------------

BASE = """\
workflow: tiny
initial: start
data: {tags: [], n: 0}
states:
  start: {}
  done: {final: completed}
events:
  go: {}
transitions:
  - event: go
    from: start
    to: done
"""
SECRET_EVENT = "  go: {payload: {type: object, properties: {pin: {type: string, secret: true}}}}"
ACTIONS = "    actions:\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            BASE.replace("  go: {}", "  go: {}\n  spare: {}"),
            ["9:3: event 'spare' is declared but no transition uses it"],
            id="unused-event",
        ),
        pytest.param(
            BASE.replace("transitions:", "guards:\n  g: {when: 'true', message: m}\ntransitions:"),
            ["10:3: guard 'g' is defined but no transition uses it"],
            id="unused-guard",
        ),
        pytest.param(
            BASE.replace("transitions:", "exclusive: [[a, b]]\ntransitions:"),
            ["9:14: unknown guard 'a'", "9:17: unknown guard 'b'"],
            id="exclusive-unknown-guards",
        ),
        pytest.param(
            BASE + "  - event: go\n    from: done\n    to: start\n",
            ["14:11: 'done' is a final state: no transition may leave it"],
            id="leaving-a-final-state",
        ),
        pytest.param(
            BASE.replace("initial: start", "initial: done"),
            ["2:10: the initial state 'done' must not be final"],
            id="initial-is-final",
        ),
        pytest.param(
            BASE.replace(
                "  start: {}", "  start: {waiting: {for: x, timeout: {seconds: 1, to: nowhere}}}"
            ),
            ["5:55: timeout leads to unknown state 'nowhere'"],
            id="timeout-to-unknown-state",
        ),
        pytest.param(
            BASE + ACTIONS + "      - set: {path: world.docs, value: '1'}\n"
            "      - set: {path: thing.x, value: '1'}\n"
            "      - set: {path: data, value: '1'}\n"
            "      - set: {path: 'data.x[', value: '1'}\n",
            [
                "14:21: path 'world.docs': write world paths as world.<collection>[<key>]",
                "15:21: path 'thing.x' starts with unknown name 'thing'",
                "16:21: path 'data': name a field of data, as in data.field",
                "17:21: path 'data.x[': unclosed '[' at character 7",
            ],
            id="action-paths",
        ),
        pytest.param(
            BASE + ACTIONS + "      - set: {path: data.n, value: '1', each: true}\n"
            "      - append: {path: data.tags}\n",
            [
                "14:47: `each` goes with append, add or remove, not set",
                "15:17: `append` needs a `value`",
            ],
            id="action-verbs",
        ),
        pytest.param(
            BASE + ACTIONS + "      - add: {path: data.tags, value: data, "
            "for_each: {item: data, in: '[1]'}}\n",
            ["14:62: 'data' is already a name here"],
            id="for-each-shadows-a-name",
        ),
        pytest.param(
            BASE.replace("  go: {}", SECRET_EVENT)
            + ACTIONS
            + "      - set: {path: data.n, value: payload.pin}\n",
            ["14:36: an action may not use the secret payload field 'pin'"],
            id="secret-in-an-action",
        ),
        pytest.param(
            # `is_x` is fine for a data field: only state and event names take the prefixes.
            BASE.replace("data: {tags: [], n: 0}", "data: {tags: [], state: 1, send: 2, is_x: 3}"),
            [
                "3:18: data field name 'state' is reserved by the engine; choose another name",
                "3:28: data field name 'send' is reserved by the engine; choose another name",
            ],
            id="reserved-data-fields",
        ),
        pytest.param(
            BASE.replace("  go: {}", "  go: {payload: {type: objekt}}"),
            [
                "8:24: payload schema: must be one of: array, boolean, integer, null, number, "
                "object, string (got 'objekt')"
            ],
            id="payload-schema-itself-invalid",
        ),
        pytest.param(
            BASE.replace("done: {final: completed}", "done: {}")
            + "  - event: go\n    from: done\n    to: start\n",
            [
                "1:11: the workflow has no final state",
                "5:3: state 'start' cannot reach a final state: an instance would be stuck there",
                "6:3: state 'done' cannot reach a final state: an instance would be stuck there",
            ],
            id="no-final-state",
        ),
        pytest.param(
            BASE.replace("  go: {}", "  go: {}\n  loop: {}").replace("  done:", "  a: {}\n  done:")
            + "  - event: loop\n    from: start\n    to: a\n"
            "  - event: loop\n    from: a\n    to: start\n",
            [],
            id="a-cycle-with-a-way-out-is-fine",
        ),
        pytest.param(
            BASE.replace("  go: {}", "  go: {}\n  loop: {}").replace(
                "  done:", "  a: {}\n  b: {}\n  done:"
            )
            + "  - event: loop\n    from: start\n    to: a\n"
            "  - event: loop\n    from: a\n    to: b\n"
            "  - event: loop\n    from: b\n    to: a\n",
            [
                "6:3: state 'a' cannot reach a final state: an instance would be stuck there",
                "7:3: state 'b' cannot reach a final state: an instance would be stuck there",
            ],
            id="a-trap-cycle",
        ),
        pytest.param(
            BASE.replace(
                "transitions:", "guards:\n  g: {when: 'data.n > 0', message: m}\ntransitions:"
            )
            + "  - event: go\n    from: start\n    to: done\n    guards: ['!g']\n",
            [
                "18:14: guard 'g' is used negated but has no `message_when_true` "
                "to explain that refusal"
            ],
            id="negated-guard-without-its-message",
        ),
        pytest.param(
            BASE.replace(
                "transitions:",
                "guards:\n  g: {when: 'data.n > 0', message: m, message_when_true: t}\n"
                "transitions:",
            ).replace("    to: done\n", "    to: done\n    guards: [g]\n")
            + "  - event: go\n    from: start\n    to: done\n    guards: ['!g']\n",
            [],
            id="a-guard-and-its-negation-are-exclusive",
        ),
    ],
)
def test_builder_and_graph_problems(text: str, expected: list[str], tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    result = load([path])
    assert [f"{p.location.line}:{p.location.column}: {p.message}" for p in result.problems] == (
        expected
    )
    assert result.ok is (expected == [])
