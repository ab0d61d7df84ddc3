"""`GET /metrics`: what one service process has done, in the Prometheus text format.

Each app has its own `CollectorRegistry` (never prometheus-client's global one), so two apps in
one process (tests, an embedding program) count apart. With `--workers N` each worker process
counts its own requests and serves its own numbers: a scrape reaches one worker, chosen by the
kernel. Scrape each worker (one port each) or sum what you get over time; see docs/operations.md.

Labels have bounded values only: a request is counted under its route template
(`/instances/{id}`, never the path as sent), its method (one of the HTTP methods, else `OTHER`)
and its status.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from linkflow.store import Sent

#: The Prometheus text exposition format served (prometheus-client's CONTENT_TYPE_LATEST).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRICS_PATH = "/metrics"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Seconds from a request's arrival to its answer, for events (group commit waits for a sync).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Label sets of the request counter kept at hand (methods as sent are many; past this, looked up).
_MAX_KEPT = 1024
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
LATE_BUCKETS = (0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


class _StoreRetries(Collector):
    """Transactions run again after losing a race (the store's own count, read at scrape)."""

    def __init__(self, retries: Callable[[], int]) -> None:
        self.retries = retries

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "linkflow_store_retries",
            "Write transactions run again because they lost a race with another writer",
        )
        family.add_metric([], self.retries())
        yield family


