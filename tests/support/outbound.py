"""A store whose effects and webhooks went wrong, for the studio's operations views: an
instance whose step caused a notify to a port where nothing listens (dead after its one
attempt) and a notify the fake API refuses with 404 (failed), one subscriber whose deliveries
all went dead (nothing listens at its URL) and one whose deliveries a real receiver took.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from linkflow.effects.webhooks import Deliverer, Policy
from linkflow.effects.worker import Options, Worker
from linkflow.store import Store
from linkflow.store.outbox import Outbox
from linkflow.store.webhooks import Webhooks
from tests.support.effect_steps import causing, notify, write_flow
from tests.support.fake_api import fake_api
from tests.support.receiver import receiving, write_secret

#: One attempt each, quickly: a failure is dead at once.
ONCE = Policy(attempts=1, backoff=0.01, max_delay=0.05, timeout=0.5, concurrency=4, lease=1.0)


@dataclass(frozen=True)
class Stocked:
    instance: str
    dead_effect: str
    failed_effect: str
    dead_hook: str
    good_hook: str
    dead_url: str


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _in_thread(work: Callable[[], Coroutine[Any, Any, object]]) -> None:
    """Run a coroutine to its end in a thread of its own: a caller may be inside an event
    loop already (Playwright's sync API runs one)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(work())).result()


def stock(store: Store, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Stocked:
    secret = write_secret(folder)
    dead_url = f"http://127.0.0.1:{closed_port()}/hook"
    hooks = Webhooks(store)
    with fake_api() as api, receiving(lambda webhook_id, before: None) as receiver:
        dead_hook = hooks.add(dead_url, ["*"], secret, after=0)
        good_hook = hooks.add(receiver.url, ["event:ask", "outcome:*"], secret, after=0)
        calls = (
            notify(f"http://127.0.0.1:{closed_port()}/tell", attempts=1, timeout=0.5),
            notify(api.url + "/missing", attempts=1),
        )
        with causing(monkeypatch, {"ask": lambda step: calls}):
            started = store.start(write_flow(folder))
            store.send(started.id, "ask")
        _in_thread(lambda: Worker(store, Options(poll=0.02)).run(until_idle=True))
        _in_thread(lambda: Deliverer(store, ONCE).run(until_idle=True, poll=0.05))
    effects = {e.call.url.rsplit("/", 1)[1]: e for e in Outbox(store).of_instance(started.id)}
    assert effects["tell"].status == "dead", effects["tell"]
    assert effects["missing"].status == "failed", effects["missing"]
    return Stocked(
        started.id, effects["tell"].id, effects["missing"].id, dead_hook.id, good_hook.id, dead_url
    )
