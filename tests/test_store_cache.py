"""What a SQLite store remembers between transactions is never stale (store/cache.py).

Two `Store` objects on one file (two connections, as two processes would be) and a third,
plain sqlite3 connection that edits and deletes world records behind both, interleaved as
Hypothesis chooses: every step's answer, and at the end every instance, world record, history
and feed, must be what a model that knows nothing of caches says.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkflow.runtime.world import World
from linkflow.store import Conflict, Sent, Store
from tests.support.store import BOARDS, TALLY

ROOT = Path(__file__).resolve().parent.parent
#: flip: guarded by the record existing; sets data.count and the record's value to count + 1.
COUNTER = ROOT / "benchmarks" / "flows" / "durable_counter.yaml"
INSTANCES = 2

#: (who, what, which instance, a value): who is store 0 or 1, or 2 for the plain connection.
Op = tuple[int, str, int, int]
ops = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.sampled_from(["flip", "flip", "flip", "flip_id", "expect", "edit", "delete", "load"]),
        st.integers(0, INSTANCES - 1),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=40,
)


@dataclass
class Model:
    """What the store must hold: each instance's state and count, and the counter record."""

    state: list[str] = field(default_factory=lambda: ["low"] * INSTANCES)
    count: list[int] = field(default_factory=lambda: [0] * INSTANCES)
    value: int | None = 0
    accepted: int = 0
    used_ids: set[str] = field(default_factory=set)

    def flip(self, i: int) -> bool:
        if self.value is None:
            return False  # the guard: there is no counter
        self.state[i] = "high" if self.state[i] == "low" else "low"
        self.count[i] += 1
        self.value = self.count[i]
        self.accepted += 1
        return True


def _change_world(
    store: Store, plain: sqlite3.Connection, who: int, what: str, value: int
) -> int | None:
    """Delete, edit or import the counter record, behind the stores (who 2) or through one;
    the record's value after (None: deleted)."""
    if who == 2 and what == "delete":
        plain.execute("DELETE FROM world WHERE collection = 'counters'")
        return None
    if who == 2:
        plain.execute(
            "INSERT INTO world (collection, key, record, version) "
            "VALUES ('counters', 'c1', ?, 1) ON CONFLICT (collection, key) "
            "DO UPDATE SET record = excluded.record, version = world.version + 1",
            (json.dumps({"value": value}),),
        )
        return value
    store.load_world(World({"counters": {"c1": {"value": value}}}))
    return value


def _send(store: Store, model: Model, instance: str, what: str, value: int) -> Sent | None:
    """One flip as `what` says; None when it was (rightly) not applied."""
    if what == "expect":
        stale = model.accepted % 2  # now and then a version that is not the current one
        version = store.get(instance).version + stale
        try:
            sent = store.send(instance, "flip", expect_version=version)
        except Conflict:
            assert stale, "a current expect_version was refused"
            return None
        assert not stale, "a stale expect_version was taken"
        return sent
    if what == "flip_id":
        event_id = f"{instance}-e{value}"
        sent = store.send(instance, "flip", event_id=event_id)
        if sent.replayed:
            assert event_id in model.used_ids
            return None
        model.used_ids.add(event_id)
        return sent
    return store.send(instance, "flip")


def _run(url: str, path: Path, steps: list[Op]) -> None:
    model = Model()
    stores = [Store.open(url), Store.open(url)]
    plain = sqlite3.connect(path, isolation_level=None, timeout=60)
    try:
        stores[0].load_world(World({"counters": {"c1": {"value": 0}}}))
        ids = [stores[0].start(COUNTER, {"key": "c1"}).id for _ in range(INSTANCES)]
        for n, (who, what, i, value) in enumerate(steps):
            store = stores[who % 2]
            if what in ("edit", "delete", "load"):
                model.value = _change_world(store, plain, who, what, value)
                continue
            sent = _send(store, model, ids[i], what, value)
            if sent is None:
                continue
            assert sent.step.accepted == model.flip(i), (n, who, what, model)
            assert sent.instance.state == model.state[i]
            assert sent.instance.data["count"] == model.count[i]
        for store in stores:
            for i, instance_id in enumerate(ids):
                record = store.get(instance_id)
                assert (record.state, record.data["count"]) == (model.state[i], model.count[i])
                seqs = [e.seq for e in store.history(instance_id)]
                assert seqs == list(range(1, len(seqs) + 1))
            expected = {} if model.value is None else {"c1": {"value": model.value}}
            assert store.world("counters") == expected
            assert [e.seq for e in store.feed()] == list(range(1, model.accepted + 1))
    finally:
        plain.close()
        for store in stores:
            store.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ops)
def test_two_stores_and_a_plain_connection_never_see_a_stale_cache(steps: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.db"
        _run(f"sqlite:///{path}", path, steps)


def test_a_record_edited_behind_the_store_is_read_again(tmp_path: Path) -> None:
    """The simplest case the property covers, spelled out: a deleted record refuses the flip."""
    path = tmp_path / "store.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.load_world(World({"counters": {"c1": {"value": 0}}}))
        instance = store.start(COUNTER, {"key": "c1"}).id
        assert store.send(instance, "flip").step.accepted  # the record is now remembered
        plain = sqlite3.connect(path, isolation_level=None)
        plain.execute("DELETE FROM world")
        plain.close()
        refused = store.send(instance, "flip")
        assert not refused.step.accepted
        assert refused.step.refusal is not None
        assert refused.step.refusal.guard == "counter_exists"
        assert store.get(instance).version == 1


def test_threads_sharing_one_store_lose_no_update(tmp_path: Path) -> None:
    """Threads of one process share its connection, so the data version cannot tell them
    apart: a thread must never read a remembered record older than a commit it follows."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    threads, items = 4, 25
    with Store.open(url) as store:
        store.load_world(BOARDS)
        ids = [store.start(TALLY, {"board": "main"}).id for _ in range(threads)]

        def add(n: int) -> None:
            for k in range(items):
                assert store.send(ids[n], "add", {"item": f"t{n}-{k}"}).step.accepted

        workers = [threading.Thread(target=add, args=(n,)) for n in range(threads)]
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # threads switch often: a narrow race shows
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        finally:
            sys.setswitchinterval(interval)
        board = store.world("boards", "main")["main"]["items"]
    assert sorted(board) == sorted(f"t{n}-{k}" for n in range(threads) for k in range(items))


def test_a_stale_cache_is_read_again_and_counts_no_lost_race(tmp_path: Path) -> None:
    """Another Store's commit empties this one's cache at its next write: the event is run
    again on fresh rows, and `retries` (lost races, a service metric) does not count it."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store.open(url) as first, Store.open(url) as second:
        first.load_world(World({"counters": {"c1": {"value": 0}}}))
        instance = first.start(COUNTER, {"key": "c1"}).id
        assert first.send(instance, "flip").instance.version == 1  # now remembered by `first`
        assert second.send(instance, "flip").instance.version == 2
        third = first.send(instance, "flip")  # `first` remembered version 1: stale
        assert (third.instance.version, third.instance.data["count"]) == (3, 3)
        assert first.world("counters", "c1") == {"c1": {"value": 3}}
        assert first.retries == second.retries == 0
