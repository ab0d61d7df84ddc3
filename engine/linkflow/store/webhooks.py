"""Webhook subscribers and their deliveries, kept beside the change feed.

A subscriber has a URL, event patterns (`matches`) and the path of the file that holds its
signing secret: the database never holds the secret. It reads the feed in order (`scanned` is
the feed number read up to); each entry that matches becomes a delivery row, removed when
delivered (the subscriber counts it) and kept as `dead` when it cannot be, until an operator
requeues it (`retry`). A deliverer (linkflow.effects.webhooks) claims subscribers with a lease:
one deliverer works on a subscriber at a time, so several processes never send one entry twice
at once (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: its single writer).

The queries are in sql/webhooks.sql, read once.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from functools import cache, partial
from typing import Any
from urllib.parse import urlsplit

from linkflow.errors import UsageError
from linkflow.store.backend import Tx
from linkflow.store.core import StoreCore, new_id
from linkflow.store.errors import NotFound
from linkflow.store.feed import feed_head, read_feed
from linkflow.store.queries import read
from linkflow.store.records import FeedEntry

#: What a pattern may name before its colon; a bare pattern names the event.
PATTERN_FIELDS = ("workflow", "event", "outcome")
#: Feed entries read per transaction while scanning.
SCAN_BATCH = 500


@cache
def _queries() -> dict[str, str]:
    return read("webhooks.sql")


def check_patterns(patterns: Sequence[str]) -> tuple[str, ...]:
    """The patterns as given, or a UsageError naming the first wrong one.

    `*` matches every entry; `workflow:GLOB`, `event:GLOB` and `outcome:GLOB` match the
    entry's workflow name, event name or outcome (an entry that ends its instance); a bare
    `GLOB` matches the event name. GLOB is a shell-style pattern (`*`, `?`, `[...]`)."""
    if not patterns:
        raise UsageError("give at least one event pattern ('*' for every feed entry)")
    for pattern in patterns:
        field, colon, glob = pattern.partition(":")
        if not pattern.strip():
            raise UsageError("an event pattern cannot be empty")
        if colon and field not in PATTERN_FIELDS:
            raise UsageError(
                f"event pattern '{pattern}': '{field}:' is not one of "
                f"{', '.join(f + ':' for f in PATTERN_FIELDS)} (a bare pattern names the event)"
            )
        if colon and not glob:
            raise UsageError(f"event pattern '{pattern}': nothing after '{field}:'")
    return tuple(patterns)


def matches(patterns: Sequence[str], entry: FeedEntry) -> bool:
    """Whether a feed entry matches any of the patterns (see `check_patterns`)."""
    for pattern in patterns:
        field, colon, glob = pattern.partition(":")
        if not colon:
            field, glob = "event", pattern
        value = {"workflow": entry.workflow, "event": entry.event, "outcome": entry.outcome}[field]
        if value is not None and fnmatchcase(value, glob):
            return True
    return False


def check_url(url: str) -> str:
    """`url` when a subscriber may receive at it: http(s), a host (an IPv6 one well formed),
    a port from 1 to 65535, no user or password (the URL is shown to whoever lists the
    subscribers; a receiver checks the signature instead), no space, control character or
    backslash. A URL the HTTP client refuses would fail every delivery round."""
    # what a message repeats of it: never a user or password it may hold
    shown = re.sub(r"//[^/?#]*@", "//", url).encode("ascii", "backslashreplace").decode()[:200]
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
        if host and "[" in parts.netloc:
            ipaddress.IPv6Address(host.split("%")[0])
    except ValueError as err:
        raise UsageError(f"'{shown}' is not a usable URL ({err})") from None
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"'{shown}' is not an http:// or https:// URL with a host")
    if port == 0:
        raise UsageError(f"'{shown}': a port is from 1 to 65535")
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            "a subscriber's URL holds no user or password: it is shown to whoever lists the "
            "subscribers (the receiver checks each delivery's signature instead)"
        )
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in url):
        raise UsageError(f"'{shown}' holds a space, a control character or a backslash")
    return url


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A subscriber and its delivery state, as read."""

    id: str
    url: str
    events: tuple[str, ...]
    #: Where the signing secret is read from at each delivery (the secret is in no table).
    secret_file: str
    created: float
    #: The feed number read up to.
    scanned: int
    delivered: int
    last_delivered: int | None
    #: Attempts that failed (each retry or dead letter counts one).
    failures: int
    last_error: str | None
    #: Entries waiting for their first attempt, entries waiting to be tried again, dead ones.
    pending: int = 0
    retrying: int = 0
    dead: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "secret_file": self.secret_file,
            "created": self.created,
            "scanned": self.scanned,
            "delivered": self.delivered,
            "last_delivered": self.last_delivered,
            "pending": self.pending,
            "retrying": self.retrying,
            "dead": self.dead,
            "failures": self.failures,
            "last_error": self.last_error,
        }


