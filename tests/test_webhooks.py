"""Webhooks out: subscribers receive feed entries signed by Standard Webhooks, in order per
instance, retried with backoff, dead-lettered after a bounded number of attempts.

A real receiver (tests/support/receiver.py: Starlette and uvicorn on 127.0.0.1) verifies every
signature with the standardwebhooks library and injects faults by webhook id and attempt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from linkflow.cli import main
from linkflow.effects.webhooks import Deliverer, Policy, retry_after
from linkflow.store import Store, StoreError
from linkflow.store.webhooks import Webhooks
from tests.support.receiver import SECRET, Attempt, receiving, resetting, write_secret
from tests.support.store import BOARDS, TALLY

ROOT = Path(__file__).resolve().parent.parent
# A generous answer timeout: a loaded machine (the suite runs in parallel) must not turn a
# receiver's slow first answer into a failed attempt. The slow-answer test sets its own.
FAST = Policy(attempts=4, backoff=0.01, max_delay=0.05, timeout=5.0, concurrency=8, lease=1.0)


@pytest.fixture
def secret_file(tmp_path: Path) -> str:
    return write_secret(tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        opened.load_world(BOARDS)
        yield opened


def make_steps(store: Store, instances: int, adds: int) -> dict[str, list[int]]:
    """Start `instances` tallies and add `adds` items to each, interleaved; the feed numbers
    of each instance's entries, in order."""
    ids = [store.start(TALLY, {"board": "main"}).id for _ in range(instances)]
    seqs: dict[str, list[int]] = defaultdict(list)
    for n in range(adds):
        for instance_id in ids:
            sent = store.send(instance_id, "add", {"item": f"i{n}"})
            assert sent.feed_seq is not None
            seqs[instance_id].append(sent.feed_seq)
    return dict(seqs)


def deliver(store: Store, policy: Policy = FAST) -> dict[str, int]:
    return asyncio.run(Deliverer(store, policy).run(until_idle=True, poll=0.05))


def assert_in_order(attempts: list[Attempt], seqs: dict[str, list[int]]) -> None:
    """No attempt of an instance's entry came before every earlier entry of that instance
    was answered 2xx; and every entry was delivered."""
    done: set[int] = set()
    for attempt in attempts:
        earlier = [s for s in seqs[attempt.instance] if s < attempt.seq]
        assert set(earlier) <= done, (attempt, sorted(set(earlier) - done))
        if 200 <= attempt.status < 300:
            done.add(attempt.seq)
    assert done == {s for each in seqs.values() for s in each}


def test_every_entry_arrives_signed_once_in_order_per_instance(
    store: Store, secret_file: str
) -> None:
    with receiving() as receiver:
        hooks = Webhooks(store)
        subscriber = hooks.add(receiver.url, ["event:add"], secret_file, after=0)
        seqs = make_steps(store, instances=5, adds=6)
        counts = deliver(store)
        assert counts == {"delivered": 30, "failed": 0, "dead": 0}
        assert receiver.bad_signatures == 0
        assert_in_order(receiver.attempts, seqs)
        ids = [a.webhook_id for a in receiver.attempts]
        assert len(ids) == len(set(ids)) == 30
        assert all(
            i == f"msg_{subscriber.id}_{a.seq}" for i, a in zip(ids, receiver.attempts, strict=True)
        )
    state = hooks.get(subscriber.id)
    assert (state.delivered, state.pending, state.retrying, state.dead) == (30, 0, 0, 0)
    assert state.last_delivered == max(max(s) for s in seqs.values())


def test_patterns_choose_the_entries(store: Store, secret_file: str) -> None:
    with receiving() as receiver:
        hooks = Webhooks(store)
        hooks.add(receiver.url, ["workflow:tal*", "outcome:*"], secret_file)
        hooks.add(receiver.url, ["close"], secret_file)
        first = store.start(TALLY, {"board": "main"})
        store.send(first.id, "add", {"item": "a"})
        store.send(first.id, "close")
        deliver(store)
        events = sorted(a.event for a in receiver.attempts)
    # the first subscriber takes both tally entries, the second only the close
    assert events == ["add", "close", "close"]