class Metrics:
    """The app's registry and the instruments the service's parts report to."""

    def __init__(self, queued: Callable[[], int], retries: Callable[[], int]) -> None:
        """`queued`: the events waiting for the writer now; `retries`: the store's count of
        transactions run again (both read at each scrape)."""
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "linkflow_http_requests",
            "HTTP requests answered, by method, route template and status",
            ("method", "route", "status"),
            registry=registry,
        )
        self.event_latency = Histogram(
            "linkflow_event_latency_seconds",
            "Accepted events: seconds from the request's arrival to its answer (after commit)",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.events = Counter(
            "linkflow_events",
            "Events answered by the service, by result (accepted, refused, replayed)",
            ("result",),
            registry=registry,
        )
        self.batch_size = Histogram(
            "linkflow_commit_batch_events",
            "Events committed together in one group-commit transaction",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        queue = Gauge(
            "linkflow_event_queue_depth",
            "Events waiting for the group-commit writer right now",
            registry=registry,
        )
        queue.set_function(queued)
        self.timer_passes = Counter(
            "linkflow_timer_passes", "Passes of the timer loop", registry=registry
        )
        self.timers_fired = Counter(
            "linkflow_timers_fired",
            "Timeouts fired by this process's timer loop",
            registry=registry,
        )
        self.timers_per_pass = Histogram(
            "linkflow_timers_fired_per_pass",
            "Timeouts fired by one pass of the timer loop",
            buckets=(0, 1, 2, 5, 10, 25, 50, 100),
            registry=registry,
        )
        self.timer_lateness = Histogram(
            "linkflow_timer_lateness_seconds",
            "Seconds past its due time a timeout was fired",
            buckets=LATE_BUCKETS,
            registry=registry,
        )
        self.store_errors = Counter(
            "linkflow_store_errors",
            "Store calls that failed, by kind (conflict: 409, unavailable: 503)",
            ("kind",),
            registry=registry,
        )
        for kind in ("conflict", "unavailable"):
            self.store_errors.labels(kind)
        registry.register(_StoreRetries(retries))
        self.webhook_attempts = Counter(
            "linkflow_webhook_attempts",
            "Webhook delivery attempts by this process, by result (delivered; failed: to be "
            "tried again; dead: given up)",
            ("result",),
            registry=registry,
        )
        for result in ("delivered", "failed", "dead"):
            self.webhook_attempts.labels(result)
        #: Set by the webhook deliverer: its count of open deliveries after its last round.
        self.webhooks_pending: Callable[[], int] = lambda: 0
        pending = Gauge(
            "linkflow_webhook_pending",
            "Webhook deliveries waiting to be delivered or tried again (every subscriber), as "
            "of this process's deliverer's last round",
            registry=registry,
        )
        pending.set_function(self._webhooks_pending)
        self.effect_outcomes = Counter(
            "linkflow_effect_outcomes",
            "Effect attempts by this process's worker, by outcome (done, failed, late, dead, "
            "cancelled; retried: to be tried again)",
            ("outcome",),
            registry=registry,
        )
        for outcome in ("done", "failed", "late", "dead", "cancelled", "retried"):
            self.effect_outcomes.labels(outcome)
        self.effect_attempts = Counter(
            "linkflow_effect_attempts",
            "Calls made by this process's effects worker (each attempt counts one)",
            registry=registry,
        )
        self.effect_retries = Counter(
            "linkflow_effect_retries",
            "Effect attempts that failed and were scheduled to be tried again",
            registry=registry,
        )
        #: Set by the service's effects loop: the outbox's counts by status, read every few
        #: seconds (a scrape reads no store).
        self.effect_counts: dict[str, int] = {}
        effects = Gauge(
            "linkflow_effects",
            "Effects in the outbox by status (pending, retrying: pending after a failure, "
            "running, dead), as of the last count",
            ("status",),
            registry=registry,
        )
        for status in ("pending", "retrying", "running", "dead"):
            effects.labels(status).set_function(partial(self._effect_count, status))
        self._event_counters: dict[str, Counter] = {}
        #: (method as sent, route, status) -> its counter; `request` fills it.
        self._request_counters: dict[tuple[str, str, int], Counter] = {}

    def request(self, method: str, route: str, status: int) -> None:
        """A request answered (the request log's `on_request`). The counter of each label set
        is looked up once and kept: the label values are bounded (see the module)."""
        key = (method, route, status)
        counter = self._request_counters.get(key)
        if counter is None:
            shown = method if method in _METHODS else "OTHER"
            counter = self.requests.labels(shown, route, str(status))
            if len(self._request_counters) < _MAX_KEPT:
                self._request_counters[key] = counter
        counter.inc()

    def event(self, sent: Sent, started: float) -> None:
        """An answered event: its result, and for an accepted one its latency."""
        if sent.replayed:
            result = "replayed"
        elif sent.step.accepted:
            result = "accepted"
            self.event_latency.observe(time.perf_counter() - started)
        else:
            result = "refused"
        counter = self._event_counters.get(result)
        if counter is None:  # made on first use: a result never seen is not shown as 0
            counter = self._event_counters[result] = self.events.labels(result)
        counter.inc()

    def batch(self, size: int) -> None:
        self.batch_size.observe(size)

    def timer_pass(self, fired: Sequence[Sent], now: float) -> None:
        """A pass of the timer loop; a fired instance's `updated` is its timeout's due time
        (the store stamps the step with it), so `now - updated` is how late it fired."""
        self.timer_passes.inc()
        self.timers_fired.inc(len(fired))
        self.timers_per_pass.observe(len(fired))
        for sent in fired:
            self.timer_lateness.observe(max(now - sent.instance.updated, 0.0))

    def _webhooks_pending(self) -> float:
        return float(self.webhooks_pending())  # read at each scrape: the deliverer sets it late

    def webhook_result(self, result: str) -> None:
        self.webhook_attempts.labels(result).inc()

    def _effect_count(self, status: str) -> float:
        return float(self.effect_counts.get(status, 0))

    def effect_outcome(self, outcome: str) -> None:
        """An effect attempt's outcome, written (the worker's `on_outcome`)."""
        self.effect_outcomes.labels(outcome).inc()
        if outcome != "cancelled":  # a cancelled invoke was never called
            self.effect_attempts.inc()
        if outcome == "retried":
            self.effect_retries.inc()

    def store_error(self, kind: str) -> None:
        self.store_errors.labels(kind).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE)
