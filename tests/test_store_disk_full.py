"""A full disk, simulated with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) on the `linkflow`
process: writes past it fail as they do on a full disk. Every command that cannot write must say
so in one line and exit 1; what was committed before stays, nothing half-written appears, and
once there is room again the store works on."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.store import BOARDS, TALLY

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE semantics")


def linkflow(db: Path, *args: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def cap() -> None:  # runs in the child before exec: the limit and the ignored signal stay
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [sys.executable, "-m", "linkflow", *args, "--store", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=cap,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def test_a_full_disk_fails_each_write_cleanly_and_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    assert linkflow(db, "world", "load", str(BOARDS)).returncode == 0
    first = linkflow(db, "start", str(TALLY), "--data", '{"board": "main"}')
    assert first.returncode == 0, first.stderr
    first_id = first.stdout.strip()
    limit = db.stat().st_size + 4096  # room for a page or so of instances, then full

    started: list[str] = []
    refused: subprocess.CompletedProcess[str] | None = None
    for number in range(100):
        run = linkflow(
            db,
            "start",
            str(TALLY),
            "--data",
            '{"board": "main"}',
            "--id",
            f"n{number}",
            limit=limit,
        )
        if run.returncode != 0:
            refused = run
            break
        started.append(run.stdout.strip())
    assert refused is not None, "the file-size limit was never reached"
    assert started, "the limit left no room at all: the test proves nothing"
    assert refused.returncode == 1
    assert refused.stderr.startswith("linkflow start: error: cannot write to the store")
    assert len(refused.stderr.strip().splitlines()) == 1

    sent = linkflow(db, "send", first_id, 'add={"item": "pen"}', limit=db.stat().st_size)
    assert sent.returncode == 1
    assert "cannot write to the store" in sent.stderr

    # Room again: everything committed is there, the refused start and send are not.
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = {row[0] for row in connection.execute("SELECT id FROM instances")}
    assert ids == {first_id, *started}
    status = json.loads(linkflow(db, "status", first_id, "--format", "json").stdout)
    assert status["version"] == 0
    again = linkflow(db, "send", first_id, 'add={"item": "pen"}', "--format", "json")
    assert json.loads(again.stdout)["accepted"] is True
    assert linkflow(db, "start", str(TALLY), "--data", '{"board": "main"}').returncode == 0
