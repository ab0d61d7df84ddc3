"""Data-driven loader cases: every bad file prints exactly the lines in its `.expected` file.

`tests/cases/invalid/<name>.yaml` holds one kind of mistake; `<name>.expected` holds what
`linkflow validate tests/cases/invalid/<name>.yaml` prints, one `file:line:column: message` a
line. `tests/cases/valid/` holds files that must validate clean.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.cli import main
from engine.loader import load
from engine.yaml_loader import MAX_FILE_BYTES

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
