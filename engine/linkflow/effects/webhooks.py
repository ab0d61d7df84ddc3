"""The webhook deliverer: follows the change feed and POSTs each matching entry to each
subscriber, signed by the Standard Webhooks scheme.

Each round it claims the subscribers no other deliverer holds (a lease, store/webhooks.py),
reads the feed on from where each one stopped, and attempts the deliveries that are due, at
most `concurrency` at once over one httpx client. For each instance only its oldest open
delivery is attempted: an entry is not sent before the earlier entries of its instance were
delivered or dead-lettered (order per instance; entries of different instances go in
parallel).

An attempt ends in one of three ways:

- a 2xx answer: delivered (the row goes, the subscriber counts it);
- a timeout, a connection error, a 5xx or a 429: tried again after an exponential backoff with
  jitter (`Policy.delay`), or after the answer's `Retry-After` when it gives one; dead after
  `Policy.attempts` attempts;
- any other answer (3xx, 4xx but 429): dead at once; the receiver refused it, and sending it
  again would not change that. `linkflow webhooks retry ID` requeues dead deliveries.

At least once: an attempt's outcome is written after the answer comes, so a deliverer that dies
between sending and writing sends that entry again (the same `webhook-id`: receivers
deduplicate on it). Nothing else is sent twice; nothing is skipped.

The signature: `webhook-id` is `msg_<subscriber>_<feed number>` (stable over attempts),
`webhook-timestamp` the attempt's Unix time, `webhook-signature` the `v1,` HMAC-SHA256 the
standardwebhooks library computes with the secret read from the subscriber's secret file at
each round (so a rotated file takes effect without a restart). The body is JSON:
`{"type": "linkflow.feed.entry", "timestamp": ..., "data": <the feed entry>}`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook

from linkflow.errors import UsageError
from linkflow.store.core import new_id
from linkflow.store.errors import StoreError
from linkflow.store.store import Store
from linkflow.store.webhooks import Claimed, Delivery, Webhooks

LOG = logging.getLogger("linkflow.webhooks")
#: The `type` of every webhook body.
MESSAGE_TYPE = "linkflow.feed.entry"
#: Deliveries one round attempts per subscriber at most (one per instance: see `due`).
ROUND_LIMIT = 1000
#: A Retry-After longer than this is cut to it.
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True, slots=True)
class Policy:
    """How deliveries are attempted."""

    #: Attempts before a delivery is dead-lettered.
    attempts: int = 8
    #: The first retry's delay in seconds; doubled for each further attempt, up to `max_delay`.
    backoff: float = 1.0
    max_delay: float = 300.0
    #: Seconds an attempt may take (connect, send, answer).
    timeout: float = 10.0
    #: Attempts in flight at once, over every subscriber.
    concurrency: int = 16
    #: Seconds a deliverer owns the subscribers it claimed; renewed every round.
    lease: float = 30.0

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed attempt: the answer's Retry-After
        when it gave one, else backoff * 2^(attempts-1), capped, times a jitter in [0.5, 1]
        (so receivers that failed together are not hit together again)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        ceiling = min(self.max_delay, self.backoff * 2.0 ** max(attempts - 1, 0))
        return float(ceiling * random.uniform(0.5, 1.0))


def check_secret_file(path: str) -> str:
    """The secret file's absolute path, or a UsageError when it cannot serve as one (the
    message names the file, never what it holds)."""
    resolved = Path(path).expanduser().resolve()
    read_secret(str(resolved))
    return str(resolved)


def read_secret(path: str) -> Webhook:
    """The signer for the secret in `path` (`whsec_` and base64, as Standard Webhooks gives
    secrets); a UsageError naming the file when it is unreadable or not such a secret."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as err:
        raise UsageError(f"cannot read the secret file {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the secret file {path} is not text") from None
    key = text.removeprefix("whsec_")
    try:
        if not text.startswith("whsec_") or not base64.b64decode(
            key + "=" * (-len(key) % 4), validate=True
        ):
            raise ValueError("not a webhook secret")
        return Webhook(text)
    except Exception:
        raise UsageError(
            f"the secret file {path} does not hold a webhook secret "
            "('whsec_' followed by base64, e.g. from `openssl rand -base64 32`)"
        ) from None


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended: delivered, or the error and whether to try again (and when)."""

    delivered: bool
    error: str = ""
    retry: bool = False
    retry_after: float | None = None


def body_of(delivery: Delivery) -> bytes:
    """The JSON body of a delivery, the same bytes on every attempt."""
    message = {
        "type": MESSAGE_TYPE,
        "timestamp": datetime.fromtimestamp(delivery.entry.time, UTC).isoformat(),
        "data": delivery.entry.as_dict(),
    }
    return json.dumps(message, separators=(",", ":"), sort_keys=True).encode("utf-8")


class Deliverer:
    """Delivers webhooks from one store; `run` until idle or stopped, or one `round`."""

    def __init__(
        self,
        store: Store,
        policy: Policy | None = None,
        *,
        on_result: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.webhooks = Webhooks(store)
        self.policy = policy or Policy()
        self.owner = "deliverer_" + new_id()
        #: Called with "delivered", "failed" (to be tried again) or "dead" after each attempt.
        self.on_result = on_result
        self.counts = {"delivered": 0, "failed": 0, "dead": 0}
        #: Deliveries open (pending or retrying) over every subscriber, after the last round.
        self.pending = 0

    async def round(self, client: httpx.AsyncClient) -> int:
        """Claim, scan, attempt what is due; how many attempts were made. A store with no
        subscriber costs one read (no write lock is taken)."""
        if not await asyncio.to_thread(self.webhooks.any_subscriber):
            return 0
        claimed = await asyncio.to_thread(self.webhooks.claim, self.owner, self.policy.lease)
        gate = asyncio.Semaphore(self.policy.concurrency)
        results: asyncio.Queue[tuple[Delivery, Outcome] | None] = asyncio.Queue()
        work: list[tuple[Claimed, Webhook | str, Delivery]] = []
        for held in claimed:
            subscriber, _ = await asyncio.to_thread(self.webhooks.scan, self.owner, held)
            due = await asyncio.to_thread(self.webhooks.due, subscriber.id, ROUND_LIMIT)
            if not due:
                continue
            try:
                signer: Webhook | str = read_secret(subscriber.secret_file)
            except UsageError as err:
                signer = str(err)  # each due delivery fails with it, and is retried
            work.extend((subscriber, signer, d) for d in due)
        if not work:
            return 0
        jobs: list[Coroutine[Any, Any, None]] = [
            self._attempt(client, gate, subscriber, signer, d, results)
            for subscriber, signer, d in work
        ]
        renewing = asyncio.create_task(self._renew())
        recording = asyncio.create_task(self._recorder(results))
        try:
            await asyncio.gather(*jobs)
            results.put_nowait(None)
            await recording
        finally:
            # after a fault: outcomes not yet written are lost, and those entries sent again
            for task in (recording, renewing):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        return len(jobs)

    async def _renew(self) -> None:
        """While a round's attempts run, keep its leases: every third of a lease, extend
        them, so a round longer than a lease (many slow receivers) is not taken over and sent
        again by another deliverer meanwhile."""
        while True:
            await asyncio.sleep(self.policy.lease / 3)
            try:
                await asyncio.to_thread(self.webhooks.renew, self.owner, self.policy.lease)
            except StoreError as err:
                LOG.warning("webhook leases not renewed: %s", err)

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        gate: asyncio.Semaphore,
        subscriber: Claimed,
        signer: Webhook | str,
        delivery: Delivery,
        results: asyncio.Queue[tuple[Delivery, Outcome] | None],
    ) -> None:
        async with gate:
            if isinstance(signer, str):
                outcome = Outcome(False, signer, retry=True)
            else:
                outcome = await self._post(client, subscriber.url, signer, delivery)
        await results.put((delivery, outcome))

    async def _post(
        self, client: httpx.AsyncClient, url: str, signer: Webhook, delivery: Delivery
    ) -> Outcome:
        body = body_of(delivery)
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(delivery.webhook_id, now, body),
        }
        try:
            answer = await client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Outcome(False, f"no answer within {self.policy.timeout:g} s", retry=True)
        except httpx.HTTPError as err:
            return Outcome(False, f"connection failed ({type(err).__name__})", retry=True)
        except (httpx.InvalidURL, ValueError) as err:  # stored before URLs were checked
            return Outcome(False, f"the subscriber's URL cannot be used ({type(err).__name__})")
        status = answer.status_code
        if 200 <= status < 300:
            return Outcome(True)
        error = f"HTTP {status} {answer.reason_phrase}".strip()
        if status == 429 or status >= 500:
            wait = retry_after(answer.headers.get("retry-after"), datetime.now(UTC))
            return Outcome(False, error, retry=True, retry_after=wait)
        return Outcome(False, error + " (not retried: the receiver refused it)")

    async def _recorder(self, results: asyncio.Queue[tuple[Delivery, Outcome] | None]) -> None:
        """Write outcomes as attempts end: all those waiting, in one transaction (a commit,
        one fsync on SQLite, for many), until the round's end (None) is read. So an outcome
        waits for at most one commit before it is durable."""
        while True:
            batch = [await results.get()]
            while not results.empty():
                batch.append(results.get_nowait())
            outcomes = [item for item in batch if item is not None]
            if outcomes:
                await asyncio.to_thread(self._record, outcomes)
            if len(outcomes) < len(batch):
                return

    def _record(self, outcomes: list[tuple[Delivery, Outcome]]) -> None:
        rows: list[tuple[Delivery, str | None, float | None]] = []
        kinds: list[str] = []
        for delivery, outcome in outcomes:
            if outcome.delivered:
                rows.append((delivery, None, None))
                kinds.append("delivered")
                continue
            attempts = delivery.attempts + 1
            dead = not outcome.retry or attempts >= self.policy.attempts
            due = None
            if not dead:
                due = self.store.clock() + self.policy.delay(attempts, outcome.retry_after)
            rows.append((delivery, outcome.error, due))
            kinds.append("dead" if dead else "failed")
        self.webhooks.record(rows)
        for (delivery, outcome), result in zip(outcomes, kinds, strict=True):
            if result != "delivered":
                LOG.warning(
                    "webhook %s to subscriber %s, feed entry %d, attempt %d: %s",
                    result,
                    delivery.subscriber,
                    delivery.seq,
                    delivery.attempts + 1,
                    outcome.error,
                )
            self.counts[result] += 1
            if self.on_result is not None:
                self.on_result(result)

    def idle(self) -> bool:
        """Whether nothing is left to send: every subscriber has read the whole feed and has
        no open delivery (dead ones wait for an operator). Updates `pending`."""
        subscribers = self.webhooks.subscribers()
        self.pending = sum(s.pending + s.retrying for s in subscribers)
        head = self.webhooks.feed_head()
        return self.pending == 0 and all(s.scanned >= head for s in subscribers)

    def next_wait(self, longest: float) -> float:
        """Seconds until the next open delivery this deliverer may attempt, at most `longest`."""
        now = self.store.clock()
        soonest = longest
        for subscriber in self.webhooks.subscribers():
            due = self.webhooks.next_due(subscriber.id)
            if due is not None:
                soonest = min(soonest, max(due - now, 0.0))
        return soonest

    async def run(
        self, *, until_idle: bool = False, poll: float = 1.0, stop: asyncio.Event | None = None
    ) -> dict[str, int]:
        """Deliver until idle (`until_idle`) or until `stop` is set; the counts of this run.
        Without `until_idle` a failing store is logged and tried again after `poll`; with it,
        the StoreError is raised.
        A round that made no attempt sleeps until the next delivery is due, at most `poll`
        seconds (new feed entries are found within `poll`). The leases are given up at the
        end."""
        stop = stop or asyncio.Event()
        timeout = httpx.Timeout(self.policy.timeout)
        limits = httpx.Limits(max_connections=self.policy.concurrency)
        try:
            async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
                while not stop.is_set():
                    try:
                        made = await self.round(client)
                        if made:
                            continue
                        if await asyncio.to_thread(self.idle) and until_idle:
                            break
                        wait = await asyncio.to_thread(self.next_wait, poll)
                    except StoreError as err:
                        if until_idle:
                            raise
                        # the store is down or busy: what was sent and not recorded is sent
                        # again (at least once); try again after `poll`
                        LOG.warning("webhook round failed: %s", err)
                        wait = poll
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=max(wait, 0.01))
        finally:
            await asyncio.to_thread(self.webhooks.release, self.owner)
        return dict(self.counts)
