"""The service's timer loop fires a timeout when the store's clock reaches its due time, not
a moment before: it asks the store for what is due now rather than reckoning "now" itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

from linkflow.service.catalog import Catalog
from linkflow.service.config import ServiceConfig
from linkflow.service.state import Service
from linkflow.service.store_access import StoreAccess
from linkflow.service.timers import timer_loop
from linkflow.store import Store
from tests.service.conftest import SERVICE_CASES
from tests.support.store import FakeClock

ALARM = SERVICE_CASES / "alarm.yaml"


def test_the_timer_loop_fires_at_the_due_time_not_before(tmp_path: Path) -> None:
    clock = FakeClock()
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}", clock=clock)
    started = store.start(ALARM)
    due = started.due
    assert due is not None
    service = Service(ServiceConfig(timer_interval=0.01), Catalog({}), StoreAccess(store))

    async def run() -> tuple[str, str]:
        loop = asyncio.create_task(timer_loop(service))
        try:
            clock.now = due - 0.001
            await asyncio.sleep(0.3)  # many passes of the loop, all a millisecond early
            early = store.get(started.id).state
            clock.now = due
            for _ in range(500):
                if store.get(started.id).state != "set":
                    break
                await asyncio.sleep(0.01)
            return early, store.get(started.id).state
        finally:
            service.stopping.set()
            await loop

    try:
        early, on_time = asyncio.run(run())
        assert (early, on_time) == ("set", "rung")
        assert [h.entry.time for h in store.history(started.id)] == [due]
    finally:
        store.close()
