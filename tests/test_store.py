"""The durable store's Python API, the same tests on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkflow.errors import UsageError
from linkflow.store import Conflict, NotFound, Store, StoreError
from linkflow.store import timers as timers_module
from tests.support.store import BOARDS, CHAIN, TALLY, FakeClock, replay, start_world


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[Store]:
    with Store.open(store_url, clock=clock) as opened:
        opened.load_world(BOARDS)
        yield opened


def test_an_accepted_event_changes_instance_world_history_and_feed(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    assert (started.state, started.version, started.session) == ("open", 0, started.id)
    sent = store.send(started.id, "add", {"item": "pen"})
    assert sent.step.accepted
    assert not sent.replayed
    assert sent.instance.version == 1
    again = store.get(started.id)
    assert again.data["items"] == ["pen"]
    assert again.data["count"] == 1
    assert store.world("boards", "main")["main"]["items"] == ["pen"]
    assert [(h.entry.event, h.entry.payload) for h in store.history(started.id)] == [
        ("add", {"item": "pen"})
    ]
    feed = store.feed()
    assert [(f.seq, f.instance, f.event, f.source, f.target) for f in feed] == [
        (sent.feed_seq, started.id, "add", "open", "open")
    ]


def test_a_refused_event_changes_nothing_but_its_history_entry(store: Store) -> None:
    started = store.start(TALLY, {"board": "nowhere"})
    sent = store.send(started.id, "add", {"item": "pen"})
    assert sent.step.refusal is not None
    assert sent.step.refusal.guard == "board_exists"
    after = store.get(started.id)
    assert (after.version, after.data, after.updated) == (0, started.data, started.updated)
    assert store.world("boards", "nowhere") == {}
    assert store.feed() == []
    [entry] = store.history(started.id)
    assert not entry.entry.accepted
    assert entry.entry.refusal is not None


def test_the_same_event_id_returns_the_recorded_step_and_applies_nothing(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    first = store.send(started.id, "add", {"item": "pen"}, event_id="e-1")
    second = store.send(started.id, "add", {"item": "pen"}, event_id="e-1")
    assert second.replayed
    assert second.step.accepted
    assert (second.step.event, second.step.target) == (first.step.event, first.step.target)
    assert second.step.transition is first.step.transition
    assert store.get(started.id).data["items"] == ["pen"]
    assert len(store.history(started.id)) == 1
    assert len(store.feed()) == 1
    assert store.world("boards", "main")["main"]["items"] == ["pen"]


def test_a_replay_answers_as_the_first_send_did_not_as_the_instance_is_now(
    store: Store,
) -> None:
    started = store.start(TALLY, {"board": "main"})
    first = store.send(started.id, "add", {"item": "pen"}, event_id="A")
    second = store.send(started.id, "add", {"item": "ink"}, event_id="B")
    assert (first.instance.version, second.instance.version) == (1, 2)
    again = store.send(started.id, "add", {"item": "pen"}, event_id="A")
    assert again.replayed
    assert again.as_dict() == {**first.as_dict(), "replayed": True}
    assert (again.instance.version, again.feed_seq) == (1, first.feed_seq)
    assert store.get(started.id).version == 2


def test_a_replayed_final_step_that_handed_off_names_the_same_next_instance(
    store: Store,
) -> None:
    started = store.start(TALLY, {"board": "main"})
    store.send(started.id, "add", {"item": "pen"})
    closed = store.send(started.id, "close", event_id="close-1")
    assert closed.handed_to is not None
    again = store.send(started.id, "close", event_id="close-1")
    assert again.replayed
    assert again.handed_to is not None
    assert again.handed_to.id == closed.handed_to.id
    assert again.as_dict() == {**closed.as_dict(), "replayed": True}
    assert len(store.history(started.id)) == 2


def test_a_refusal_is_replayed_too(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    first = store.send(started.id, "sign", {"who": "ana", "password": "nope"}, event_id="s")
    again = store.send(started.id, "sign", {"who": "ana", "password": "nope"}, event_id="s")
    assert first.step.refusal is not None
    assert again.replayed
    assert again.step.refusal == first.step.refusal


def test_the_same_event_id_with_other_content_is_a_conflict(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    store.send(started.id, "add", {"item": "pen"}, event_id="e-1")
    with pytest.raises(Conflict, match="event id 'e-1' was already used"):
        store.send(started.id, "add", {"item": "ink"}, event_id="e-1")
    with pytest.raises(Conflict):
        store.send(started.id, "close", event_id="e-1")
    assert store.get(started.id).data["items"] == ["pen"]


def test_a_stale_version_is_a_conflict(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    store.send(started.id, "add", {"item": "pen"}, expect_version=0)
    with pytest.raises(Conflict, match="at version 1, not 0"):
        store.send(started.id, "add", {"item": "ink"}, expect_version=0)
    assert store.send(started.id, "add", {"item": "ink"}, expect_version=1).instance.version == 2


def test_starting_with_a_known_id_is_idempotent_unless_the_data_differs(store: Store) -> None:
    first = store.start(TALLY, {"board": "main"}, instance_id="order-7")
    assert first.id == "order-7"
    assert store.start(TALLY, {"board": "main"}, instance_id="order-7") == first
    with pytest.raises(Conflict, match="'order-7' already exists with other start data"):
        store.start(TALLY, {"board": "spare"}, instance_id="order-7")


def test_unknown_ids_workflows_and_fields_are_clear_errors(store: Store) -> None:
    with pytest.raises(NotFound, match="no instance 'ghost'"):
        store.send("ghost", "add", {"item": "x"})
    for read in (store.get, store.history, store.available, store.current):
        with pytest.raises(NotFound, match="no instance 'ghost'"):
            read("ghost")
    with pytest.raises(NotFound, match="no workflow named 'nothing' in the store"):
        store.start("nothing")
    with pytest.raises(UsageError, match="has no data field 'colour'"):
        store.start(TALLY, {"colour": "red"})
    assert store.instances() == []


def test_a_stored_workflow_starts_by_name(store: Store) -> None:
    store.start(TALLY, {"board": "main"})
    again = store.start("tally", {"board": "spare"})
    assert again.workflow == "tally"


def test_each_instance_keeps_the_definition_it_started_with(store: Store, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("tally.yaml", "tally_review.yaml"):
        shutil.copy(TALLY.parent / name, flows / name)
    old = store.start(flows / "tally.yaml", {"board": "main"})
    edited = (flows / "tally.yaml").read_text()
    edited = edited.replace("  drop: {}\n", "  drop: {}\n  hold: {}\n", 1)
    edited += "  - event: hold\n    from: open\n    to: open\n"
    (flows / "tally.yaml").write_text(edited)
    new = store.start(flows / "tally.yaml", {"board": "main"})
    assert new.definition != old.definition
    assert store.send(new.id, "hold").step.accepted
    refused = store.send(old.id, "hold").step.refusal
    assert refused is not None
    assert refused.kind == "unknown_event"
    assert store.get(old.id).definition == old.definition


def test_instances_filter_by_workflow_state_and_outcome(store: Store) -> None:
    a = store.start(TALLY, {"board": "main"})
    b = store.start(TALLY, {"board": "spare"})
    store.send(b.id, "drop")
    chain = store.start(CHAIN)
    assert {i.id for i in store.instances(workflow="tally")} == {a.id, b.id}
    assert [i.id for i in store.instances(outcome="cancelled")] == [b.id]
    assert [i.id for i in store.instances(state="a")] == [chain.id]
    assert len(store.instances(limit=1)) == 1


def test_a_definition_is_found_by_every_prefix_of_its_hash(store: Store) -> None:
    """A prefix covers the hashes from it up to it followed by "g", past every hex digit
    (mutation audit: an upper bound of "G", which misses the letters, survived)."""
    registered = store.register(TALLY)
    full = registered.hash
    assert any(c in "abcdef" for c in full[1:])
    for n in range(1, len(full) + 1):
        assert store.definition(full[:n]).hash == full, full[:n]
    with pytest.raises(NotFound):
        store.definition(full + "0")


def test_instances_page_by_keyset_without_skipping_or_repeating_ties(
    store: Store, clock: FakeClock
) -> None:
    """`before` continues after the last instance of a page: older ones, and among those
    created in the same instant, the smaller ids (mutation audit: a swapped key survived)."""
    for _ in range(3):
        for _ in range(3):  # three in the same instant: their order is the id's
            store.start(TALLY, {"board": "main"})
        clock.advance(1)
    everything = store.instances()
    assert len(everything) == 9
    assert [(i.created, i.id) for i in everything] == sorted(
        ((i.created, i.id) for i in everything), reverse=True
    )
    pages, before = [], None
    for _ in range(len(everything) + 1):  # bounded: a cursor that does not move must fail
        page = store.instances(limit=2, before=before)
        if not page:
            break
        pages.append([i.id for i in page])
        before = (page[-1].created, page[-1].id)
    assert [len(p) for p in pages] == [2, 2, 2, 2, 1]
    assert [i for p in pages for i in p] == [i.id for i in everything]
    second = store.instances(workflow="tally", limit=2, before=(everything[1].created, pages[0][1]))
    assert [i.id for i in second] == pages[1]  # with a filter too: both joined by AND


def test_timeouts_fire_when_due_and_chain_from_when_each_state_was_entered(
    store: Store, clock: FakeClock
) -> None:
    started = store.start(CHAIN)
    t0 = started.entered
    assert started.due == t0 + 10
    assert store.fire_due() == []
    clock.advance(25)  # the timer runner was away: a (due 10) and b (due 20) are late
    fired = store.fire_due()
    assert [(s.step.source, s.step.target) for s in fired] == [("a", "b"), ("b", "c")]
    now = store.get(started.id)
    assert (now.state, now.entered, now.due) == ("c", t0 + 20, t0 + 30)
    assert [h.entry.time for h in store.history(started.id)] == [t0 + 10, t0 + 20]
    assert store.fire_due() == []  # each fires once
    assert store.next_due() == t0 + 30
    clock.advance(5)
    [last] = store.fire_due()
    assert (last.instance.state, last.instance.outcome, last.instance.due) == (
        "done",
        "timed_out",
        None,
    )
    assert store.next_due() is None


def test_a_timer_fires_at_its_due_time_not_a_moment_before(store: Store, clock: FakeClock) -> None:
    started = store.start(CHAIN)
    due = started.due
    assert due is not None
    early = due - 0.001
    assert store.fire_due(early) == []  # an explicit time
    clock.now = early
    assert store.fire_due() == []  # the store's clock
    assert store.get(started.id).state == "a"
    assert store.next_due() == due
    clock.now = due
    [fired] = store.fire_due()
    assert (fired.instance.id, fired.step.source, fired.step.target) == (started.id, "a", "b")
    assert [h.entry.time for h in store.history(started.id)] == [due]


def test_timers_fire_in_batches_each_once_and_up_to_a_limit(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timers_module, "FIRE_BATCH", 3)
    ids = []
    for _ in range(7):  # due one second apart, in the order started
        ids.append(store.start(CHAIN).id)
        clock.advance(1)
    clock.advance(9)  # every first wait is due, no second one yet
    first = store.fire_due(limit=5)  # a batch of 3, then one of 2
    assert len(first) == 5
    rest = store.fire_due()
    assert len(first + rest) == 7
    assert all((s.step.source, s.step.target) == ("a", "b") for s in first + rest)
    # Fired in due order, and each feed number belongs to the step it was given for, within
    # a batch as across batches.
    assert [(s.feed_seq, s.instance.id) for s in first + rest] == list(enumerate(ids, 1))
    feed = store.feed()
    assert [(f.seq, f.instance, f.event, f.source, f.target) for f in feed] == [
        (seq, ident, "timeout", "a", "b") for seq, ident in enumerate(ids, 1)
    ]
    assert [f.time for f in feed] == sorted(f.time for f in feed)
    assert store.fire_due() == []


def test_a_timer_that_fails_is_left_due_and_the_others_of_its_batch_fire(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timers_module, "FIRE_BATCH", 4)
    ids = [store.start(CHAIN).id for _ in range(6)]
    poison = sorted(ids)[1]
    fire_row = Store._fire_row

    def failing(self: Store, tx: Any, row: Any, pending: Any) -> None:
        if row[0] == poison:
            raise RuntimeError("this timer's step broke")
        fire_row(self, tx, row, pending)

    monkeypatch.setattr(Store, "_fire_row", failing)
    clock.advance(10)
    with pytest.raises(RuntimeError, match="broke"):
        store.fire_due()
    for instance_id in ids:
        fired = [h.entry.target for h in store.history(instance_id)]
        assert fired == ([] if instance_id == poison else ["b"]), instance_id
    assert store.get(poison).state == "a"
    assert len(store.feed()) == 5
    monkeypatch.setattr(Store, "_fire_row", fire_row)  # mended: it fires now
    [later] = store.fire_due()
    assert (later.instance.id, later.step.target) == (poison, "b")


def test_a_failing_store_stops_firing_at_once_and_fires_nothing_of_the_batch(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [store.start(CHAIN).id for _ in range(4)]
    calls: list[str] = []

    def failing(self: Store, tx: Any, row: Any, pending: Any) -> None:
        calls.append(row[0])
        raise StoreError("the disk is full")

    monkeypatch.setattr(Store, "_fire_row", failing)
    clock.advance(10)
    with pytest.raises(StoreError, match="disk is full"):
        store.fire_due()
    assert len(calls) == 1  # not retried timer by timer
    assert all(store.history(i) == [] for i in ids)
    assert store.feed() == []


def test_an_event_before_the_timeout_moves_the_due_time_away(
    store: Store, clock: FakeClock
) -> None:
    started = store.start(CHAIN)
    clock.advance(5)
    store.send(started.id, "stop")
    clock.advance(100)
    assert store.fire_due() == []
    assert store.get(started.id).outcome == "cancelled"


def test_a_handoff_starts_the_next_instance_in_the_same_session(
    store: Store, clock: FakeClock
) -> None:
    started = store.start(TALLY, {"board": "main"})
    store.send(started.id, "add", {"item": "pen"})
    closed = store.send(started.id, "close")
    follow = closed.handed_to
    assert follow is not None
    assert (follow.workflow, follow.session, follow.state) == (
        "tally_review",
        started.id,
        "reviewing",
    )
    assert follow.data == {"board": "main", "count": 1}
    assert store.current(started.id) == store.get(follow.id)
    assert follow.due == clock.now + 60
    clock.advance(61)
    [fired] = store.fire_due()
    assert (fired.instance.id, fired.instance.outcome) == (follow.id, "timed_out")


def test_the_feed_lists_accepted_steps_in_order_after_a_number(store: Store) -> None:
    one = store.start(TALLY, {"board": "main"})
    two = store.start(TALLY, {"board": "spare"})
    store.send(one.id, "add", {"item": "a"})
    store.send(two.id, "add", {"item": ""})  # refused: not in the feed
    store.send(two.id, "add", {"item": "b"})
    store.send(one.id, "close")
    feed = store.feed()
    assert [f.seq for f in feed] == [1, 2, 3]
    assert [(f.instance, f.event, f.outcome) for f in feed] == [
        (one.id, "add", None),
        (two.id, "add", None),
        (one.id, "close", "completed"),
    ]
    assert [f.seq for f in store.feed(after=1)] == [2, 3]
    assert [f.seq for f in store.feed(after=1, limit=1)] == [2]


def test_status_lists_what_can_be_sent_now(store: Store) -> None:
    started = store.start(TALLY, {"board": "nowhere"})
    options = {o.event: o for o in store.available(started.id)}
    assert options["add"].available is False
    assert "no board 'nowhere'" in options["add"].reason
    assert options["close"].available is True


def test_loading_a_world_replaces_records_by_key(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    store.send(started.id, "add", {"item": "pen"})
    assert store.load_world(BOARDS) == 2
    assert store.world("boards", "main")["main"]["items"] == []
    assert set(store.world("boards")) == {"main", "spare"}


def test_state_data_and_world_equal_a_replay_of_the_history(store: Store) -> None:
    one = store.start(TALLY, {"board": "main"})
    two = store.start(TALLY, {"board": "main"})
    for item in ("a", "b", "c"):
        store.send(one.id, "add", {"item": item})
        store.send(two.id, "add", {"item": item * 2})
    store.send(two.id, "close")
    replayed, world = replay(store, start_world())
    for instance_id, (state, data) in replayed.items():
        stored = store.get(instance_id)
        assert (stored.state, stored.data) == (state, data)
    assert store.world("boards") == world.collections["boards"]


def test_a_bad_payload_is_a_usage_error(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    with pytest.raises(UsageError, match="mapping"):
        store.send(started.id, "add", ["not", "a", "mapping"])  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="event id cannot be empty"):
        store.send(started.id, "add", {"item": "x"}, event_id=" ")
