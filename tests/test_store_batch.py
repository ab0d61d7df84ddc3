"""Group commit in the store: `send_many` applies events in one transaction, each exactly as
`Store.send` would, on SQLite and on PostgreSQL. An event that is refused, raises or conflicts
leaves the others of its batch committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkflow.errors import UsageError
from linkflow.store import Conflict, NotFound, Sent, Store, StoreError
from linkflow.store.batch import EventRequest, send_many
from tests.support.store import BOARDS, TALLY, FakeClock, replay, start_world


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url, clock=FakeClock()) as opened:
        opened.load_world(BOARDS)
        yield opened


def _sent(outcome: Sent | Exception) -> Sent:
    assert isinstance(outcome, Sent), outcome
    return outcome


def test_a_batch_commits_every_event_in_order_in_one_transaction(store: Store) -> None:
    one = store.start(TALLY, {"board": "main"})
    two = store.start(TALLY, {"board": "main"})
    outcomes = send_many(
        store,
        [
            EventRequest(one.id, "add", {"item": "a"}),
            EventRequest(two.id, "add", {"item": "b"}),
            EventRequest(one.id, "add", {"item": "c"}),
        ],
    )
    seqs = [_sent(o).feed_seq or 0 for o in outcomes]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    assert [_sent(o).instance.version for o in outcomes] == [1, 1, 2]
    assert store.get(one.id).data["items"] == ["a", "c"]
    assert store.world("boards", "main")["main"]["items"] == ["a", "b", "c"]
    assert [(f.instance, f.event) for f in store.feed()] == [
        (one.id, "add"),
        (two.id, "add"),
        (one.id, "add"),
    ]
    assert send_many(store, []) == []


def test_refused_raising_and_conflicting_events_leave_the_others_committed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = store.start(TALLY, {"board": "main"})
    refused = store.start(TALLY, {"board": "nowhere"})
    faulty = store.start(TALLY, {"board": "main"})
    store.send(good.id, "add", {"item": "first"}, event_id="k")
    real_hand_off = store._hand_off

    def hand_off(tx: Any, instance: Any, after: Any) -> Any:
        # A fault after the event's history, world and instance rows were written: the
        # savepoint must take all of them back.
        if after.id == faulty.id:
            raise RuntimeError("a fault inside the event")
        return real_hand_off(tx, instance, after)

    monkeypatch.setattr(store, "_hand_off", hand_off)
    outcomes = send_many(
        store,
        [
            EventRequest(good.id, "add", {"item": "a"}),
            EventRequest(refused.id, "add", {"item": "x"}),
            EventRequest(faulty.id, "add", {"item": "lost"}),
            EventRequest("ghost", "add", {"item": "x"}),
            EventRequest(good.id, "add", {"item": "other"}, event_id="k"),
            EventRequest(good.id, "add", {"item": "x"}, expect_version=0),
            EventRequest(good.id, "add", ["not a mapping"]),  # type: ignore[arg-type]
            EventRequest(good.id, "add", {"colour": "red"}),
            EventRequest(good.id, "add", {"item": "b"}),
        ],
    )
    kinds = [type(o).__name__ for o in outcomes]
    assert kinds == [
        "Sent",
        "Sent",
        "RuntimeError",
        "NotFound",
        "Conflict",
        "Conflict",
        "UsageError",
        "Sent",
        "Sent",
    ]
    assert isinstance(outcomes[3], NotFound)
    assert isinstance(outcomes[6], UsageError)
    assert "already used" in str(outcomes[4])
    assert "not 0" in str(outcomes[5])
    assert _sent(outcomes[1]).step.refusal is not None
    assert _sent(outcomes[7]).step.refusal is not None  # a payload that misfits is a refusal
    assert store.get(good.id).data["items"] == ["first", "a", "b"]
    assert store.get(good.id).version == 3
    after = store.get(faulty.id)
    assert (after.version, after.data["items"]) == (0, [])
    assert store.history(faulty.id) == []
    assert [len(store.history(i)) for i in (good.id, refused.id)] == [4, 1]
    assert store.world("boards", "main")["main"]["items"] == ["first", "a", "b"]
    assert [f.instance for f in store.feed()] == [good.id] * 3


def test_two_events_of_one_instance_in_a_batch_see_each_other(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    outcomes = send_many(
        store,
        [
            EventRequest(started.id, "add", {"item": "a"}, event_id="e1", expect_version=0),
            EventRequest(started.id, "add", {"item": "a"}, event_id="e1"),
            EventRequest(started.id, "add", {"item": "b"}, expect_version=0),
            EventRequest(started.id, "add", {"item": "b"}, expect_version=1),
            EventRequest(started.id, "add", {"item": "z"}, event_id="e1"),
        ],
    )
    first, again, stale, next_one, reused = outcomes
    assert not _sent(first).replayed
    assert _sent(again).replayed
    assert isinstance(stale, Conflict)
    assert isinstance(reused, Conflict)
    assert _sent(next_one).instance.version == 2
    assert store.get(started.id).data["items"] == ["a", "b"]


def test_a_database_error_of_one_event_stays_with_that_event(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    outcomes = send_many(
        store,
        [
            EventRequest(started.id, "add", {"item": "a"}),
            # PostgreSQL's text cannot hold NUL; SQLite keeps it.
            EventRequest(started.id, "add", {"item": "b"}, event_id="nul\x00id"),
            EventRequest(started.id, "add", {"item": "c"}),
        ],
    )
    if store.backend.name == "postgresql":
        assert isinstance(outcomes[1], StoreError)
        assert "cannot write to the store" in str(outcomes[1])
        assert store.get(started.id).data["items"] == ["a", "c"]
    else:
        assert store.get(started.id).data["items"] == ["a", "b", "c"]
    assert isinstance(outcomes[0], Sent)
    assert isinstance(outcomes[2], Sent)


def test_a_failed_commit_fails_the_whole_batch_and_applies_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = store.start(TALLY, {"board": "main"})
    real = store.backend.write

    @contextmanager
    def failing_commit() -> Iterator[Any]:
        with real() as tx:
            yield tx
            raise StoreError("the commit failed")  # the backend rolls back

    monkeypatch.setattr(store.backend, "write", failing_commit)
    with pytest.raises(StoreError, match="commit failed"):
        send_many(store, [EventRequest(started.id, "add", {"item": "a"})] * 3)
    monkeypatch.undo()
    assert store.history(started.id) == []
    assert store.get(started.id).version == 0


# -- property: a batch equals the same events sent one by one ---------------------------------

_IDS = ("i0", "i1", "i2")
_EVENT = st.one_of(
    st.builds(
        lambda who, item, key, version: (who, "add", {"item": item}, key, version),
        st.sampled_from(_IDS),
        st.sampled_from(("a", "b")),
        st.sampled_from((None, "k1", "k2")),
        st.sampled_from((None, 0, 1, 2)),
    ),
    st.builds(
        lambda who, key: (who, "close", None, key, None),
        st.sampled_from((*_IDS, "ghost")),
        st.sampled_from((None, "k1")),
    ),
    st.builds(
        lambda who: (who, "sign", {"who": "ana", "password": "nope"}, None, None),
        st.sampled_from(_IDS),
    ),
)


def _open_pair(folder: Path) -> tuple[Store, Store]:
    pair = []
    for name in ("batched", "serial"):
        opened = Store.open(
            f"sqlite:///{folder / name}.db?synchronous=OFF", clock=FakeClock(5_000.0)
        )
        opened.load_world(BOARDS)
        for ident in _IDS:
            board = "nowhere" if ident == "i2" else "main"  # i2's adds are refused
            opened.start(TALLY, {"board": board}, instance_id=ident)
        pair.append(opened)
    return pair[0], pair[1]


def _shape(store: Store, outcome: Sent | Exception) -> tuple[Any, ...]:
    if isinstance(outcome, Exception):
        return (type(outcome).__name__, str(outcome).replace(store.where, "(the store)"))
    shown = outcome.as_dict()
    shown["handed_to"] = shown["handed_to"] is not None  # a new instance's id is random
    return (shown, outcome.step.refusal)


#: Each example opens two stores (about 0.6 s): a quarter of the profile's examples, so the
#: profile still decides (`ci` 25, `make fuzz` 750) rather than a fixed count.
@settings(max_examples=max(10, settings().max_examples // 4))
@given(batches=st.lists(st.lists(_EVENT, min_size=1, max_size=8), min_size=1, max_size=3))
def test_batches_equal_the_same_events_sent_one_by_one(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[tuple[Any, ...]]]
) -> None:
    batched, serial = _open_pair(tmp_path_factory.mktemp("batch"))
    with batched, serial:
        for batch in batches:
            outcomes = send_many(batched, [EventRequest(*event) for event in batch])
            for event, outcome in zip(batch, outcomes, strict=True):
                try:
                    alone: Sent | Exception = serial.send(
                        event[0], event[1], event[2], event_id=event[3], expect_version=event[4]
                    )
                except (Conflict, NotFound, UsageError) as err:
                    alone = err
                assert _shape(batched, outcome) == _shape(serial, alone)
        for ident in _IDS:
            assert batched.get(ident) == serial.get(ident)
            assert batched.history(ident) == serial.history(ident)
        assert batched.feed() == serial.feed()
        replayed, world = replay(batched, start_world())
        for ident, (state, data) in replayed.items():
            assert (batched.get(ident).state, batched.get(ident).data) == (state, data)
        assert batched.world("boards") == world.collections["boards"]
