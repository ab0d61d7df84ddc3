"""A webhook subscriber's URL: one the HTTP client refuses (`http://h:abc/`, `http://[v1.x]/`)
was stored, and its first delivery raised out of the deliverer (it stopped, for every
subscriber); `http://[::1` was a 500; a user and password were stored and shown to anyone
listing the subscribers. Each is refused when added now, without repeating a password, and a
URL stored before is a failed delivery with its reason while the others are delivered."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkflow.effects.webhooks import Deliverer, Policy
from linkflow.errors import UsageError
from linkflow.store import Store
from linkflow.store.webhooks import Webhooks
from tests.support.receiver import receiving, write_secret
from tests.support.store import BOARDS, TALLY

POLICY = Policy(attempts=2, backoff=0.01, max_delay=0.05, timeout=5.0, concurrency=4, lease=1.0)


@pytest.fixture
def secret_file(tmp_path: Path) -> str:
    return write_secret(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        opened.load_world(BOARDS)
        yield opened


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[::1", "is not a usable URL"),
        ("http://[v1.x]/hook", "is not a usable URL"),
        ("http://h.example:abc/hook", "is not a usable URL"),
        ("http://h.example:99999/hook", "is not a usable URL"),
        ("http://h.example:0/hook", "a port is from 1 to 65535"),
        ("https://ann:hunter2@h.example/hook", "holds no user or password"),
        ("http://h.example\\@other.example/", "holds no user or password"),
        ("http://h.example/a b", "a space, a control character or a backslash"),
        ("http://h.example/a\\b", "a space, a control character or a backslash"),
        ("http://ann:hunter2@h.example:x/", "is not a usable URL"),
    ],
)
def test_a_url_the_client_cannot_use_is_refused_without_its_password(
    store: Store, secret_file: str, url: str, why: str
) -> None:
    with pytest.raises(UsageError) as refused:
        Webhooks(store).add(url, ["*"], secret_file)
    assert why in str(refused.value)
    assert "hunter2" not in str(refused.value)
    assert Webhooks(store).subscribers() == []


def test_a_url_stored_before_fails_its_deliveries_and_the_others_still_go(
    store: Store, secret_file: str
) -> None:
    hooks = Webhooks(store)
    with receiving() as receiver:
        good = hooks.add(receiver.url, ["*"], secret_file, after=0)
        bad = hooks.add(receiver.url + "/other", ["*"], secret_file, after=0)
        store._write(  # as a store written before the URL check would hold it
            lambda tx: tx.run(
                "UPDATE webhook_subscribers SET url = ? WHERE id = ?",
                ("http://127.0.0.1:abc/hook", bad.id),
            )
        )
        started = store.start(TALLY, {"board": "main"})
        store.send(started.id, "add", {"item": "i"})
        run = Deliverer(store, POLICY).run(until_idle=True, poll=0.05)
        counts = asyncio.run(asyncio.wait_for(run, 60))
    assert counts["delivered"] == 1, counts
    assert hooks.get(good.id).delivered == 1
    failed = hooks.get(bad.id)
    assert failed.dead == 1
    assert failed.last_error == "the subscriber's URL cannot be used (InvalidURL)"
