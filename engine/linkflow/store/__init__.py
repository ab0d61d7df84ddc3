"""Durable instances: a store (SQLite by default, or PostgreSQL) that keeps every instance,
its history, the world and a change feed, and fires timeouts when they come due.

Sits above `linkflow.runtime`: each event runs on the in-memory engine inside one transaction.
"""

from linkflow.store.errors import Conflict, NotAllowed, NotFound, StoreError
from linkflow.store.records import FeedEntry, InstanceRecord, Sent, StoredEntry
from linkflow.store.store import Store

__all__ = [
    "Conflict",
    "FeedEntry",
    "InstanceRecord",
    "NotAllowed",
    "NotFound",
    "Sent",
    "Store",
    "StoreError",
    "StoredEntry",
]
