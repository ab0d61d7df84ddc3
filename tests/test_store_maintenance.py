"""`linkflow backup` and `linkflow prune`: an online copy of a SQLite store that is consistent
while another writer goes on, and that opens as a store with everything in it; and retention
that deletes only finished handoff chains, in batches, leaving the change feed as it was."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks import prune as prune_benchmark
from linkflow.cli import main
from linkflow.errors import UsageError
from linkflow.store import NotFound, Store
from linkflow.store.maintenance import backup_sqlite, parse_date, prune
from tests.support.store import BOARDS, TALLY, FakeClock

DAY = 86_400.0


def _run(*argv: str) -> int:
    return main(list(argv))


def check_consistent(store: Store) -> int:
    """Every instance's data agrees with its history, and the shared world record with every
    instance: what one transaction wrote is in the copy whole or not at all. The number of
    items added."""
    everything: Counter[str] = Counter()
    instances = store.instances(limit=100_000)
    for record in instances:
        added = [
            e.entry.payload["item"]
            for e in store.history(record.id)
            if e.entry.accepted and e.entry.event == "add"
        ]
        assert record.data["items"] == added
        assert record.data["count"] == len(added) == record.version
        everything.update(added)
    assert Counter(store.world("boards", "main")["main"]["items"]) == everything
    return sum(everything.values())


def _fill(url: str, instances: int) -> list[str]:
    with Store.open(url) as store:
        store.load_world(BOARDS)
        return [store.start(TALLY, {"board": "main"}).id for _ in range(instances)]


def test_a_backup_taken_while_events_are_written_is_consistent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    ids = _fill(url, 5)
    stop = threading.Event()
    sent = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with Store.open(url) as store:
                n = 0
                while not stop.is_set() and n < 20_000:
                    sent_ = store.send(ids[n % len(ids)], "add", {"item": f"i{n}"})
                    assert sent_.step.accepted
                    n += 1
                    if n == 50:
                        sent.set()
        except BaseException as err:  # reported by the test thread
            errors.append(err)
            sent.set()

    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    try:
        assert sent.wait(60)
        for number in range(3):
            copy = tmp_path / f"copy{number}.db"
            backup_sqlite(tmp_path / "store.db", copy)
            copies.append(copy)
    finally:
        stop.set()
        thread.join(60)
    assert not errors
    with Store.open(url) as store:
        final = check_consistent(store)
    seen = []
    for copy in copies:
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        with Store.open(f"sqlite:///{copy}") as restored:
            seen.append(check_consistent(restored))
            assert {r.id for r in restored.instances()} == set(ids)
    assert all(50 <= n <= final for n in seen)
    assert seen == sorted(seen)  # each copy is a later moment than the one before


def test_a_restored_copy_has_every_instance_history_world_record_and_feed_entry(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    ids = _fill(url, 3)
    with Store.open(url) as store:
        for n, ident in enumerate(ids):
            store.send(ident, "add", {"item": f"x{n}"}, event_id=f"e{n}")
        store.send(ids[0], "close")
        store.load_world(BOARDS)  # a second version of the world records
        before: dict[str, Any] = {
            "instances": [r.as_dict() for r in store.instances()],
            "history": {r.id: store.history(r.id) for r in store.instances()},
            "world": store.world("boards"),
            "feed": store.feed(),
        }
    copy = tmp_path / "copy.db"
    code = _run("backup", "--store", url, str(copy))
    assert code == 0
    with Store.open(f"sqlite:///{copy}") as restored:
        assert [r.as_dict() for r in restored.instances()] == before["instances"]
        assert {r.id: restored.history(r.id) for r in restored.instances()} == before["history"]
        assert restored.world("boards") == before["world"]
        assert restored.feed() == before["feed"]
        # the restored store takes events, and answers an event id as the first send did
        again = restored.send(ids[1], "add", {"item": "x1"}, event_id="e1")
        assert again.replayed


def test_backup_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _fill(url, 1)
    copy = tmp_path / "copy.db"
    copy.write_text("keep me")
    code = _run("backup", "--store", url, str(copy))
    assert code == 2
    assert copy.read_text() == "keep me"
    code = _run("backup", "--store", url, str(copy), "--force")
    assert code == 0
    with Store.open(f"sqlite:///{copy}") as restored:
        assert len(restored.instances()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "store.db"]  # no partial
    with pytest.raises(UsageError):
        backup_sqlite(tmp_path / "store.db", tmp_path / "store.db", force=True)
    code = _run("backup", "--store", f"sqlite:///{tmp_path / 'none.db'}", str(tmp_path / "n"))
    assert code == 1
    assert not (tmp_path / "none.db").exists()  # a missing store is not created


def test_backup_of_a_postgresql_store_gives_the_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = _run(
        "backup", "--store", "postgresql://bob:s3cret@db.example:5433/flows", "/backups/f.dump"
    )
    assert code == 2
    err = capsys.readouterr().err
    assert (
        "pg_dump --format=custom --file=/backups/f.dump postgresql://bob@db.example:5433/flows"
        in err
    )
    assert "pg_basebackup --pgdata=/backups/f.dump.base" in err
    assert "s3cret" not in err


# -- retention ----------------------------------------------------------------------------------


def test_parse_date_reads_dates_and_datetimes_as_utc() -> None:
    assert parse_date("1970-01-02") == DAY
    assert parse_date("1970-01-02T01:00:00Z") == DAY + 3600
    assert parse_date("1970-01-02T01:00:00+01:00") == DAY
    with pytest.raises(UsageError):
        parse_date("last tuesday")


def _scene(store: Store, clock: FakeClock) -> dict[str, str]:
    """Instances finished on day 1, still running, finished on day 3, and handoff chains."""
    store.load_world(BOARDS)
    start: dict[str, Any] = {"board": "main"}
    ids = {name: store.start(TALLY, start).id for name in ("old", "old2", "old3", "running")}
    ids["chain_open"] = store.start(TALLY, start).id
    ids["chain_done"] = store.start(TALLY, start).id
    ids["late"] = store.start(TALLY, start).id
    store.send(ids["old"], "add", {"item": "a"}, event_id="old-add")
    clock.advance(DAY)  # day 1
    for name in ("old", "old2", "old3"):
        store.send(ids[name], "drop")
    ids["review_open"] = store.send(ids["chain_open"], "close").handed_to.id  # type: ignore[union-attr]
    ids["review_done"] = store.send(ids["chain_done"], "close").handed_to.id  # type: ignore[union-attr]
    store.send(ids["review_done"], "approve")
    clock.advance(2 * DAY)  # day 3
    store.send(ids["late"], "drop")
    return ids


def test_prune_deletes_only_whole_finished_chains_before_the_date(store_url: str) -> None:
    clock = FakeClock(now=0.0)
    with Store.open(store_url, clock=clock) as store:
        ids = _scene(store, clock)
        feed_before = store.feed()
        world_before = store.world("boards")
        assert prune(store, 2 * DAY, dry_run=True).instances == 5
        assert len(store.instances()) == 9  # a dry run deletes nothing
        result = prune(store, 2 * DAY, batch=2)
        assert (result.instances, result.batches) == (5, 3)
        gone = {"old", "old2", "old3", "chain_done", "review_done"}
        kept = {r.id for r in store.instances()}
        assert kept == {ids[n] for n in ids.keys() - gone}
        for name in gone:
            with pytest.raises(NotFound):
                store.history(ids[name])
        with store.backend.read() as tx:
            left = tx.one(
                "SELECT COUNT(*) FROM history WHERE instance IN (?, ?, ?, ?, ?)",
                [ids[name] for name in sorted(gone)],
            )
        assert left == (0,)
        # the recorded answer to an event id went with the instance
        with pytest.raises(NotFound):
            store.send(ids["old"], "add", {"item": "a"}, event_id="old-add")
        # the feed is an append-only log: the same entries, read from any point, none repeated
        assert store.feed() == feed_before
        seqs = [e.seq for e in feed_before]
        for after in (0, seqs[0], seqs[len(seqs) // 2], seqs[-1]):
            read = store.feed(after)
            assert [e.seq for e in read] == [s for s in seqs if s > after]
        assert store.world("boards") == world_before
        # nothing more is due before that date; a later date takes the rest that finished
        assert prune(store, 2 * DAY).instances == 0
        assert prune(store, 4 * DAY).instances == 1  # "late"; the open chain and "running" stay
        assert {r.id for r in store.instances()} == {
            ids["running"],
            ids["chain_open"],
            ids["review_open"],
        }


def test_prune_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    clock = FakeClock(now=0.0)
    with Store.open(url, clock=clock) as store:
        _scene(store, clock)
        feed = store.feed()
    code = _run("prune", "--store", url, "--finished-before", "1970-01-03", "--dry-run")
    assert code == 0
    code = _run("prune", "--store", url, "--finished-before", "1970-01-03", "--batch", "1")
    assert code == 0
    with Store.open(url) as store:
        assert len(store.instances()) == 4
    code = _run("feed", "--store", url, "--after", str(feed[2].seq), "--format", "json")
    assert code == 0
    code = _run("prune", "--store", url, "--finished-before", "soon")
    assert code == 2
    code = _run("prune", "--store", url, "--finished-before", "1970-01-03", "--batch", "0")
    assert code == 2


def test_the_prune_benchmark_runs_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        prune_benchmark.main(["--instances", "300", "--batch", "100", "--work", str(tmp_path)]) == 0
    )
    figures = json.loads(capsys.readouterr().out)
    assert (figures["instances"], figures["batches"], figures["running_kept"]) == (300, 3, 30)
    assert figures["instances_per_s"] > 0
    assert [p.name for p in tmp_path.iterdir()] == []  # its store is removed
