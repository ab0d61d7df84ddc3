"""`linkflow cancel` and `linkflow terminate`: the operator action, recorded with who did it;
refused in one line (exit 1), with nothing changed, when the instance does not allow it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkflow.cli import main
from linkflow.store import Store
from tests.support.store import BOARDS, CHAIN, TALLY


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with Store.open(url) as store:
        store.load_world(BOARDS)
        store.start(TALLY, {"board": "main"}, instance_id="t1")
        store.start(CHAIN, instance_id="c1")
    return url


def test_cancel_and_terminate_record_the_operator(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cancel", "t1", "--operator", "ana", "--store", url]) == 0
    assert "cancel t1 by ana: drop open -> dropped (cancelled)" in capsys.readouterr().out
    code = main(
        ["terminate", "c1", "--operator", "ana", "--reason", "stuck", "--format", "json",
         "--store", url]
    )  # fmt: skip
    assert code == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "terminated"
    with Store.open(url) as store:
        assert store.history("t1")[-1].actor == {"action": "cancel", "by": "ana", "via": "cli"}
        assert store.history("c1")[-1].actor == {
            "action": "terminate", "by": "ana", "via": "cli", "reason": "stuck"
        }  # fmt: skip
        assert store.get("c1").due is None


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["terminate", "t1", "--expect-version", "4"], "is at version 0, not 4"),
        (["cancel", "nobody"], "no instance 'nobody'"),
    ],
)
def test_a_refusal_is_one_line_and_changes_nothing(
    url: str, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    with Store.open(url) as store:
        before = store.get("t1")
    assert main([*args, "--operator", "ana", "--store", url]) == 1
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err
    with Store.open(url) as store:
        assert store.get("t1") == before


def test_an_ended_instance_is_refused_with_the_reason(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["terminate", "c1", "--store", url]) == 0
    capsys.readouterr()
    assert main(["cancel", "c1", "--store", url]) == 1
    assert "already ended (terminated): there is nothing to cancel" in capsys.readouterr().err