def test_500_429_and_slow_answers_are_retried_until_delivered(
    store: Store, secret_file: str
) -> None:
    def fault(webhook_id: str, before: int) -> object:
        seq = int(webhook_id.rsplit("_", 1)[1])
        plans: dict[int, list[object]] = {0: [500, 503], 1: [(429, 1)], 2: ["slow"], 3: []}
        plan = plans[seq % 4]
        return plan[before] if before < len(plan) else None

    with receiving(fault) as receiver:
        receiver.slow_seconds = 1.5
        Webhooks(store).add(receiver.url, ["*"], secret_file, after=0)
        seqs = make_steps(store, instances=2, adds=4)
        counts = deliver(store, replace(FAST, timeout=0.5))
        assert counts["delivered"] == 8
        assert counts["dead"] == 0
        assert counts["failed"] >= 5
        assert receiver.bad_signatures == 0
        assert_in_order(receiver.attempts, seqs)
        by_id: dict[str, list[Attempt]] = defaultdict(list)
        for attempt in receiver.attempts:
            by_id[attempt.webhook_id].append(attempt)
        for attempts in by_id.values():
            if attempts[0].status == 429:  # Retry-After: 1 was honoured
                assert attempts[1].at - attempts[0].at >= 0.9


def test_a_reset_connection_is_retried_then_dead_lettered(store: Store, secret_file: str) -> None:
    with resetting() as url:
        hooks = Webhooks(store)
        subscriber = hooks.add(url, ["*"], secret_file, after=0)
        make_steps(store, instances=1, adds=2)
        counts = deliver(store)
    assert counts == {"delivered": 0, "failed": 2 * (FAST.attempts - 1), "dead": 2}
    state = hooks.get(subscriber.id)
    assert (state.dead, state.pending, state.retrying) == (2, 0, 0)
    assert state.last_error is not None
    assert "connection failed" in state.last_error


def test_4xx_is_dead_at_once_and_later_entries_of_the_instance_still_go(
    store: Store, secret_file: str
) -> None:
    refused: set[int] = set()

    def fault(webhook_id: str, before: int) -> object:
        seq = int(webhook_id.rsplit("_", 1)[1])
        return 422 if seq in refused else None

    with receiving(fault) as receiver:
        hooks = Webhooks(store)
        subscriber = hooks.add(receiver.url, ["*"], secret_file, after=0)
        seqs = make_steps(store, instances=1, adds=3)
        refused.add(seqs[next(iter(seqs))][0])
        counts = deliver(store)
        assert counts == {"delivered": 2, "failed": 0, "dead": 1}
        assert [a.status for a in receiver.attempts] == [422, 204, 204]
        state = hooks.get(subscriber.id)
        assert state.dead == 1
        assert state.last_error is not None
        assert "422" in state.last_error
        # `webhooks retry` requeues it; the receiver takes it now, with the same webhook id
        refused.clear()
        assert hooks.retry(subscriber.id) == 1
        assert deliver(store) == {"delivered": 1, "failed": 0, "dead": 0}
        assert receiver.attempts[-1].webhook_id == receiver.attempts[0].webhook_id
        assert hooks.get(subscriber.id).dead == 0


def test_retry_after_reads_seconds_and_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after("7", now) == 7.0
    assert retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30.0
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None
    assert FAST.delay(1, 5.0) == 5.0
    assert 0.005 <= FAST.delay(1) <= 0.01
    assert FAST.delay(30) <= FAST.max_delay


