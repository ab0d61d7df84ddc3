"""Reading the change feed: the one function every reader goes through (`Store.feed`, so the
CLI's `linkflow feed [--follow]`, the service's `/feed` and `/feed/stream`; and the webhook
deliverer's scan, store/webhooks.py).

What a reader may see is the dialect's to say (sql/sqlite.sql, sql/postgresql.sql: `feed`,
`feed_head`): on SQLite every committed entry; on PostgreSQL only the entries below the
watermark, so that an entry whose transaction is still in flight can never turn up later below
a number a reader already went past (docs/store.md, "The change feed on PostgreSQL").
"""

from __future__ import annotations

from collections.abc import Mapping

from linkflow.store.backend import Row, Tx
from linkflow.store.records import FeedEntry


def entry_of(row: Row) -> FeedEntry:
    """A feed row (seq, instance, workflow, event, source, target, outcome, time) as an entry."""
    return FeedEntry(int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], float(row[7]))


def read_feed(tx: Tx, sql: Mapping[str, str], after: int, limit: int) -> list[FeedEntry]:
    """Up to `limit` entries numbered above `after` that a reader may see now, oldest first.
    A reader that goes on from the last number it was given misses none and sees none twice."""
    return [entry_of(row) for row in tx.all(sql["feed"], (after, max(limit, 0)))]


def feed_head(tx: Tx, sql: Mapping[str, str]) -> int:
    """The newest number a reader may see now (0 for none): where to start reading so as to get
    only what is appended from now on, and nothing appended before."""
    row = tx.one(sql["feed_head"])
    return 0 if row is None else int(row[0])
