"""Processes that write to a store, for the concurrency and crash tests.

`python -m tests.support.writers add URL INSTANCE ITEM...`: send one `add` per item.
`python -m tests.support.writers crash URL FROM INSTANCE...`: send event i (from FROM on) to
instance i % n with event id `e<i>` and item `x<i>`, printing `i` once its send returned;
runs until killed.
"""

from __future__ import annotations

import sys

from linkflow.store import Store


def add(url: str, instance: str, items: list[str]) -> None:
    with Store.open(url) as store:
        for item in items:
            assert store.send(instance, "add", {"item": item}).step.accepted


def crash(url: str, first: int, instances: list[str]) -> None:
    with Store.open(url) as store:
        i = first
        while True:
            target = instances[i % len(instances)]
            store.send(target, "add", {"item": f"x{i}"}, event_id=f"e{i}")
            print(i, flush=True)
            i += 1


if __name__ == "__main__":
    mode, url, *rest = sys.argv[1:]
    if mode == "add":
        add(url, rest[0], rest[1:])
    else:
        crash(url, int(rest[0]), rest[1:])
