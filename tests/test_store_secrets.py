"""A secret payload field never reaches the store: not the SQLite file, not a PostgreSQL dump."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linkflow.store import Conflict, Store
from tests.support.postgres import PostgresServer
from tests.support.store import BOARDS, TALLY, FakeClock

#: Accepted by the board's check (`^let-me-in`), so it also goes through an accepted step.
CANARY = "let-me-in-CANARY-5b1f0e"


def send_the_canary_everywhere(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    other = store.start(TALLY, {"board": "spare"})
    sends: list[tuple[str, str, dict[str, Any], str | None]] = [
        (started.id, "sign", {"who": "ana", "password": CANARY}, "ok-1"),  # accepted
        (started.id, "sign", {"who": "ana", "password": CANARY}, "ok-1"),  # replayed
        (other.id, "sign", {"who": "ben", "password": CANARY}, "no-1"),  # guard refuses
        (other.id, "sign", {"who": "ben", "password": CANARY, "x": 1}, None),  # bad payload
        (other.id, "add", {"item": "pen", "password": CANARY}, None),  # field of another event
        (other.id, "sgin", {"password": CANARY}, None),  # unknown event
    ]
    outcomes = [store.send(i, e, p, event_id=k).step.accepted for i, e, p, k in sends]
    assert outcomes == [True, True, False, False, False, False]
    with pytest.raises(Conflict):
        store.send(started.id, "add", {"item": CANARY[:3]}, event_id="ok-1")
    store.send(started.id, "close")
    store.fire_due(store.clock() + 3600)
    shown = [repr(store.history(i)) for i in (started.id, other.id)]
    shown += [repr(store.get(i)) for i in (started.id, other.id)]
    shown += [repr(store.feed()), repr(store.world("boards"))]
    assert CANARY not in "\n".join(shown)


def test_sqlite_file_holds_no_secret(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    with Store.open(f"sqlite:///{folder / 'linkflow.db'}", clock=FakeClock()) as store:
        store.load_world(BOARDS)
        send_the_canary_everywhere(store)
        written = b"".join(p.read_bytes() for p in folder.iterdir())  # the WAL too
    written += b"".join(p.read_bytes() for p in folder.iterdir())
    assert b"sign" in written  # the file does hold the history
    assert CANARY.encode() not in written
    assert b"CANARY" not in written


def test_postgresql_dump_holds_no_secret(postgres: PostgresServer) -> None:
    url = postgres.database()
    with Store.open(url, clock=FakeClock()) as store:
        store.load_world(BOARDS)
        send_the_canary_everywhere(store)
    dump = postgres.dump(url)
    assert b"sign" in dump  # the dump does hold the history
    assert b"CANARY" not in dump
