"""Processes that race events against due timers on one store, for the lock-order test.

`python -m tests.support.racers events URL COUNT INSTANCE...`: send COUNT `poke` events (ids
`p<i>`) to the instances in turn, four in a batch (`send_many`, as the service's writer sends
them) then one alone (`Store.send`), over and over; print, as JSON, how many were sent and the
longest wait for an answer.

`python -m tests.support.racers timers URL STOP`: fire due timeouts in passes of PASS (the
service's timer loop), on a clock far ahead so that every waiting instance is always due,
until the file STOP exists (or MAX_PASSES passes, or SECONDS); print "ready" once the store is
open, then, as JSON, how many timeouts fired, in how many passes, and the longest pass.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from linkflow.store import Store
from linkflow.store.batch import EventRequest, send_many

BATCH = 4
PASS = 20
MAX_PASSES = 5000
SECONDS = 90
#: Far enough ahead that a timeout stamped from its due time is still due after every pass.
AHEAD = 1e7


def events(url: str, count: int, instances: list[str]) -> None:
    slowest = 0.0
    with Store.open(url) as store:
        i = 0
        while i < count:
            size = min(BATCH, count - i)
            requests = [
                EventRequest(instances[(i + k) % len(instances)], "poke", event_id=f"p{i + k}")
                for k in range(size)
            ]
            began = time.monotonic()
            outcomes = send_many(store, requests)
            slowest = max(slowest, time.monotonic() - began)
            for outcome in outcomes:
                if isinstance(outcome, Exception):
                    raise outcome
                assert outcome.step.accepted, outcome.step
            i += size
            if i < count:
                began = time.monotonic()
                sent = store.send(instances[i % len(instances)], "poke", event_id=f"p{i}")
                slowest = max(slowest, time.monotonic() - began)
                assert sent.step.accepted, sent.step
                i += 1
    print(json.dumps({"sent": i, "slowest": slowest}), flush=True)


def timers(url: str, stop: Path) -> None:
    fired = passes = 0
    slowest = 0.0
    deadline = time.monotonic() + SECONDS
    with Store.open(url) as store:
        print("ready", flush=True)
        while not stop.exists() and passes < MAX_PASSES and time.monotonic() < deadline:
            began = time.monotonic()
            fired += len(store.fire_due(time.time() + AHEAD, PASS))
            slowest = max(slowest, time.monotonic() - began)
            passes += 1
    print(json.dumps({"fired": fired, "passes": passes, "slowest": slowest}), flush=True)


if __name__ == "__main__":
    mode, url, *rest = sys.argv[1:]
    if mode == "events":
        events(url, int(rest[0]), rest[1:])
    else:
        timers(url, Path(rest[0]))
