"""Operator actions on stored instances: send, cancel and terminate, each recorded in history
with who did it, each refused with its reason (nothing written) when the instance does not
allow it; on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from linkflow.language.loader import load_workflows
from linkflow.store import Conflict, NotAllowed, Store
from linkflow.store.operator import TERMINATE_EVENT, cancel_event
from tests.support.store import BOARDS, CASES, CHAIN, TALLY, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[Store]:
    with Store.open(store_url, clock=clock) as opened:
        opened.load_world(BOARDS)
        yield opened


def _unchanged(store: Store, ident: str) -> tuple[object, ...]:
    record = store.get(ident)
    return (record.as_dict(), len(store.history(ident)), len(store.feed()))


def test_an_operator_send_is_a_send_that_says_who(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    sent = store.operator_send(started.id, "add", {"item": "pen"}, by="ops:ana")
    assert sent.step.accepted
    [entry] = store.history(started.id)
    assert entry.actor == {"action": "send", "by": "ops:ana", "via": "python"}
    assert entry.as_dict()["operator"] == {"action": "send", "by": "ops:ana", "via": "python"}


def test_cancel_takes_the_workflows_own_cancel_path(store: Store) -> None:
    started = store.start(TALLY, {"board": "main"})
    sent = store.cancel(started.id, by="ops:ana")
    assert (sent.step.event, sent.instance.state, sent.instance.outcome) == (
        "drop",
        "dropped",
        "cancelled",
    )
    [entry] = store.history(started.id)
    assert entry.actor == {"action": "cancel", "by": "ops:ana", "via": "python"}
    assert store.feed()[-1].event == "drop"


def test_cancel_without_a_cancel_path_is_refused_with_the_reason(
    store: Store, clock: FakeClock
) -> None:
    started = store.start(TALLY, {"board": "main"})
    closed = store.send(started.id, "close")
    review = closed.handed_to
    assert review is not None
    before = _unchanged(store, review.id)
    with pytest.raises(NotAllowed, match="has no transition from 'reviewing' that ends as"):
        store.cancel(review.id, by="ops:ana")
    assert _unchanged(store, review.id) == before


def test_terminate_ends_now_stops_the_timer_and_records_who(store: Store, clock: FakeClock) -> None:
    started = store.start(CHAIN)
    assert started.due is not None
    clock.advance(3)
    sent = store.terminate(started.id, by="ops:ana", reason="stuck", expect_version=0)
    after = store.get(started.id)
    assert (after.state, after.outcome, after.due, after.version) == ("a", "terminated", None, 1)
    assert after.updated == clock.now
    [entry] = store.history(started.id)
    assert entry.entry.event == TERMINATE_EVENT
    assert entry.actor == {
        "action": "terminate",
        "by": "ops:ana",
        "via": "python",
        "reason": "stuck",
    }
    assert store.feed()[-1].as_dict() | {"time": 0} == {
        "seq": sent.feed_seq,
        "instance": started.id,
        "workflow": "chain",
        "event": TERMINATE_EVENT,
        "from": "a",
        "to": "a",
        "outcome": "terminated",
        "time": 0,
    }
    clock.advance(60)
    assert store.next_due() is None
    assert store.fire_due() == []
    assert store.get(started.id).state == "a"


@pytest.mark.parametrize("action", ["cancel", "terminate"])
def test_an_ended_instance_or_a_stale_version_is_refused_and_nothing_changes(
    store: Store, action: str
) -> None:
    started = store.start(TALLY, {"board": "main"})
    store.send(started.id, "add", {"item": "pen"})
    before = _unchanged(store, started.id)
    with pytest.raises(Conflict, match="is at version 1, not 0"):
        getattr(store, action)(started.id, by="ops:ana", expect_version=0)
    assert _unchanged(store, started.id) == before
    store.send(started.id, "drop")
    ended = _unchanged(store, started.id)
    with pytest.raises(NotAllowed, match=r"already ended \(cancelled\): there is nothing to"):
        getattr(store, action)(started.id, by="ops:ana")
    assert _unchanged(store, started.id) == ended


@pytest.mark.parametrize("who", ["", "   ", "x" * 201, "ana\nroot"])
def test_an_action_needs_who_did_it(store: Store, who: str) -> None:
    started = store.start(TALLY, {"board": "main"})
    with pytest.raises(NotAllowed, match="who did it"):
        store.terminate(started.id, by=who)
    assert store.get(started.id).outcome is None


def test_the_cancel_event_is_found_by_outcome() -> None:
    flows = load_workflows([CASES])
    assert cancel_event(flows["tally"], "open") == "drop"
    assert cancel_event(flows["chain"], "b") == "stop"
    assert cancel_event(flows["tally_review"], "reviewing") is None
