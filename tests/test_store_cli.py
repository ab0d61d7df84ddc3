"""The store commands as a user runs them: separate processes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linkflow.cli import main
from linkflow.store import Store
from tests.support.store import BOARDS, CHAIN, TALLY, FakeClock

ROOT = Path(__file__).resolve().parent.parent


def search_path() -> str:
    parts = [str(ROOT), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    return os.pathsep.join(p for p in parts if p)


def linkflow(
    *args: str, store: str | None = None, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "linkflow", *args]
    if store is not None:
        command += ["--store", store]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
        # The caller's PYTHONPATH after the checkout: a worktree's `engine` folder runs the
        # linkflow under test, not the one the shared environment has installed.
        env={**os.environ, "PYTHONPATH": search_path(), **(env or {})},
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def test_start_send_status_history_instances_world_and_feed(store_url: str) -> None:
    s = store_url
    assert linkflow("world", "load", str(BOARDS), store=s).stdout == (
        f"loaded 2 records from {BOARDS}\n"
    )
    started = linkflow("start", str(TALLY), "--data", '{"board": "main"}', store=s)
    assert started.returncode == 0, started.stderr
    first = started.stdout.strip()
    sent = linkflow("send", first, 'add={"item": "pen"}', "--event-id", "k1", store=s)
    assert (sent.returncode, sent.stdout) == (0, "add: open -> open\n")
    again = linkflow("send", first, 'add={"item": "pen"}', "--event-id", "k1", store=s)
    assert "already sent with this event id: nothing applied" in again.stdout
    closed = linkflow("send", first, "close", "--expect-version", "1", "--format", "json", store=s)
    report = json.loads(closed.stdout)
    assert (report["accepted"], report["to"], report["version"]) == (True, "closed", 2)
    follow = report["handed_to"]
    status = linkflow("status", first, store=s)
    assert status.returncode == 0
    assert f"{first} handed off; now in {follow}" in status.stdout
    assert "state      reviewing   version 0" in status.stdout
    assert "  yes approve" in status.stdout
    history = linkflow("history", first, store=s).stdout.splitlines()
    assert [line.split("Z  ", 1)[1] for line in history] == [
        'add {"item": "pen"}: open -> open  (event id k1)',
        "close: open -> closed",
    ]
    listed = json.loads(
        linkflow("instances", "--workflow", "tally", "--format", "json", store=s).stdout
    )
    assert [(i["id"], i["outcome"]) for i in listed] == [(first, "completed")]
    table = linkflow("instances", store=s).stdout.splitlines()
    assert table[0].split() == [
        "ID",
        "WORKFLOW",
        "DEFINITION",
        "STATE",
        "OUTCOME",
        "VERSION",
        "UPDATED",
    ]
    assert len(table) == 3
    shown = json.loads(
        linkflow("world", "show", "boards", "main", "--format", "json", store=s).stdout
    )
    assert shown["items"] == ["pen"]
    feed = linkflow("feed", "--after", "1", "--format", "json", store=s).stdout.splitlines()
    assert [json.loads(line)["event"] for line in feed] == ["close"]
    assert " close open -> closed (completed)" in linkflow("feed", store=s).stdout


def test_errors_are_one_line_with_exit_1_or_2(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process (the CLI code is the same; separate processes are tested above)."""
    s = store_url
    with Store.open(s) as store:
        store.load_world(BOARDS)
        first = store.start(TALLY, {"board": "main"}).id
        store.send(first, "add", {"item": "pen"}, event_id="k1")
        where = store.where
    cases = [
        (("send", "ghost", "add"), 1, "no instance 'ghost' in the store"),
        (("status", "ghost"), 1, "no instance 'ghost'"),
        (("history", "ghost"), 1, "no instance 'ghost'"),
        (("send", first, "add={oops"), 2, "the payload of 'add' is not valid JSON"),
        (("send", first, 'add={"item": "ink"}', "--event-id", "k1"), 1, "was already used"),
        (("send", first, "close", "--expect-version", "0"), 1, "at version 1, not 0"),
        (("send", first, "add"), 1, "refused: the payload is missing required key 'item'"),
        (("start", "no_such_workflow"), 1, "no workflow named 'no_such_workflow'"),
        (("start", str(TALLY), "--data", '{"colour": 1}'), 2, "has no data field 'colour'"),
        (("world", "show", "boards", "nope"), 1, "no record 'nope' in collection 'boards'"),
    ]
    for args, code, message in cases:
        assert main([*args, "--store", s]) == code, args
        captured = capsys.readouterr()
        assert message in captured.out + captured.err, (args, captured)
        assert len(captured.err.strip().splitlines()) <= 1, captured.err
    assert main(["status", "ghost", "--format", "json", "--store", s]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "ok": False,
        "error": f"no instance 'ghost' in the store at {where}",
    }


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("nonsense", 2, "is not a URL"),
        ("sqlite:///x.db?synchronous=maybe", 2, "synchronous must be one of"),
        ("postgresql://nobody@/db?host=/nonexistent", 1, "cannot reach the store"),
    ],
)
def test_a_bad_store_url_is_one_line(url: str, code: int, message: str) -> None:
    result = linkflow("instances", store=url)
    assert result.returncode == code
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_store_from_a_newer_linkflow_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    with Store.open(url) as store, store.backend.write() as tx:
        tx.run("UPDATE linkflow_schema SET version = 99")
    result = linkflow("instances", store=url)
    assert result.returncode == 1
    assert "made by a newer linkflow" in result.stderr


