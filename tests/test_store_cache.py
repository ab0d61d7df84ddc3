"""What a SQLite store remembers between transactions is never stale (store/cache.py).

Two `Store` objects on one file (two connections, as two processes would be) and a third,
plain sqlite3 connection that edits and deletes world records behind both, interleaved as
Hypothesis chooses: every step's answer, and at the end every instance, world record, history
and feed, must be what a model that knows nothing of caches says.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkflow.runtime.world import World
from linkflow.store import Conflict, Store

ROOT = Path(__file__).resolve().parent.parent
#: flip: guarded by the record existing; sets data.count and the record's value to count + 1.
COUNTER = ROOT / "benchmarks" / "flows" / "durable_counter.yaml"
INSTANCES = 3

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
    used_ids: dict[str, int] = field(default_factory=dict)

    def flip(self, i: int) -> bool:
        if self.value is None:
            return False  # the guard: there is no counter
        self.state[i] = "high" if self.state[i] == "low" else "low"
        self.count[i] += 1
        self.value = self.count[i]
        self.accepted += 1
        return True


def _run(url: str, path: Path, steps: list[Op]) -> None:
    model = Model()
    stores = [Store.open(url), Store.open(url)]
    plain = sqlite3.connect(path, isolation_level=None, timeout=60)
    try:
        stores[0].load_world(World({"counters": {"c1": {"value": 0}}}))
        ids = [stores[0].start(COUNTER, {"key": "c1"}).id for _ in range(INSTANCES)]
        for n, (who, what, i, value) in enumerate(steps):
            store = stores[who % 2]
            if what in ("edit", "delete", "load") and who == 2:
                if what == "delete":
                    plain.execute("DELETE FROM world WHERE collection = 'counters'")
                    model.value = None
                else:
                    record = json.dumps({"value": value})
                    plain.execute(
                        "INSERT INTO world (collection, key, record, version) "
                        "VALUES ('counters', 'c1', ?, 1) ON CONFLICT (collection, key) "
                        "DO UPDATE SET record = excluded.record, version = world.version + 1",
                        (record,),
                    )
                    model.value = value
                continue
            if what in ("edit", "delete", "load"):
                store.load_world(World({"counters": {"c1": {"value": value}}}))
                model.value = value
                continue
            if what == "expect":
                stale = model.accepted % 2  # now and then a version that is not the current one
                version = sum(1 for _ in store.history(ids[i]) if _.entry.accepted) + stale
                try:
                    sent = store.send(ids[i], "flip", expect_version=version)
                except Conflict:
                    assert stale, "a current expect_version was refused"
                    continue
                assert not stale, "a stale expect_version was taken"
            elif what == "flip_id":
                event_id = f"e{value}"
                sent = store.send(ids[i], "flip", event_id=f"{ids[i]}-{event_id}")
                if sent.replayed:
                    assert f"{ids[i]}-{event_id}" in model.used_ids
                    continue
                model.used_ids[f"{ids[i]}-{event_id}"] = n
            else:
                sent = store.send(ids[i], "flip")
            assert sent.step.accepted == model.flip(i), (n, who, what, model)
            assert sent.instance.state == model.state[i]
            assert sent.instance.data["count"] == model.count[i]
        for store in stores:
            for i, instance_id in enumerate(ids):
                record = store.get(instance_id)
                assert (record.state, record.data["count"]) == (model.state[i], model.count[i])
                assert [e.seq for e in store.history(instance_id)] == list(
                    range(1, len(store.history(instance_id)) + 1)
                )
            expected = {} if model.value is None else {"c1": {"value": model.value}}
            assert store.world("counters") == expected
            assert [e.seq for e in store.feed()] == list(range(1, model.accepted + 1))
    finally:
        plain.close()
        for store in stores:
            store.close()


@settings(
    max_examples=40,
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
