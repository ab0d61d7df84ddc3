"""Timeouts: every instance whose waiting state's timeout is due is fired exactly once, in
batches of one transaction (one commit, one fsync, for many timers)."""

from __future__ import annotations

from functools import partial

from linkflow.store.backend import Row, Tx
from linkflow.store.core import record_of
from linkflow.store.errors import StoreError
from linkflow.store.records import Sent
from linkflow.store.steps import Pending, StepWriter

#: How many due timers one transaction claims and fires: one commit (one fsync) for many
#: timers, yet a short enough transaction that other writers do not wait long behind it.
FIRE_BATCH = 500


class Timers(StepWriter):
    """`fire_due` and `next_due` (see `Store`)."""

    def fire_due(self, now: float | None = None, limit: int | None = None) -> list[Sent]:
        """Fire every timeout due by `now` (default: the store's clock), each exactly once.

        A timeout is stamped with its due time, so the next state's wait counts from then:
        a -> b -> c with 10 s each, fired late at 25 s, fires a and b and leaves c due at 30 s.

        Up to FIRE_BATCH due instances are claimed and fired in one transaction (one commit,
        one fsync, for many timers). When a batch fails because one timer's step raised, it is
        rolled back and its timers are fired one transaction each: the others are fired, the
        failing one stays due, and its error is raised once every other due timer has been
        fired. A failing store (a StoreError: unreachable, full, too busy) stops at once.
        """
        moment = self.clock() if now is None else now
        fired: list[Sent] = []
        failed: dict[str, Exception] = {}
        while limit is None or len(fired) < limit:
            size = FIRE_BATCH if limit is None else min(FIRE_BATCH, limit - len(fired))
            skip = frozenset(failed)
            if not self._any_due(moment, skip):
                break  # read first: a pass with nothing due does not queue behind the writers
            try:
                claimed, sent = self._write(
                    partial(self._fire_batch, now=moment, size=size, skip=skip)
                )
            except StoreError:
                raise  # the store failed (unreachable, full, too busy), not one timer's step
            except Exception:
                claimed, sent = self._fire_singly(moment, size, skip, failed)
            fired.extend(sent)
            if not claimed:
                break
        if failed:
            raise next(iter(failed.values()))
        return fired

    def _any_due(self, now: float, skip: frozenset[str]) -> bool:
        """Whether a timer other than `skip` looks due (read without a lock: a batch claims)."""
        with self.backend.read() as tx:
            rows = tx.all(self.sql["due_ids"], (now, 1 + len(skip)))
        return any(row[0] not in skip for row in rows)

    def _fire_batch(
        self, tx: Tx, now: float, size: int, skip: frozenset[str]
    ) -> tuple[int, list[Sent]]:
        """Claim up to `size` due instances and fire each; how many were claimed, what fired.

        Rows are claimed with `SKIP LOCKED`, so a pass never waits for an instance row an
        event batch holds, and numbers its feed entries last (core.py, "Lock order").

        Timers that failed in this call (`skip`) are read past, so the rest fire behind them.
        The steps' history, instance and feed rows are written together at the end, one
        batched statement each: a timer costs its step, not several statements."""
        rows = tx.all(self.sql["claim_due"], (now, size + len(skip)))
        rows = [row for row in rows if row[0] not in skip][:size]
        pending = Pending()
        for row in rows:
            self._fire_row(tx, row, pending)
        return len(rows), self._flush(tx, pending)

    def _fire_singly(
        self, now: float, size: int, skip: frozenset[str], failed: dict[str, Exception]
    ) -> tuple[int, list[Sent]]:
        """The timers of a failed batch, one transaction each; a failure is kept in `failed`."""
        with self.backend.read() as tx:
            rows = tx.all(self.sql["due_ids"], (now, size + len(skip)))
        ids = [row[0] for row in rows if row[0] not in skip][:size]
        fired: list[Sent] = []
        for instance_id in ids:
            try:
                sent = self._write(partial(self._fire_id, instance_id=instance_id, now=now))
            except StoreError:
                raise
            except Exception as err:
                failed[instance_id] = err
                continue
            if sent is not None:
                fired.append(sent)
        return len(ids), fired

    def _fire_id(self, tx: Tx, instance_id: str, now: float) -> Sent | None:
        row = tx.one(self.sql["claim_due_instance"], (instance_id, now))
        if row is None:
            return None  # another process fired it first
        pending = Pending()
        self._fire_row(tx, row, pending)
        return next(iter(self._flush(tx, pending)), None)

    def _fire_row(self, tx: Tx, row: Row, pending: Pending) -> None:
        """Fire the timeout of one claimed instance row into `pending` (nothing when its
        state has no timeout)."""
        record = record_of(row)
        due = float(row[11])
        instance, world = self._materialize(tx, record, lock=True, clock=lambda: due)
        step = instance.time_out()
        if step is None or not step.accepted:
            # The definition has no timeout here (or its step failed): stop the timer, so the
            # instance is not fired again and again; a refusal is in its history.
            tx.run(self.sql["stop_timer"], (record.id,))
            if step is None:
                return
        self._stage(tx, pending, record, instance, world, step, None, None)

    def next_due(self) -> float | None:
        """When the next timeout is due, or None."""
        with self.backend.read() as tx:
            row = tx.one(self.sql["next_due"])
        return None if row is None or row[0] is None else float(row[0])