@dataclass(frozen=True, slots=True)
class Claimed:
    """A subscriber a deliverer holds the lease of."""

    id: str
    url: str
    events: tuple[str, ...]
    secret_file: str
    scanned: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """One feed entry to send to one subscriber, with the attempts made so far."""

    subscriber: str
    seq: int
    attempts: int
    entry: FeedEntry

    @property
    def webhook_id(self) -> str:
        """The `webhook-id`: the same for every attempt, so a receiver can deduplicate."""
        return f"msg_{self.subscriber}_{self.seq}"


class Webhooks:
    """The webhook tables of an open store (`Webhooks(store)`)."""

    def __init__(self, store: StoreCore) -> None:
        self.store = store
        self.sql = _queries()

    def _write(self, work: Any) -> Any:
        return self.store._write(work)

    # -- subscribers ----------------------------------------------------------------------------

    def add(
        self, url: str, events: Sequence[str], secret_file: str, *, after: int | None = None
    ) -> Subscriber:
        """A new subscriber; it receives the entries after feed number `after` (default: the
        feed's end now, so only what happens from now on)."""
        check_url(url)
        patterns = check_patterns(events)
        if not secret_file.strip():
            raise UsageError("a subscriber needs the path of its secret file")
        if after is not None and after < 0:
            raise UsageError("'after' is a feed number, 0 or more")
        subscriber_id = "wh_" + new_id()

        def work(tx: Tx) -> None:
            start = after
            if start is None:
                start = feed_head(tx, self.store.sql)
            row = (subscriber_id, url, json.dumps(list(patterns)), secret_file)
            tx.run(self.sql["insert_subscriber"], (*row, self.store.clock(), start))

        self._write(work)
        return self.get(subscriber_id)

    def subscribers(self) -> list[Subscriber]:
        with self.store.backend.read() as tx:
            rows = tx.all(self.sql["subscribers"])
        return [
            Subscriber(
                r[0],
                r[1],
                tuple(json.loads(r[2])),
                r[3],
                float(r[4]),
                int(r[5]),
                int(r[6]),
                None if r[7] is None else int(r[7]),
                int(r[8]),
                r[9],
                int(r[10]),
                int(r[11]),
                int(r[12]),
            )
            for r in rows
        ]

    def get(self, subscriber_id: str) -> Subscriber:
        for subscriber in self.subscribers():
            if subscriber.id == subscriber_id:
                return subscriber
        raise NotFound(f"no webhook subscriber '{subscriber_id}' in the store")

    def remove(self, subscriber_id: str) -> None:
        """Remove a subscriber and its pending and dead deliveries."""

        def work(tx: Tx) -> int:
            tx.run(self.sql["delete_deliveries"], (subscriber_id,))
            return len(tx.all(self.sql["delete_subscriber"], (subscriber_id,)))

        if not self._write(work):
            raise NotFound(f"no webhook subscriber '{subscriber_id}' in the store")

    def retry(self, subscriber_id: str) -> int:
        """Requeue the subscriber's dead deliveries (attempts start again); how many."""

        def work(tx: Tx) -> int | None:
            if tx.one(self.sql["subscriber_exists"], (subscriber_id,)) is None:
                return None
            return len(tx.all(self.sql["requeue_dead"], (self.store.clock(), subscriber_id)))

        count: int | None = self._write(work)
        if count is None:
            raise NotFound(f"no webhook subscriber '{subscriber_id}' in the store")
        return count

    def dead(self, subscriber_id: str) -> list[dict[str, Any]]:
        """The subscriber's dead deliveries: feed number, instance, attempts, last error."""
        self.get(subscriber_id)
        with self.store.backend.read() as tx:
            rows = tx.all(self.sql["dead_deliveries"], (subscriber_id,))
        return [
            {"seq": int(r[0]), "instance": r[1], "attempts": int(r[2]), "last_error": r[3]}
            for r in rows
        ]

    # -- the deliverer's side -------------------------------------------------------------------

    def claim(self, owner: str, lease: float) -> list[Claimed]:
        """Take (or renew) the lease of every subscriber no other deliverer holds now."""
        now = self.store.clock()
        dialect = self.store.backend.name
        query = self.sql[f"claim_{dialect}"]
        rows = self._write(lambda tx: tx.all(query, (owner, now + lease, owner, now)))
        return [Claimed(r[0], r[1], tuple(json.loads(r[2])), r[3], int(r[4])) for r in rows]

    def renew(self, owner: str, lease: float) -> None:
        """Extend the leases `owner` holds (a round still running)."""
        until = self.store.clock() + lease
        self._write(lambda tx: tx.run(self.sql["renew"], (until, owner)))

    def release(self, owner: str) -> None:
        """Give up every lease `owner` holds (a deliverer that stops cleanly)."""
        self._write(lambda tx: tx.run(self.sql["release"], (owner,)))

    def scan(self, owner: str, subscriber: Claimed) -> tuple[Claimed, int]:
        """Read the feed after the subscriber's place, add a delivery for each entry that
        matches, and move its place on: the subscriber as it now is, and how many were added.
        Nothing is written when `owner` lost the lease meanwhile."""

        total = 0
        current = subscriber
        while True:
            scanned, added = self._write(partial(self._scan_batch, owner=owner, place=current))
            total += added
            if scanned == current.scanned:
                return current, total
            current = replace(current, scanned=scanned)

    def _scan_batch(self, tx: Tx, owner: str, place: Claimed) -> tuple[int, int]:
        """One batch of `scan`: the feed number read up to after it, and deliveries added."""
        entries = read_feed(tx, self.store.sql, place.scanned, SCAN_BATCH)
        if not entries:
            return place.scanned, 0
        last = entries[-1].seq
        if not tx.all(self.sql["advance_scanned"], (last, place.id, owner, last)):
            return place.scanned, 0  # the lease went to another deliverer
        now = self.store.clock()
        added = [(place.id, e.seq, e.instance, now) for e in entries if matches(place.events, e)]
        if added:
            tx.many(self.sql["insert_delivery"], added)
        return last, len(added)

    def any_subscriber(self) -> bool:
        with self.store.backend.read() as tx:
            return tx.one(self.sql["any_subscriber"]) is not None

    def feed_head(self) -> int:
        """The newest feed number a reader may see now (0 for none: store/feed.py)."""
        with self.store.backend.read() as tx:
            return feed_head(tx, self.store.sql)

    def due(self, subscriber_id: str, limit: int) -> list[Delivery]:
        """The deliveries to attempt now: for each instance its oldest open one, if due."""
        with self.store.backend.read() as tx:
            rows = tx.all(self.sql["due_heads"], (subscriber_id, self.store.clock(), limit))
        return [Delivery(subscriber_id, int(r[0]), int(r[1]), _entry((r[0], *r[2:]))) for r in rows]

    def next_due(self, subscriber_id: str) -> float | None:
        """When the subscriber's next open delivery is due, or None when it has none."""
        with self.store.backend.read() as tx:
            row = tx.one(self.sql["next_due"], (subscriber_id,))
        return None if row is None or row[0] is None else float(row[0])

    def record(self, outcomes: Sequence[tuple[Delivery, str | None, float | None]]) -> None:
        """The outcomes of several attempts, in one transaction (one commit for many). Each is
        (delivery, None, None) for delivered, (delivery, error, due) for one to be tried again
        at `due`, (delivery, error, None) for a dead one. An outcome for a delivery no longer
        open (the subscriber was removed meanwhile) changes nothing."""

        def work(tx: Tx) -> None:
            now = self.store.clock()
            for delivery, error, due in outcomes:
                key = (delivery.subscriber, delivery.seq)
                if error is None:
                    if tx.all(self.sql["delivered"], key):
                        tx.run(
                            self.sql["count_delivered"],
                            (delivery.seq, delivery.seq, delivery.subscriber),
                        )
                    continue
                state = "dead" if due is None else "pending"
                when = now if due is None else due
                if tx.all(self.sql["failed"], (state, when, error, *key)):
                    tx.run(self.sql["count_failed"], (error, delivery.subscriber))

        self._write(work)


def _entry(row: Sequence[Any]) -> FeedEntry:
    seq, instance, workflow, event, source, target, outcome, time = row
    return FeedEntry(int(seq), instance, workflow, event, source, target, outcome, float(time))
