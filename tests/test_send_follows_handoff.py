"""`linkflow send` to an instance that handed off: the current instance of the chain takes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkflow.cli import main
from tests.support.store import BOARDS, TALLY


def linkflow(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_send_follows_the_handoff_as_status_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ("--store", f"sqlite:///{tmp_path / 'store.db'}")
    assert linkflow(capsys, "world", "load", str(BOARDS), *store)[0] == 0
    code, out = linkflow(capsys, "start", str(TALLY), "--data", '{"board": "main"}', *store)
    assert code == 0, out
    first = out.strip()
    code, out = linkflow(
        capsys, "send", first, "close", "--event-id", "c1", "--format", "json", *store
    )
    assert code == 0, out
    following = json.loads(out)["handed_to"]
    code, out = linkflow(capsys, "send", first, "approve", *store)
    assert code == 0, out
    assert out == f"{first} handed off; taken by {following}\napprove: reviewing -> approved\n"
    code, out = linkflow(
        capsys, "send", first, "close", "--event-id", "c1", "--format", "json", *store
    )
    assert code == 0, out
    assert (json.loads(out)["instance"], json.loads(out)["replayed"]) == (first, True)
    code, out = linkflow(capsys, "status", first, "--format", "json", *store)
    assert (json.loads(out)["id"], json.loads(out)["outcome"]) == (following, "completed")
