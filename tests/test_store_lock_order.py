"""Two event batches that share instances, sent in opposite orders from two connections at
once on PostgreSQL: each batch locks its instances in id order before any step runs (store/
core.py, "Lock order"), so neither holds one while waiting for the other's (before schema
version 8 the feed counter, taken first, kept them in a queue instead). Bounded: 40 rounds.
"""

from __future__ import annotations

import threading
from pathlib import Path

from linkflow.store import Store
from linkflow.store.batch import EventRequest, send_many
from linkflow.store.records import Sent
from tests.support.postgres import PostgresServer
from tests.support.store import BOARDS, TALLY

ROUNDS = 40
#: Sends per thread in the world-record race (a deadlock costs `deadlock_timeout`, 1 s).
SENDS = 15


def test_batches_sharing_instances_in_opposite_orders_deadlock_nowhere(
    postgres: PostgresServer,
) -> None:
    url = postgres.database()
    with Store.open(url) as store:
        store.load_world(BOARDS)
        first, second = (store.start(TALLY, {"board": "main"}).id for _ in range(2))
    mark = postgres.log_size()
    errors: list[str] = []
    outcomes: list[Sent | Exception] = []
    retries: list[int] = []
    start = threading.Barrier(2)

    def send(order: tuple[str, str], tag: str) -> None:
        # Each step locks its instance, then the board both share: without the locks taken
        # up front, one batch would hold `first` and the board while the other holds `second`.
        try:
            with Store.open(url) as own:
                start.wait(timeout=30)
                for n in range(ROUNDS):
                    batch = [EventRequest(i, "add", {"item": f"{tag}{n}"}) for i in order]
                    outcomes.extend(send_many(own, batch))
                retries.append(own.retries)
        except Exception as err:  # reported by the test: a thread's exception is otherwise lost
            errors.append(repr(err))

    threads = [
        threading.Thread(target=send, args=((first, second), "a")),
        threading.Thread(target=send, args=((second, first), "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert all(isinstance(o, Sent) and o.step.accepted for o in outcomes), outcomes
    with Store.open(url) as store:
        assert store.get(first).data["count"] == store.get(second).data["count"] == 2 * ROUNDS
        assert len(store.world("boards", "main")["main"]["items"]) == 4 * ROUNDS
    deadlocks = [line for line in postgres.logged(url, mark) if "deadlock detected" in line]
    assert not deadlocks, deadlocks
    assert retries == [0, 0]


#: A step that appends to two board records, in the order its data names them.
TWO_BOARDS = """\
workflow: two_boards
initial: open
data:
  first: ""
  second: ""
bindings:
  first_board:
    from: boards
    key: data.first
  second_board:
    from: boards
    key: data.second
states:
  open: {}
  done: {final: completed}
events:
  add: {}
  finish: {}
transitions:
  - event: add
    from: open
    to: open
    actions:
      - append: {path: "world.boards[data.first].items", value: "'x'"}
      - append: {path: "world.boards[data.second].items", value: "'x'"}
  - event: finish
    from: open
    to: done
"""


def test_steps_reading_two_records_in_opposite_orders_are_run_again(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """What the lock order cannot sort: two steps that lock the same two world records in
    opposite orders. PostgreSQL picks one as a deadlock victim while its step is reading a
    record; the store runs that transaction again instead of answering with an error."""
    url = postgres.database()
    workflow = tmp_path / "two_boards.yaml"
    workflow.write_text(TWO_BOARDS, encoding="utf-8")
    with Store.open(url) as store:
        store.load_world(BOARDS)
        forward = store.start(workflow, {"first": "main", "second": "spare"}).id
        backward = store.start("two_boards", {"first": "spare", "second": "main"}).id
    errors: list[str] = []
    start = threading.Barrier(2)

    def send(instance_id: str) -> None:
        try:
            with Store.open(url) as own:
                start.wait(timeout=30)
                for _ in range(SENDS):
                    assert own.send(instance_id, "add").step.accepted
        except Exception as err:  # reported by the test
            errors.append(repr(err))

    threads = [threading.Thread(target=send, args=(i,)) for i in (forward, backward)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with Store.open(url) as store:
        boards = store.world("boards", "main")["main"], store.world("boards", "spare")["spare"]
        assert [len(b["items"]) for b in boards] == [2 * SENDS, 2 * SENDS]
