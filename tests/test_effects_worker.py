"""The effects outbox and worker: each fault of a called service ends as documented
(docs/worker.md), with nothing lost or doubled, on SQLite and PostgreSQL.

Steps carry effects through a test double (tests/support/effect_steps.py) until the language
makes them from YAML; a fake API (tests/support/fake_api.py: Starlette on 127.0.0.1) injects
the faults by path and applies each Idempotency-Key once. The result events' names (`x.done`)
are not yet declared by any workflow, so today they are recorded as refused history entries:
what the tests count is the entries carrying the effect's event id.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from linkflow.effects import results as results_module
from linkflow.effects import worker as worker_module
from linkflow.effects.http_call import MAX_BODY, Attempt, retry_after
from linkflow.effects.results import LOST, decide, record
from linkflow.effects.worker import Options, Worker
from linkflow.language.services import Auth
from linkflow.runtime.effect_calls import CONNECTION_REASON, TIMEOUT_REASON, EffectCall
from linkflow.store import Store, StoreError
from linkflow.store.errors import Conflict, NotFound
from linkflow.store.outbox import Claimed, Outbox, idempotency_key
from tests.support.effect_steps import causing, invoke, notify, write_flow
from tests.support.fake_api import FakeApi, fake_api
from tests.support.receiver import resetting

FAST = Options(concurrency=8, lease=2.0, poll=0.02, grace=2.0)
SECRET_VALUE = "s3cr3t-value-that-must-not-leak-4242"
ID_SCHEMA = {"id": {"type": "string"}, "score": {"type": "integer"}}


@pytest.fixture(scope="module")
def api() -> Iterator[FakeApi]:
    with fake_api() as served:
        yield served


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        yield opened


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    return write_flow(tmp_path)


def work(store: Store, options: Options = FAST) -> dict[str, int]:
    return asyncio.run(Worker(store, options).run(until_idle=True))


def asked(store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, *calls: EffectCall) -> str:
    """A new instance whose `ask` caused `calls`; its id."""
    with causing(monkeypatch, {"ask": lambda step: calls}):
        started = store.start(flow)
        store.send(started.id, "ask")
    return started.id


def results_in_history(store: Store, instance_id: str) -> list[Any]:
    """The history entries sent by the worker (their event id names an effect)."""
    return [e for e in store.history(instance_id) if (e.event_id or "").startswith("effect:")]


def only(store: Store, instance_id: str) -> Any:
    (effect,) = Outbox(store).of_instance(instance_id)
    return effect


# -- the outbox ---------------------------------------------------------------------------------


def test_a_steps_effects_are_written_with_it_and_none_for_a_step_without(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    auth = Auth("bearer", env="SUPPLIER_TOKEN")
    calls = (invoke(api.url + "/ok", auth=auth), notify(api.url + "/ok"))
    instance_id = asked(store, flow, monkeypatch, *calls)
    store.send(instance_id, "leave")  # no effects: nothing written
    store.send(instance_id, "nonsense")  # refused: nothing written
    found = Outbox(store).of_instance(instance_id)
    assert [(e.version, e.index, e.call.kind, e.status) for e in found] == [
        (1, 0, "invoke", "pending"),
        (1, 1, "notify", "pending"),
    ]
    first = found[0]
    assert first.idempotency_key == hashlib.sha256(f"{instance_id}:1:0".encode()).hexdigest()
    assert first.call == calls[0]  # the JSON form reads back as written
    assert first.entered == store.get(instance_id).entered or first.call.state == "waiting"
    assert first.as_dict()["url"] == api.url + "/ok"


def test_a_step_with_effects_rolled_back_leaves_none(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    """Written in the step's transaction: a stale expect_version writes neither."""
    with causing(monkeypatch, {"ask": lambda step: (notify(api.url + "/ok"),)}):
        started = store.start(flow)
        with pytest.raises(Conflict):
            store.send(started.id, "ask", expect_version=7)
    assert Outbox(store).of_instance(started.id) == []
    assert store.get(started.id).state == "idle"


