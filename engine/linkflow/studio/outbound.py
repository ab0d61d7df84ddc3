"""What a store sends out, for the studio's operations views: the effects outbox across
instances (filtered by status, keyset pages) and the webhook subscribers with their delivery
state and dead deliveries; and the operator's retry of each.

The reads and the retries go through the store's own functions (store/outbox.py,
store/webhooks.py), exactly as `linkflow effects retry` and `linkflow webhooks retry` do. No
secret is ever in an answer: the outbox holds none, and a subscriber's secret file is not even
named (the page has no use for its path).
"""

from __future__ import annotations

from typing import Any

from linkflow.store import NotFound, Store, StoreError
from linkflow.store.errors import Conflict
from linkflow.store.outbox import RETRYABLE, Effect, Outbox
from linkflow.store.webhooks import Subscriber, Webhooks
from linkflow.studio.instances import MAX_LISTED, Refused, UnknownInstance
from linkflow.studio.playground import PlaygroundError

#: The statuses the effects view filters by: the store's, and `retrying` (pending again after
#: a failed attempt).
EFFECT_FILTERS = ("pending", "retrying", "running", "dead", "failed", "late", "done", "cancelled")
#: The most dead deliveries shown per subscriber (the count says how many there are in all).
MAX_DEAD_SHOWN = 50
#: The most pending effects read to fill one page of `retrying` ones.
RETRYING_SCAN = 5000


class UnknownItem(UnknownInstance):
    """No effect or subscriber by that id (a 404 for the page)."""


class BadFilter(PlaygroundError):
    """A status or page size the listing does not take (a 400 for the page)."""


def effect_row(effect: Effect) -> dict[str, Any]:
    """An effect as the page shows it: what it calls and where it stands, no secret."""
    retrying = effect.retrying
    return {
        "id": effect.id,
        "instance": effect.instance_id,
        "kind": effect.call.kind,
        "name": effect.call.name,
        "service": effect.call.service,
        "method": effect.call.method,
        "status": "retrying" if retrying else effect.status,
        "attempts": effect.attempts,
        "max_attempts": effect.call.retry.attempts,
        "last_error": effect.last_error,
        "next_attempt": effect.due if effect.status == "pending" else None,
        "created": effect.created,
        "updated": effect.updated,
        "retryable": effect.status in RETRYABLE,
    }


class Outbound:
    """The effects and webhooks of one open store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.outbox = Outbox(store)
        self.hooks = Webhooks(store)

    # -- effects --------------------------------------------------------------------------------

    def effects(
        self, status: str | None, limit: int, after: tuple[float, str] | None
    ) -> dict[str, Any]:
        """One page of effects, newest first; `next` is the cursor of the following page."""
        if status is not None and status not in EFFECT_FILTERS:
            raise BadFilter(f"status must be one of {', '.join(EFFECT_FILTERS)}")
        if not 1 <= limit <= MAX_LISTED:
            raise BadFilter(f"limit must be between 1 and {MAX_LISTED}")
        try:
            if status == "retrying":
                found, following = self._retrying(limit, after)
            else:
                page = self.outbox.page(status=status, limit=limit, after=after)
                found, following = page.effects, page.next
            counts = self.outbox.counts()
        except StoreError as err:
            raise PlaygroundError(str(err)) from None
        rows = [effect_row(e) for e in found]
        workflows: dict[str, str | None] = {}
        for row in rows:
            ident = row["instance"]
            if ident not in workflows:
                workflows[ident] = self._workflow_of(ident)
            row["workflow"] = workflows[ident]
        return {
            "store": self.store.where,
            "statuses": list(EFFECT_FILTERS),
            "counts": counts,
            "effects": rows,
            "next": following,
        }

    def _workflow_of(self, instance_id: str) -> str | None:
        """The workflow an effect's instance runs (None when the instance is gone)."""
        try:
            return self.store.get(instance_id).workflow
        except NotFound:
            return None

    def _retrying(
        self, limit: int, after: tuple[float, str] | None
    ) -> tuple[list[Effect], tuple[float, str] | None]:
        """Pending effects that failed before: read pending ones page by page (at most
        RETRYING_SCAN), keeping those; the next page goes on after the last one read."""
        kept: list[Effect] = []
        place = after
        read = 0
        while read < RETRYING_SCAN:
            page = self.outbox.page(status="pending", limit=MAX_LISTED, after=place)
            for effect in page.effects:
                read += 1
                place = (effect.created, effect.id)
                if effect.retrying:
                    kept.append(effect)
                    if len(kept) == limit:
                        return kept, place
            if page.next is None:
                return kept, None
        return kept, place

    def retry_effect(self, effect_id: str) -> dict[str, Any]:
        """A dead or failed effect back to pending, attempts from zero (`linkflow effects
        retry`); Refused (a 409) for any other status."""
        try:
            row = effect_row(self.outbox.retry(effect_id))
            row["workflow"] = self._workflow_of(row["instance"])
            return row
        except NotFound:
            raise UnknownItem(f"no effect '{effect_id}' in the store") from None
        except Conflict as err:
            raise Refused(str(err)) from None
        except StoreError as err:
            raise PlaygroundError(str(err)) from None

    # -- webhooks -------------------------------------------------------------------------------

    def webhooks(self) -> dict[str, Any]:
        """Every subscriber with its delivery state and its dead deliveries."""
        try:
            subscribers = self.hooks.subscribers()
            rows = [self._subscriber(s) for s in subscribers]
        except StoreError as err:
            raise PlaygroundError(str(err)) from None
        return {"store": self.store.where, "webhooks": rows}

    def _subscriber(self, subscriber: Subscriber) -> dict[str, Any]:
        try:
            dead = self.hooks.dead(subscriber.id)[:MAX_DEAD_SHOWN] if subscriber.dead else []
        except NotFound:  # removed since the list was read: its counts are the last it had
            dead = []
        for delivery in dead:
            step = self._delivered_step(delivery["seq"]) or {}
            delivery["event"], delivery["time"] = step.get("event"), step.get("time")
        return {
            "id": subscriber.id,
            "url": subscriber.url,
            "events": list(subscriber.events),
            "created": subscriber.created,
            "delivered": subscriber.delivered,
            "pending": subscriber.pending,
            "retrying": subscriber.retrying,
            "dead": subscriber.dead,
            "failures": subscriber.failures,
            "last_error": subscriber.last_error,
            "last_delivered": self._delivered_step(subscriber.last_delivered),
            "dead_deliveries": dead,
        }

    def _delivered_step(self, seq: int | None) -> dict[str, Any] | None:
        """The feed entry last delivered: its number, and its step (when still in the feed)."""
        if seq is None:
            return None
        entries = self.store.feed(after=seq - 1, limit=1)
        entry = entries[0] if entries and entries[0].seq == seq else None
        if entry is None:
            return {"seq": seq, "time": None, "event": None, "instance": None}
        return {"seq": seq, "time": entry.time, "event": entry.event, "instance": entry.instance}

    def retry_webhook(self, subscriber_id: str) -> dict[str, Any]:
        """Requeue the subscriber's dead deliveries (`linkflow webhooks retry`): how many, and
        the subscriber as it now is."""
        try:
            count = self.hooks.retry(subscriber_id)
            found = self._subscriber(self.hooks.get(subscriber_id))
        except NotFound:
            raise UnknownItem(f"no webhook subscriber '{subscriber_id}' in the store") from None
        except StoreError as err:
            raise PlaygroundError(str(err)) from None
        return {"requeued": count, "webhook": found}


__all__ = ["EFFECT_FILTERS", "BadFilter", "Outbound", "UnknownItem", "effect_row"]