def _cli(*words: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(words))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_cli_refuses_bad_subscribers_and_stores_nothing(
    tmp_path: Path, secret_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    bad = [
        (["ftp://x/hook", "--events", "*", "--secret-file", secret_file], "http:// or https://"),
        (["http://x/h", "--events", "colour:red", "--secret-file", secret_file], "'colour:'"),
        (["http://x/h", "--events", "*", "--secret-file", str(tmp_path / "none")], "cannot read"),
    ]
    (tmp_path / "plain").write_text("not a secret!", encoding="utf-8")
    bad.append(
        (["http://x/h", "--events", "*", "--secret-file", str(tmp_path / "plain")], "does not hold")
    )
    for words, message in bad:
        code, out, err = _cli("webhooks", "add", *words, "--store", url, capsys=capsys)
        assert code == 2, err
        assert message in err, err
        assert "Traceback" not in err, err
    code, out, _ = _cli("webhooks", "list", "--store", url, "--format", "json", capsys=capsys)
    assert json.loads(out) == {"webhooks": []}


def test_the_cli_adds_lists_shows_dead_retries_and_removes(
    tmp_path: Path,
    secret_file: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = tmp_path / "cli.db"
    url = f"sqlite:///{db}"
    with receiving(lambda webhook_id, before: 404) as receiver, caplog.at_level(logging.INFO):
        code, out, _ = _cli(
            "webhooks",
            "add",
            receiver.url,
            "--events",
            "*",
            "--secret-file",
            secret_file,
            "--store",
            url,
            "--format",
            "json",
            capsys=capsys,
        )
        assert code == 0
        added = json.loads(out)
        with Store.open(url) as store:
            store.load_world(BOARDS)
            make_steps(store, instances=1, adds=2)
        code, out, _ = _cli(
            "webhooks", "run", "--until-idle", "--backoff", "0.01", "--store", url, capsys=capsys
        )
        assert code == 0
        assert "dead 2" in out
        code, out, _ = _cli("webhooks", "list", "--store", url, capsys=capsys)
        assert "dead 2" in out
        assert "HTTP 404" in out
        code, listed, _ = _cli(
            "webhooks", "list", "--store", url, "--format", "json", capsys=capsys
        )
        stored = b"".join(p.read_bytes() for p in tmp_path.glob("cli.db*"))
        code, out, _ = _cli("webhooks", "dead", added["id"], "--store", url, capsys=capsys)
        assert code == 0
        assert out.count("1 attempts: HTTP 404 Not Found (not retried") == 2
        code, out, _ = _cli("webhooks", "retry", added["id"], "--store", url, capsys=capsys)
        assert code == 0
        assert "requeued 2" in out
        code, out, _ = _cli(
            "webhooks", "dead", added["id"], "--store", url, "--format", "json", capsys=capsys
        )
        assert json.loads(out) == {"id": added["id"], "dead": []}
        code, out, err = _cli("webhooks", "retry", "wh_nobody", "--store", url, capsys=capsys)
        assert code == 1
        assert "no webhook subscriber 'wh_nobody'" in err
        code, out, _ = _cli("webhooks", "remove", added["id"], "--store", url, capsys=capsys)
        assert code == 0
        code, out, err = _cli("webhooks", "remove", added["id"], "--store", url, capsys=capsys)
        assert code == 1
        assert "no webhook subscriber" in err
        code, out, err = _cli("webhooks", "run", "--attempts", "0", "--store", url, capsys=capsys)
        assert code == 2
        assert "--attempts must be more than 0" in err

    # the secret is in no table, no output and no log line: only its file's path is kept
    key = SECRET.removeprefix("whsec_")
    assert key.encode() not in stored
    assert secret_file.encode() in stored
    assert key not in listed
    assert key not in caplog.text
    assert json.loads(listed)["webhooks"][0]["secret_file"] == secret_file


def test_a_killed_deliverer_loses_nothing(store_url: str, secret_file: str) -> None:
    """SIGKILL mid-run, then a second deliverer takes over after the lease: every entry
    arrives at least once, in order per instance, and a duplicate has the same webhook id."""
    url = store_url

    def fault(webhook_id: str, before: int) -> object:
        return "slow"

    with receiving(fault) as receiver, Store.open(url) as store:
        receiver.slow_seconds = 0.02
        store.load_world(BOARDS)
        Webhooks(store).add(receiver.url, ["*"], secret_file, after=0)
        seqs = make_steps(store, instances=6, adds=15)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "engine") + os.pathsep + str(ROOT)}
        command = [
            sys.executable,
            "-m",
            "linkflow",
            "webhooks",
            "run",
            "--forever",
            "--lease",
            "1",
            "--concurrency",
            "4",
            "--store",
            url,
        ]
        first = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 30
            while len(receiver.delivered()) < 30 and time.monotonic() < deadline:
                time.sleep(0.01)
            first.send_signal(signal.SIGKILL)
        finally:
            first.kill()
            first.wait(10)
        assert 0 < len(receiver.delivered()) < 90
        command[command.index("--forever")] = "--until-idle"
        second = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert second.returncode == 0, second.stderr
        assert receiver.bad_signatures == 0
        assert_in_order(receiver.attempts, seqs)
        seq_of: dict[str, int] = {}
        for attempt in receiver.attempts:
            assert seq_of.setdefault(attempt.webhook_id, attempt.seq) == attempt.seq
        assert len(receiver.delivered()) - 90 <= 4  # at most the entries in flight again