# -- outcomes per fault -------------------------------------------------------------------------


def test_500s_then_success_is_retried_and_applied_once(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    instance_id = asked(
        store, flow, monkeypatch, invoke(api.url + "/fail?times=2", response=ID_SCHEMA)
    )
    counts = work(store)
    effect = only(store, instance_id)
    assert (effect.status, effect.attempts) == ("done", 3)
    assert counts["done"] == 1
    assert counts["retried"] == 2
    assert [r[2] for r in api.requests if r[1] == effect.idempotency_key] == [500, 500, 200]
    assert api.applied[effect.idempotency_key] == 1
    (entry,) = results_in_history(store, instance_id)
    assert entry.event_id == f"effect:{effect.id}"
    assert effect.result == {"status": 200, "bytes": effect.result["bytes"], "event": "lookup.done"}


def test_429_waits_for_retry_after_when_longer_than_the_backoff(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    instance_id = asked(store, flow, monkeypatch, notify(api.url + "/limited?times=1&after=1"))
    began = time.monotonic()
    work(store)
    effect = only(store, instance_id)
    assert (effect.status, effect.attempts) == ("done", 2)
    assert time.monotonic() - began >= 0.9  # the backoff alone is at most 0.05 s
    statuses = [r[2] for r in api.requests if r[1] == effect.idempotency_key]
    assert statuses == [429, 200]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after("7", now) == 7.0
    assert retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert retry_after("999999", now) == 3600.0  # capped
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None


def test_a_slow_answer_times_out_and_the_retry_finds_it_applied(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    """The first attempt gave up while the service applied it; the second, with the same
    Idempotency-Key, gets the recorded answer: applied once, done."""
    call = invoke(api.url + "/slow?seconds=0.6", timeout=0.3, attempts=4, initial=0.5)
    instance_id = asked(store, flow, monkeypatch, call)
    work(store)
    effect = only(store, instance_id)
    assert effect.status == "done"
    assert api.applied[effect.idempotency_key] == 1
    assert api.replayed >= 1
    assert len(results_in_history(store, instance_id)) == 1


def test_a_service_that_never_answers_fails_the_invoke_after_its_attempts(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    call = invoke(api.url + "/hang", timeout=0.2, attempts=2)
    instance_id = asked(store, flow, monkeypatch, call)
    work(store)
    effect = only(store, instance_id)
    assert (effect.status, effect.attempts) == ("failed", 2)
    assert effect.last_error == "no answer within 0.2 s (gave up after 2 attempts)"
    (entry,) = results_in_history(store, instance_id)
    assert entry.event_id == f"effect:{effect.id}"


def test_a_reset_connection_is_retried_then_a_notify_is_dead(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with resetting() as url:
        instance_id = asked(store, flow, monkeypatch, notify(url, attempts=3))
        counts = work(store)
    effect = only(store, instance_id)
    assert (effect.status, effect.attempts) == ("dead", 3)
    assert effect.last_error.startswith("connection failed (")
    assert counts == {**counts, "dead": 1, "retried": 2}
    assert results_in_history(store, instance_id) == []  # a notify answers nothing


def test_an_answer_that_fails_the_response_schema_is_a_failed_event_not_retried(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    instance_id = asked(store, flow, monkeypatch, invoke(api.url + "/bad", response=ID_SCHEMA))
    work(store)
    effect = only(store, instance_id)
    assert (effect.status, effect.attempts) == ("failed", 1)
    assert effect.last_error == "the answer's field 'id' is not string"
    assert effect.result["event"] == "lookup.failed"


def test_a_404_is_not_retried(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    first = asked(store, flow, monkeypatch, notify(api.url + "/missing"))
    second = asked(store, flow, monkeypatch, invoke(api.url + "/missing"))
    work(store)
    told, looked = only(store, first), only(store, second)
    assert (told.status, told.attempts) == ("failed", 1)
    assert told.last_error == "the service answered HTTP 404 (not retried)"
    assert (looked.status, looked.attempts) == ("failed", 1)
    assert looked.last_error == "the service answered HTTP 404"
    assert len(api.calls("/missing")) >= 2
    assert api.applied[told.idempotency_key] == 0


def test_a_huge_answer_is_a_failure_with_a_reason(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    instance_id = asked(store, flow, monkeypatch, invoke(api.url + "/big"))
    work(store)
    effect = only(store, instance_id)
    assert (effect.status, effect.attempts) == ("failed", 1)
    assert effect.last_error == f"the answer is longer than {MAX_BODY} bytes"


# -- late answers and cancelled calls -----------------------------------------------------------


def test_an_answer_after_the_state_was_left_is_late_and_sends_nothing(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    instance_id = asked(store, flow, monkeypatch, invoke(api.url + "/slow?seconds=0.8"))
    key = only(store, instance_id).idempotency_key

    async def race() -> None:
        running = asyncio.create_task(Worker(store, FAST).run(until_idle=True))
        while ("/slow", key) not in api.arrived and not running.done():
            await asyncio.sleep(0.01)  # the call is in flight (the service has it)
        await asyncio.to_thread(store.send, instance_id, "leave")
        await running

    asyncio.run(race())
    effect = only(store, instance_id)
    assert effect.status == "late"
    assert effect.result["late"] is True
    assert effect.result["status"] == 200
    assert effect.last_error == "the instance left state 'waiting' before the answer came"
    assert results_in_history(store, instance_id) == []
    assert store.get(instance_id).state == "moved"
    assert api.applied[key] == 1


def test_an_invoke_whose_state_was_left_or_re_entered_before_its_call_is_cancelled(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    left = asked(store, flow, monkeypatch, invoke(api.url + "/ok?case=left"))
    store.send(left, "leave")
    again = asked(store, flow, monkeypatch, invoke(api.url + "/ok?case=again"))
    store.send(again, "leave")
    store.send(again, "again")  # back in `waiting`, entered later: not the call's entry
    counts = work(store)
    assert counts["cancelled"] == 2
    for instance_id in (left, again):
        effect = only(store, instance_id)
        assert effect.status == "cancelled"
        assert effect.idempotency_key not in api.applied
        assert results_in_history(store, instance_id) == []


# -- secrets ------------------------------------------------------------------------------------


def test_the_secret_is_sent_and_written_nowhere(
    store: Store,
    store_url: str,
    flow: Path,
    monkeypatch: pytest.MonkeyPatch,
    api: FakeApi,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.setenv("SUPPLIER_TOKEN", SECRET_VALUE)
    secret_file = flow.parent / "token.txt"
    secret_file.write_text("file-" + SECRET_VALUE + "\n", encoding="utf-8")
    by_env = invoke(api.url + "/fail?times=1", auth=Auth("bearer", env="SUPPLIER_TOKEN"))
    by_file = invoke(
        api.url + "/ok?file=1",
        name="check",
        auth=Auth("header", secret_file=str(secret_file), header="X-Api-Key"),
    )
    instance_id = asked(store, flow, monkeypatch, by_env, by_file)
    with caplog.at_level(logging.DEBUG):
        work(store)
    assert f"Bearer {SECRET_VALUE}" in api.authorizations
    assert [e.status for e in Outbox(store).of_instance(instance_id)] == ["done", "done"]
    seen = [
        caplog.text,
        json.dumps([e.as_dict() for e in Outbox(store).of_instance(instance_id)]),
        repr(store.history(instance_id)),
        repr(store.feed()),
    ]
    if store_url.startswith("sqlite"):
        files = sorted(flow.parent.glob("store.db*"))  # the WAL too: not yet checkpointed
        assert files
        seen.extend(path.read_bytes().decode("latin-1") for path in files)
    else:
        seen.append(request.getfixturevalue("postgres").dump(store_url).decode("latin-1"))
    for text in seen:
        assert SECRET_VALUE not in text


def test_a_missing_secret_is_a_final_failure_that_names_where_it_was_looked_for(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN", raising=False)
    call = invoke(api.url + "/ok?nosecret=1", auth=Auth("bearer", env="NO_SUCH_TOKEN"))
    instance_id = asked(store, flow, monkeypatch, call)
    work(store)
    effect = only(store, instance_id)
    assert (effect.status, effect.attempts) == ("failed", 1)
    assert effect.last_error == (
        "the secret of service 'supplier' is missing: environment variable NO_SUCH_TOKEN is "
        "not set or empty"
    )
    assert api.calls("/ok") == [] or all(r[1] != effect.idempotency_key for r in api.requests)


# -- leases, replays, an operator's retry -------------------------------------------------------


def test_a_stopped_workers_claims_go_to_another_after_the_lease(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    instance_id = asked(store, flow, monkeypatch, invoke(api.url + "/ok?lease=1"))
    outbox = Outbox(store)
    (held,) = outbox.claim("worker_gone", 0.3, 10)  # claimed, then never finished
    assert outbox.claim("worker_other", 5.0, 10) == []  # held while the lease runs
    time.sleep(0.4)
    work(store)
    effect = only(store, instance_id)
    assert (effect.status, effect.attempts) == ("done", 2)
    late_word = decide(held, Attempt(200, {}), store.clock())
    assert record(store, "worker_gone", [late_word]) == [LOST]  # it lost the claim: no write
    assert len(results_in_history(store, instance_id)) == 1


def test_a_result_written_again_is_answered_from_history(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    """A worker that dies after its result's commit cannot write it again (its claim is
    gone); and should the event be sent twice anyway, the event id replays the first."""
    instance_id = asked(store, flow, monkeypatch, invoke(api.url + "/ok?replay=1"))
    (claimed,) = Outbox(store).claim("worker_a", 5.0, 10)
    decision = decide(claimed, Attempt(200, {"id": "x"}), store.clock())
    assert record(store, "worker_a", [decision]) == ["done"]
    assert record(store, "worker_a", [decision]) == [LOST]
    assert decision.event is not None
    again = store.send(instance_id, *decision.event, event_id=claimed.event_id)
    assert again.replayed
    assert len(results_in_history(store, instance_id)) == 1


def test_an_operators_retry_takes_a_dead_effect_back_and_refuses_others(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    instance_id = asked(store, flow, monkeypatch, notify(api.url + "/fail?times=2", attempts=2))
    work(store)
    outbox = Outbox(store)
    effect = only(store, instance_id)
    assert effect.status == "dead"
    assert outbox.counts()["dead"] == 1
    again = outbox.retry(effect.id)
    assert (again.status, again.attempts, again.generation) == ("pending", 0, 1)
    work(store)
    assert only(store, instance_id).status == "done"
    with pytest.raises(Conflict, match="is done: only a dead or failed effect is retried"):
        outbox.retry(effect.id)
    with pytest.raises(NotFound):
        outbox.retry("ef_0000000000000000")


def test_a_retried_invoke_answers_with_a_new_event(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    instance_id = asked(store, flow, monkeypatch, invoke(api.url + "/fail?times=1", attempts=1))
    work(store)
    effect = only(store, instance_id)
    assert effect.status == "failed"
    Outbox(store).retry(effect.id)
    work(store)
    assert only(store, instance_id).status == "done"
    ids = [e.event_id for e in results_in_history(store, instance_id)]
    assert ids == [f"effect:{effect.id}", f"effect:{effect.id}:1"]


# -- the store failing while a call is in flight ------------------------------------------------


def test_the_store_failing_while_a_call_is_in_flight_loses_nothing(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    """The outcome's write fails (the store is unreachable) a few times: the worker writes it
    again while its claim lasts, and the instance gets one result."""
    instance_id = asked(store, flow, monkeypatch, invoke(api.url + "/delay?ms=50&down=1"))
    failures = {"left": 3}
    real = results_module.record

    def flaky(*args: Any) -> list[str]:
        if failures["left"]:
            failures["left"] -= 1
            raise StoreError("cannot write to the store: connection refused")
        return real(*args)

    monkeypatch.setattr(worker_module, "record", flaky)
    work(store)
    effect = only(store, instance_id)
    assert (effect.status, effect.attempts) == ("done", 1)
    assert len(results_in_history(store, instance_id)) == 1


def test_a_bounded_run_looks_again_when_the_store_fails_and_gives_up_when_it_stays_down(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    """A claim that fails (a connection the database dropped) is tried again at the next look;
    only a store that fails BOUNDED_FAILURES looks in a row ends a bounded run."""
    instance_id = asked(store, flow, monkeypatch, invoke(api.url + "/ok?claims=1"))
    real = Outbox.claim
    failing = {"left": worker_module.BOUNDED_FAILURES - 1}

    def flaky(self: Outbox, *args: Any) -> list[Claimed]:
        if failing["left"]:
            failing["left"] -= 1
            raise StoreError("cannot read the store: terminating connection")
        return real(self, *args)

    monkeypatch.setattr(Outbox, "claim", flaky)
    work(store)
    assert only(store, instance_id).status == "done"

    asked(store, flow, monkeypatch, invoke(api.url + "/ok?claims=2"))
    failing["left"] = worker_module.BOUNDED_FAILURES
    with pytest.raises(StoreError, match="terminating connection"):
        work(store)


def test_a_store_down_longer_than_a_lease_keeps_the_claim_and_writes_the_outcome_later(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    """The worker renews its claim while it waits (the store answers renewals here), so no
    other worker performs the call meanwhile: one attempt, one result."""
    instance_id = asked(store, flow, monkeypatch, invoke(api.url + "/delay?ms=10&long=1"))
    real = results_module.record
    down = {"until": time.monotonic() + 0.8}

    def outage(*args: Any) -> list[str]:
        if time.monotonic() < down["until"]:
            raise StoreError("cannot write to the store: connection refused")
        return real(*args)

    monkeypatch.setattr(worker_module, "record", outage)
    short = Options(concurrency=4, lease=0.5, poll=0.02, grace=1.0)
    work(store, short)
    effect = only(store, instance_id)
    assert (effect.status, effect.attempts) == ("done", 1)
    assert api.applied[effect.idempotency_key] == 1
    assert len(results_in_history(store, instance_id)) == 1


def test_claims_of_a_key_are_stable_over_processes() -> None:
    assert idempotency_key("i", 3, 1) == hashlib.sha256(b"i:3:1").hexdigest()
    claimed = Claimed("ef_1", "i", 3, 1, invoke("http://x/"), "k", 1.0, 1, 0)
    assert claimed.event_id == "effect:ef_1"


def test_postgresql_connections_cut_while_a_call_is_in_flight_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi, request: pytest.FixtureRequest
) -> None:
    """The database drops every connection of the store (as a failover does) while the call
    is in flight: the outcome is written on a new connection, once."""
    import psycopg  # noqa: PLC0415 - the postgres extra: only this test needs the driver

    server = request.getfixturevalue("postgres")
    url = server.database()
    database = url.split("@/")[1].split("?")[0]
    flow = write_flow(tmp_path)
    with Store.open(url) as store:
        instance_id = asked(store, flow, monkeypatch, invoke(api.url + "/slow?seconds=0.8&cut=1"))
        key = only(store, instance_id).idempotency_key

        def cut() -> int:
            with psycopg.connect(server.url(), autocommit=True) as admin:
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (database,),
                ).fetchall()
            return len(rows)

        async def race() -> int:
            running = asyncio.create_task(Worker(store, FAST).run(until_idle=True))
            while ("/slow", key) not in api.arrived and not running.done():
                await asyncio.sleep(0.01)
            cut_count = await asyncio.to_thread(cut)
            await running
            return cut_count

        assert asyncio.run(race()) >= 1  # the store's connections were cut
        effect = only(store, instance_id)
        assert (effect.status, effect.attempts) == ("done", 1)
        assert api.applied[key] == 1
        assert len(results_in_history(store, instance_id)) == 1


def test_a_result_that_cannot_be_given_ends_failed_and_the_others_are_written(
    store: Store, flow: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    """A fault of one result (here: the event path raises) does not hold back the others of
    its batch, nor make the effect be performed again and again."""
    first = asked(store, flow, monkeypatch, invoke(api.url + "/ok?poison=1"))
    second = asked(store, flow, monkeypatch, notify(api.url + "/ok?poison=2"))
    claimed = Outbox(store).claim("worker_p", 5.0, 10)
    assert len(claimed) == 2
    decisions = [decide(c, Attempt(200, {"id": "x"}), store.clock()) for c in claimed]

    def broken(*args: Any) -> Any:
        raise RuntimeError("the runtime failed")

    monkeypatch.setattr(store, "_send_in", broken)
    statuses = record(store, "worker_p", decisions)
    assert sorted(statuses) == ["done", "failed"]
    poisoned = only(store, first)
    assert (poisoned.status, poisoned.last_error) == (
        "failed",
        "its result could not be given to the instance",
    )
    assert only(store, second).status == "done"
    assert results_in_history(store, first) == []


# -- decisions, pure ----------------------------------------------------------------------------


def _claimed(call: EffectCall, attempt: int) -> Claimed:
    return Claimed("ef_1", "i", 1, 0, call, "k", 1.0, attempt, 0)


def test_backoff_has_full_jitter_and_yields_to_a_longer_retry_after() -> None:
    call = invoke("http://x/", attempts=5, initial=1.0)  # delays 1, 2, 4 capped at 1.0 here
    seen: list[tuple[float, float]] = []

    def jitter(low: float, high: float) -> float:
        seen.append((low, high))
        return high / 2

    waiting = decide(_claimed(call, 1), Attempt(503, failure="status", retry=True), 100.0, jitter)
    assert (waiting.status, waiting.due) == ("pending", 100.5)
    assert seen == [(0.0, 1.0)]  # full jitter: anywhere from 0 to the capped delay
    told = Attempt(429, failure="status", retry=True, retry_after=30.0)
    assert decide(_claimed(call, 2), told, 100.0, jitter).due == 130.0
    shorter = Attempt(429, failure="status", retry=True, retry_after=0.1)
    assert decide(_claimed(call, 2), shorter, 100.0, jitter).due == 100.5


def test_an_invoke_without_an_answer_fails_with_the_stubs_words() -> None:
    call = invoke("http://x/", attempts=2)
    timed_out = Attempt(None, error="no answer within 2 s", retry=True, failure="timeout")
    decision = decide(_claimed(call, 2), timed_out, 0.0)
    assert decision.event == ("lookup.failed", {"status": None, "reason": TIMEOUT_REASON})
    assert decision.error == "no answer within 2 s (gave up after 2 attempts)"
    unreachable = Attempt(None, error="connection failed", retry=True, failure="connection")
    assert decide(_claimed(call, 2), unreachable, 0.0).event == (
        "lookup.failed",
        {"status": None, "reason": CONNECTION_REASON},
    )
    busy = Attempt(503, error="the service answered HTTP 503", retry=True, failure="status")
    assert decide(_claimed(call, 2), busy, 0.0).event == (
        "lookup.failed",
        {"status": 503, "reason": "the service answered HTTP 503"},
    )
    answered = decide(_claimed(call, 1), Attempt(200, {"id": "a", "score": 1}), 0.0)
    assert answered.event == ("lookup.done", {"status": 200})
