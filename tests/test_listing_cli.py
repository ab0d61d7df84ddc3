"""`linkflow instances` and `linkflow feed` page: filters, --after, and a line that says when
more remain; bad filters are one line and exit 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkflow.cli import main
from linkflow.store import Store
from tests.support.store import BOARDS, TALLY, FakeClock


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 's.db'}"
    clock = FakeClock()
    with Store.open(url, clock=clock) as store:
        store.load_world(BOARDS)
        for n in range(5):
            clock.advance(60)
            started = store.start(
                TALLY, {"board": "main" if n % 2 else "side"}, instance_id=f"t{n}"
            )
            store.send(started.id, "add", {"item": "pen"})
    return url


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def test_instances_pages_with_after_until_none_remain(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "instances", "--limit", "2", "--store", url)
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[1:3]] == ["t4", "t3"]
    assert lines[-1].startswith("more instances: go on with --after ")
    cursor = lines[-1].rsplit(" ", 1)[1]
    seen = ["t4", "t3"]
    while cursor:
        code, out, err = _run(
            capsys,
            "instances",
            "--limit",
            "2",
            "--after",
            cursor,
            "--format",
            "json",
            "--store",
            url,
        )
        assert code == 0
        seen += [r["id"] for r in json.loads(out)]
        cursor = err.strip().rsplit(" ", 1)[1] if err.startswith("more instances") else ""
    assert seen == ["t4", "t3", "t2", "t1", "t0"]


def test_instances_filters_by_data_and_time(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "instances", "--data", "board=main", "--format", "json", "--store", url
    )
    assert code == 0
    assert [r["id"] for r in json.loads(out)] == ["t3", "t1"]
    code, out, _ = _run(
        capsys, "instances", "--data", "count=1", "--state", "open", "--format", "json",
        "--store", url,
    )  # fmt: skip
    assert [r["id"] for r in json.loads(out)] == ["t3", "t1"]  # no board 'side': add refused
    code, out, _ = _run(
        capsys, "instances", "--created-from", "1970-01-12T13:50:00Z", "--format", "json",
        "--store", url,
    )  # fmt: skip
    # FakeClock starts at 1,000,000 s (1970-01-12T13:46:40Z); t3 and t4 start after 13:50.
    assert [r["id"] for r in json.loads(out)] == ["t4", "t3"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "board"], "a data filter is FIELD=VALUE"),
        (["--data", "a b=1"], "a data field is names of letters"),
        (["--created-from", "yesterday"], "is not an ISO 8601 date"),
        (["--after", "nope"], "a cursor is the text a listing gave out"),
        (["--limit", "0"], "--limit must be 1 or more"),
    ],
)
def test_a_bad_filter_is_one_line_and_exit_2(
    url: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = _run(capsys, "instances", *args, "--store", url)
    assert code == 2
    assert message in err


def test_feed_without_follow_says_when_more_remain(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two accepted steps (t1 and t3: board 'side' does not exist, so the others were refused).
    code, out, _ = _run(capsys, "feed", "--limit", "1", "--store", url)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[-1] == "more entries: go on with --after 1"
    code, out, err = _run(capsys, "feed", "--after", "1", "--format", "json", "--store", url)
    assert [json.loads(line)["seq"] for line in out.splitlines()] == [2]
    assert err == ""
