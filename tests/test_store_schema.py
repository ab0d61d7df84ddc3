"""The store's schema upgrades in place, refuses a newer one, and fails with one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkflow.errors import UsageError
from linkflow.store import Store, StoreError
from linkflow.store.migrations import latest, migrations
from linkflow.store.url import parse, resolve
from tests.support.store import BOARDS, TALLY

FIXTURE = Path(__file__).parent / "fixtures" / "store_v1.json"


def make_v1_store(url: str) -> None:
    """A database as linkflow with schema version 1 left it (from tests/fixtures)."""
    fixture = json.loads(FIXTURE.read_text())
    assert fixture["schema_version"] == 1
    with Store.open(url, schema=1) as old, old.backend.write() as tx:
        for table, content in fixture["tables"].items():
            columns = content["columns"]
            marks = ", ".join("?" for _ in columns)
            for row in content["rows"]:
                tx.run(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", row)
        if old.backend.name == "postgresql":
            tx.run("UPDATE feed_head SET seq = (SELECT MAX(seq) FROM feed)")
        assert tx.one("SELECT version FROM linkflow_schema") == (1,)


def test_a_store_made_by_schema_version_1_is_upgraded_and_keeps_everything(
    store_url: str,
) -> None:
    assert latest("sqlite") == latest("postgresql") > 1
    make_v1_store(store_url)
    with Store.open(store_url) as store:
        with store.backend.read() as tx:
            assert tx.one("SELECT version FROM linkflow_schema") == (latest(store.backend.name),)
        assert {i.id for i in store.instances()} >= {"tally-1", "tally-2", "chain-1"}
        one = store.get("tally-1")
        assert (one.state, one.data["items"], one.version) == ("open", ["pen"], 1)
        assert [h.entry.accepted for h in store.history("tally-1")] == [True, False]
        assert store.current("tally-2").workflow == "tally_review"
        assert [f.seq for f in store.feed()] == [1, 2, 3]
        # It goes on working: event ids recorded before the upgrade still count.
        assert store.send("tally-1", "add", {"item": "pen"}, event_id="add-pen").replayed
        sent = store.send("tally-1", "add", {"item": "cup"})
        assert sent.feed_seq == 4
        # An id recorded before version 3 replays with the version and outcome it had then,
        # derived from the history (its feed number was not kept: null).
        old = store.send("tally-1", "add", {"item": "pen"}, event_id="add-pen")
        assert (old.replayed, old.instance.version, old.instance.outcome) == (True, 1, None)
        assert (old.handed_to, old.feed_seq) == (None, None)
        # One recorded after the upgrade keeps its whole first answer.
        new = store.send("tally-1", "add", {"item": "mug"}, event_id="add-mug")
        store.send("tally-1", "add", {"item": "jar"})
        assert store.send("tally-1", "add", {"item": "mug"}, event_id="add-mug").as_dict() == {
            **new.as_dict(),
            "replayed": True,
        }
        assert store.world("boards", "main")["main"]["items"] == ["pen", "cup", "mug", "jar"]


def test_a_store_made_by_a_newer_linkflow_is_refused(store_url: str) -> None:
    with Store.open(store_url) as store, store.backend.write() as tx:
        tx.run("UPDATE linkflow_schema SET version = 99")
    with pytest.raises(StoreError, match=r"made by a newer linkflow \(schema version 99"):
        Store.open(store_url)


def test_every_backend_has_the_same_migrations() -> None:
    names = {b: [m.name for m in migrations(b)] for b in ("sqlite", "postgresql")}
    assert names["sqlite"] == names["postgresql"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("linkflow.db", "is not a URL"),
        ("mysql://x/y", "unknown scheme 'mysql'"),
        ("sqlite://", "names no file"),
        ("sqlite:///x.db?synchronous=SOMETIMES", "synchronous must be one of"),
        ("sqlite:///x.db?colour=red", "unknown option 'colour'"),
        ("postgresql://h/db?pool_size=many", "pool_size must be a whole number"),
    ],
)
def test_a_malformed_url_names_the_forms_that_work(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(url)


def test_url_forms() -> None:
    assert parse("sqlite:///rel/x.db").path == Path("rel/x.db")
    assert parse("sqlite:////abs/x.db").path == Path("/abs/x.db")
    assert parse("sqlite:///x.db?synchronous=normal").options["synchronous"] == "NORMAL"
    pg = parse("postgresql://u:pw@db.example:5433/app?pool_size=8&sslmode=disable")
    assert pg.options == {"pool_size": "8"}
    assert pg.conninfo == "postgresql://u:pw@db.example:5433/app?sslmode=disable"
    assert pg.display() == "postgresql://db.example:5433/app"  # no password shown
    # Several hosts (libpq's multi-host form, as a primary and its standby are named).
    both = parse(
        "postgresql://u:pw@db1.example:5432,db2.example:5432/app"
        "?target_session_attrs=read-write&pool_size=8"
    )
    assert both.options == {"pool_size": "8"}
    assert both.conninfo == (
        "postgresql://u:pw@db1.example:5432,db2.example:5432/app?target_session_attrs=read-write"
    )
    assert both.display() == "postgresql://db1.example:5432,db2.example:5432/app"


def test_the_url_comes_from_the_option_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LINKFLOW_STORE", "sqlite:///from-env.db")
    assert resolve("sqlite:///given.db") == "sqlite:///given.db"
    assert resolve(None) == "sqlite:///from-env.db"
    monkeypatch.delenv("LINKFLOW_STORE")
    assert resolve(None) == "sqlite:///.linkflow/linkflow.db"


def test_an_unreachable_postgresql_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"cannot reach the store at postgresql://") as err:
        Store.open(f"postgresql://nobody@/nothing?host={tmp_path}")
    assert "\n" not in str(err.value)


def test_a_store_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    """As root no permission bit stops a write, so: a folder where the file should be, and a
    file where its folder should be."""
    (tmp_path / "a_file").write_text("")
    with pytest.raises(StoreError, match=r"cannot create the store's folder .*a_file"):
        Store.open(f"sqlite:///{tmp_path / 'a_file' / 'x.db'}")
    with pytest.raises(StoreError, match=r"cannot open the store at .*: unable to open"):
        Store.open(f"sqlite:///{tmp_path}")


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are not the tables you are looking for\n" * 200)
    with pytest.raises(StoreError, match=r"notes.db: file is not a database"):
        Store.open(f"sqlite:///{bogus}")


#: PRAGMA synchronous as SQLite reads it back.
SYNCHRONOUS_LEVELS = {"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}


def live_synchronous(store: Store) -> tuple[int, str]:
    """What the open connection really does: PRAGMA synchronous and the journal mode."""
    conn = store.backend.conn  # type: ignore[attr-defined]
    level = conn.execute("PRAGMA synchronous").fetchone()[0]
    journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    return level, journal


@pytest.mark.parametrize(
    ("url", "level"),
    [
        (None, "FULL"),  # the embedded default, .linkflow/linkflow.db
        ("sqlite:///relative.db", "FULL"),
        ("sqlite:///{tmp}/absolute.db", "FULL"),
        ("sqlite:///relative.db?synchronous=FULL", "FULL"),
        ("sqlite:///relative.db?synchronous=normal", "NORMAL"),
        ("sqlite:///{tmp}/absolute.db?synchronous=NORMAL", "NORMAL"),
        ("sqlite:///relative.db?synchronous=OFF", "OFF"),
        ("sqlite:///{tmp}/absolute.db?synchronous=off", "OFF"),
        ("sqlite:///relative.db?synchronous=Extra", "EXTRA"),
        ("sqlite:///{tmp}/absolute.db?synchronous=EXTRA", "EXTRA"),
    ],
)
def test_sqlite_syncs_as_the_url_says_and_fully_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str | None, level: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LINKFLOW_STORE", raising=False)
    given = url.format(tmp=tmp_path) if url else None  # {tmp} starts with /: sqlite:////...
    with Store.open(given) as store:
        assert live_synchronous(store) == (SYNCHRONOUS_LEVELS[level], "wal")
    files = [p.relative_to(tmp_path) for p in tmp_path.rglob("*.db")]
    assert len(files) == 1, files  # the file the URL names, nowhere else


def test_sqlite_from_the_environment_syncs_as_its_url_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LINKFLOW_STORE", "sqlite:///env.db?synchronous=NORMAL")
    with Store.open() as store:
        assert live_synchronous(store) == (SYNCHRONOUS_LEVELS["NORMAL"], "wal")
    monkeypatch.setenv("LINKFLOW_STORE", "sqlite:///env.db")
    with Store.open() as store:
        assert live_synchronous(store) == (SYNCHRONOUS_LEVELS["FULL"], "wal")


def test_an_entry_without_a_kept_answer_replays_its_handoff_from_the_rows(store_url: str) -> None:
    """Entries recorded before schema version 3 have no `answer`: the replay derives it."""
    with Store.open(store_url) as store:
        store.load_world(BOARDS)
        started = store.start(TALLY, {"board": "main"})
        store.send(started.id, "add", {"item": "pen"}, event_id="add")
        closed = store.send(started.id, "close", event_id="close")
        with store.backend.write() as tx:
            tx.run("UPDATE history SET answer = NULL")
        again = store.send(started.id, "close", event_id="close")
        assert closed.handed_to is not None
        assert again.handed_to is not None
        assert again.handed_to.id == closed.handed_to.id
        assert (again.instance.version, again.instance.outcome) == (2, "completed")
        added = store.send(started.id, "add", {"item": "pen"}, event_id="add")
        assert (added.instance.version, added.instance.outcome, added.handed_to) == (1, None, None)