def test_the_default_store_is_under_the_current_folder_unless_the_environment_names_one(
    tmp_path: Path,
) -> None:
    result = linkflow("start", str(CHAIN), cwd=tmp_path, env={"LINKFLOW_STORE": ""})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".linkflow" / "linkflow.db").is_file()
    other = tmp_path / "elsewhere.db"
    linkflow("start", str(CHAIN), cwd=tmp_path, env={"LINKFLOW_STORE": f"sqlite:///{other}"})
    assert other.is_file()
    assert len(Store.open(f"sqlite:///{other}").instances()) == 1


def test_timers_run_fires_what_came_due_while_nothing_ran(store_url: str) -> None:
    past = FakeClock(time.time() - 100)
    with Store.open(store_url, clock=past) as store:
        started = store.start(CHAIN)
    fired = linkflow("timers", "run", "--until-idle", "--format", "json", store=store_url)
    assert fired.returncode == 0, fired.stderr
    steps = [json.loads(line) for line in fired.stdout.splitlines()]
    assert [(s["from"], s["to"]) for s in steps] == [("a", "b"), ("b", "c"), ("c", "done")]
    with Store.open(store_url) as store:
        assert [h.entry.time for h in store.history(started.id)] == [
            started.entered + 10,
            started.entered + 20,
            started.entered + 30,
        ]
    assert linkflow("timers", "run", store=store_url).stdout == "nothing due\n"


def test_feed_follow_prints_new_steps_as_they_commit(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.load_world(BOARDS)
        started = store.start(TALLY, {"board": "main"})
        store.send(started.id, "add", {"item": "a"})
        follower = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "linkflow",
                "feed",
                "--follow",
                "--interval",
                "0.05",
                "--format",
                "json",
                "--store",
                store_url,
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            assert follower.stdout is not None
            first = json.loads(follower.stdout.readline())
            store.send(started.id, "add", {"item": "b"})
            store.send(started.id, "close")
            rest = [json.loads(follower.stdout.readline()) for _ in range(2)]
        finally:
            follower.terminate()
            follower.wait(timeout=30)
            if follower.stdout is not None:
                follower.stdout.close()
    assert [e["seq"] for e in [first, *rest]] == [1, 2, 3]
    assert [e["event"] for e in rest] == ["add", "close"]


def test_timers_run_forever_fires_as_timeouts_come_due_until_interrupted(
    store_url: str,
) -> None:
    with Store.open(store_url) as store:
        chained = store.start(CHAIN).id
        runner = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "linkflow",
                "timers",
                "run",
                "--forever",
                "--interval",
                "0.1",
                "--store",
                store_url,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            entered = time.time() - 12  # a came due 2 s ago; b comes due in 8 s
            later = store.start(CHAIN, instance_id="late")
            with store.backend.write() as tx:
                tx.run(
                    "UPDATE instances SET entered = ?, due = ? WHERE id = ?",
                    (entered, entered + 10, later.id),
                )
                # Not due for an hour, however slow this machine: it must not fire.
                tx.run("UPDATE instances SET due = ? WHERE id = ?", (time.time() + 3600, chained))
            deadline = time.monotonic() + 60
            while store.get("late").state == "a" and time.monotonic() < deadline:
                time.sleep(0.1)
            first = store.history("late")[0].entry
            assert (first.source, first.target, first.time) == ("a", "b", entered + 10)
            assert store.get(chained).state == "a"
            assert store.history(chained) == []
        finally:
            runner.send_signal(signal.SIGINT)
            try:
                out, err = runner.communicate(timeout=30)
            except subprocess.TimeoutExpired:  # never leave the runner behind
                runner.kill()
                runner.communicate()
                pytest.fail("the timer runner did not stop on SIGINT within 30 s")
    assert runner.returncode == 0, err
    assert "Traceback" not in err
    assert "late (chain) timed out at" in out
    assert ": a -> b" in out
