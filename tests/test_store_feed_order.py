"""The change feed on PostgreSQL without a counter row: a reader that follows it never skips an
entry that turns up later and never sees two out of order (docs/store.md, "The change feed on
PostgreSQL").

Feed numbers come from a sequence, so a transaction may commit its entry while another one
holding a lower number is still in flight. These tests make that happen on purpose: writers on
their own connections take numbers, hold their transactions open for random times, commit or
roll back, while a reader follows the feed through `Store.feed` (the function every reader
uses: store/feed.py). Bounded: a few writers, a few hundred transactions per seed.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from linkflow.store import Store
from linkflow.store.webhooks import Webhooks
from tests.support.postgres import PostgresServer
from tests.support.store import TALLY

psycopg = pytest.importorskip("psycopg")

APPEND = "SELECT linkflow_append_feed(%s, %s, %s, %s, %s, %s, %s)"


def append(conn: Any, instance: str, count: int = 1) -> int:
    """Append `count` entries for `instance` in the connection's open transaction; the first
    number (the writers' own statement, as the store runs it)."""
    rows = [[instance] * count, ["w"] * count, ["e"] * count, ["a"] * count, ["b"] * count]
    row = conn.execute(APPEND, (*rows, [None] * count, [time.time()] * count)).fetchone()
    return int(row[0])


@contextmanager
def opened(url: str) -> Iterator[Store]:
    with Store.open(url) as store:
        yield store


@pytest.fixture
def url(postgres: PostgresServer) -> str:
    url = postgres.database()
    with opened(url):  # migrated to the newest schema
        pass
    return url


def test_an_entry_committed_above_one_in_flight_waits_for_it(url: str) -> None:
    early = psycopg.connect(url)
    late = psycopg.connect(url)
    try:
        # `early` gets its transaction id first, `late` takes the lower feed number first.
        early_xid = int(early.execute("SELECT pg_current_xact_id()::text").fetchone()[0])
        late_xid = int(late.execute("SELECT pg_current_xact_id()::text").fetchone()[0])
        assert early_xid < late_xid
        assert append(late, "late") == 1
        assert append(early, "early") == 2
        early.commit()
        with opened(url) as store:
            with psycopg.connect(url) as plain:  # the entry is committed, and a plain read sees it
                assert plain.execute("SELECT seq FROM feed").fetchall() == [(2,)]
            # ... but a reader that took it would skip 1 when `late` commits. Ordering by the
            # writers' transaction ids would not help either: `early`'s is the lower one.
            assert store.feed() == []
            assert Webhooks(store).feed_head() == 0
            late.commit()
            assert [(e.seq, e.instance) for e in store.feed()] == [(1, "late"), (2, "early")]
            assert Webhooks(store).feed_head() == 2
    finally:
        early.close()
        late.close()


def test_a_number_whose_transaction_rolled_back_is_passed_over(url: str) -> None:
    gone = psycopg.connect(url)
    kept = psycopg.connect(url)
    try:
        assert append(gone, "gone", 2) == 1
        assert append(kept, "kept") == 3
        kept.commit()
        with opened(url) as store:
            assert store.feed() == []  # 1 and 2 may still come
            gone.rollback()
            assert [e.seq for e in store.feed()] == [3]
    finally:
        gone.close()
        kept.close()


def test_a_failed_append_lets_go_of_the_feed_lock_at_once(url: str) -> None:
    """The lock is held for the call only: one that fails (here a missing instance) lets it go
    while its session lives on, so other writers do not wait for that session to end."""
    failing = psycopg.connect(url)
    other = psycopg.connect(url, autocommit=True)
    try:
        with pytest.raises(psycopg.errors.NotNullViolation):
            failing.execute(APPEND, ([None], ["w"], ["e"], ["a"], ["b"], [None], [time.time()]))
        taken = other.execute("SELECT pg_try_advisory_lock(1818848875, 8)").fetchone()
        assert taken == (True,)
        other.execute("SELECT pg_advisory_unlock(1818848875, 8)")
        failing.rollback()
        assert append(failing, "after") == 2  # number 1 went with the failed call
        failing.commit()
    finally:
        failing.close()
        other.close()


def follow(store: Store, stop: threading.Event, seen: list[int], rng: random.Random) -> None:
    """Follow the feed as `linkflow feed --follow` does, with small random page sizes, until
    `stop` is set and a last read comes back empty."""
    after = 0
    while True:
        stopping = stop.is_set()
        entries = store.feed(after, rng.randint(1, 4))
        seen.extend(e.seq for e in entries)
        if entries:
            after = entries[-1].seq
        elif stopping:
            return
        else:
            time.sleep(rng.uniform(0, 0.002))


def write(url: str, name: str, transactions: int, rng: random.Random, errors: list[str]) -> None:
    """Random transactions on one connection: a transaction id taken before or after the
    entries, one to three appends of one to three entries, pauses in between, and one in
    five rolled back."""
    try:
        with psycopg.connect(url) as conn:
            for n in range(transactions):
                if rng.random() < 0.5:
                    conn.execute("SELECT pg_current_xact_id()")
                time.sleep(rng.uniform(0, 0.003))
                for _ in range(rng.randint(1, 3)):
                    append(conn, f"{name}-{n}", rng.randint(1, 3))
                    time.sleep(rng.uniform(0, 0.003))
                if rng.random() < 0.2:
                    conn.rollback()
                else:
                    conn.commit()
    except Exception as err:  # reported by the test: a thread's exception is otherwise lost
        errors.append(f"{name}: {err!r}")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_follower_never_skips_an_entry_nor_sees_one_out_of_order(url: str, seed: int) -> None:
    rng = random.Random(seed)
    writers, each = 4, 60
    errors: list[str] = []
    seen: list[int] = []
    stop = threading.Event()
    with opened(url) as store:
        reader = threading.Thread(target=follow, args=(store, stop, seen, random.Random(seed)))
        reader.start()
        threads = [
            threading.Thread(
                target=write, args=(url, f"w{i}", each, random.Random(rng.random()), errors)
            )
            for i in range(writers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        stop.set()
        reader.join(timeout=60)
        assert not reader.is_alive()
        assert not errors, errors
        final = [e.seq for e in store.feed(0, 1_000_000)]
    assert len(final) > writers * each  # the writers committed entries (most of 4 x 60 x ~4)
    assert seen == sorted(set(seen)), "the follower saw an entry twice or out of order"
    assert seen == final, f"the follower skipped {sorted(set(final) - set(seen))[:10]}"


def test_store_writers_on_several_connections_are_followed_gap_free(url: str) -> None:
    """The same with the store's own writers (events through `Store.send`, from several stores
    on their own connections at once): every accepted step is read once, in order."""
    errors: list[str] = []
    seen: list[int] = []
    stop = threading.Event()
    with opened(url) as store:
        store.start(TALLY, {"board": "main"})  # registers it; then started by name
        ids = [store.start("tally", {"board": "main"}).id for _ in range(160)]

        def send(share: list[str]) -> None:
            try:
                with opened(url) as own:
                    for instance_id in share:
                        assert own.send(instance_id, "drop").step.accepted
            except Exception as err:  # reported by the test
                errors.append(repr(err))

        reader = threading.Thread(target=follow, args=(store, stop, seen, random.Random(7)))
        reader.start()
        threads = [threading.Thread(target=send, args=(ids[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        stop.set()
        reader.join(timeout=60)
        assert not errors, errors
        final = store.feed(0, 1_000_000)
        assert sorted(e.instance for e in final) == sorted(ids)  # the drops, nothing else
    assert seen == [e.seq for e in final]