def test_two_deliverers_never_send_one_entry_twice(store_url: str, secret_file: str) -> None:
    """Two deliverers on one store (two processes' worth: each its own connection), three
    subscribers: each subscriber is claimed by one of them at a time (PostgreSQL: FOR UPDATE
    SKIP LOCKED; SQLite: one writer), so without a crash every entry arrives exactly once."""
    with receiving() as receiver, Store.open(store_url) as first, Store.open(store_url) as second:
        first.load_world(BOARDS)
        for _ in range(3):
            Webhooks(first).add(receiver.url, ["*"], secret_file, after=0)
        seqs = make_steps(first, instances=4, adds=5)
        policy = replace(FAST, lease=5.0)

        async def both() -> list[dict[str, int]]:
            return list(
                await asyncio.gather(
                    Deliverer(first, policy).run(until_idle=True, poll=0.05),
                    Deliverer(second, policy).run(until_idle=True, poll=0.05),
                )
            )

        counts = asyncio.run(both())
        assert sum(c["delivered"] for c in counts) == 3 * 20
        ids = [a.webhook_id for a in receiver.attempts]
        assert len(ids) == len(set(ids)) == 60
        for subscriber in Webhooks(first).subscribers():
            mine = [
                a for a in receiver.attempts if a.webhook_id.startswith(f"msg_{subscriber.id}_")
            ]
            assert_in_order(mine, seqs)


def test_a_round_longer_than_the_lease_keeps_it(tmp_path: Path, secret_file: str) -> None:
    """Slow answers make one round outlast the lease: the deliverer renews it meanwhile, so a
    second deliverer finds nothing to claim and sends nothing twice."""
    url = f"sqlite:///{tmp_path / 'lease.db'}"
    with (
        receiving(lambda webhook_id, before: "slow") as receiver,
        Store.open(url) as first,
        Store.open(url) as second,
    ):
        # Generous times: a renewal (every third of the lease) must not be starved past the
        # lease by a loaded machine, or the test measures the machine, not the deliverer.
        receiver.slow_seconds = 3.0
        first.load_world(BOARDS)
        Webhooks(first).add(receiver.url, ["*"], secret_file, after=0)
        make_steps(first, instances=2, adds=1)
        policy = replace(FAST, lease=1.5, timeout=8.0)

        async def race() -> list[dict[str, int]]:
            slow = asyncio.create_task(Deliverer(first, policy).run(until_idle=True, poll=0.05))
            await asyncio.sleep(2.2)  # past the lease, while the first round still waits
            late = await Deliverer(second, policy).run(until_idle=True, poll=0.05)
            return [await slow, late]

        counts = asyncio.run(race())
    assert counts[0]["delivered"] == 2
    assert counts[1]["delivered"] == 0
    assert len(receiver.attempts) == 2


def test_a_failing_store_is_logged_and_tried_again_without_until_idle(
    tmp_path: Path,
    secret_file: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The service's deliverer (no --until-idle) outlives a store that fails for a while; with
    --until-idle the StoreError ends the run (the CLI prints it and exits 1)."""
    url = f"sqlite:///{tmp_path / 'down.db'}"
    real_claim = Webhooks.claim
    failures = iter([True, True])

    def flaky_claim(self: Webhooks, owner: str, lease: float) -> Any:
        if next(failures, False):
            raise StoreError("the store is down (injected)")
        return real_claim(self, owner, lease)

    monkeypatch.setattr(Webhooks, "claim", flaky_claim)
    with receiving() as receiver, Store.open(url) as store:
        store.load_world(BOARDS)
        Webhooks(store).add(receiver.url, ["*"], secret_file, after=0)
        make_steps(store, instances=1, adds=2)
        with pytest.raises(StoreError, match="injected"):
            deliver(store)

        async def until_delivered() -> dict[str, int]:
            stop = asyncio.Event()
            running = asyncio.create_task(Deliverer(store, FAST).run(poll=0.05, stop=stop))
            while len(receiver.delivered()) < 2:
                await asyncio.sleep(0.02)
            stop.set()
            return await running

        with caplog.at_level(logging.WARNING, logger="linkflow.webhooks"):
            counts = asyncio.run(until_delivered())
    assert counts["delivered"] == 2
    assert "webhook round failed: the store is down (injected)" in caplog.text
