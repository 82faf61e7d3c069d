"""Prometheus metrics of the service (``prometheus-client``, one registry per service).

Crawl metrics are counted in the service as rounds finish. Delivery metrics are read from
the store at scrape time instead of counted in memory: the dispatcher may run in another
process (``newswatch dispatch``) and the counts must survive restarts, and the database
already holds them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from crawler.service.supervisor import CrawlOutcome
from pipelines.store.database import Store

__all__ = ["Metrics", "QueueCollector"]

log = logging.getLogger(__name__)

_DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200)


class QueueCollector(Collector):
    """Alerts queued, sent and failed per channel, and the queue depth, from the store."""

    def __init__(self, store: Store, counts: Callable[[Store], dict[str, dict[str, Any]]]) -> None:
        self.store = store
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self.counts(self.store)
        except Exception as exc:  # the store is down: /healthz says so; keep /metrics up
            log.warning("cannot read the delivery queue for /metrics: %s", exc)
            return
        queued = CounterMetricFamily(
            "newswatch_alerts_queued", "Deliveries ever queued, per channel", labels=["channel"]
        )
        sent = CounterMetricFamily(
            "newswatch_alerts_sent", "Deliveries sent successfully, per channel", labels=["channel"]
        )
        failed = CounterMetricFamily(
            "newswatch_alerts_failed",
            "Deliveries given up on (dead letters), per channel",
            labels=["channel"],
        )
        depth = GaugeMetricFamily(
            "newswatch_queue_depth",
            "Deliveries waiting to be sent (pending and retrying), per channel",
            labels=["channel"],
        )
        retrying = GaugeMetricFamily(
            "newswatch_queue_retrying",
            "Deliveries waiting for a retry after a failed attempt, per channel",
            labels=["channel"],
        )
        for channel, slot in sorted(counts.items()):
            pending, retry = int(slot.get("pending") or 0), int(slot.get("retrying") or 0)
            sent_n, dead_n = int(slot.get("delivered") or 0), int(slot.get("dead") or 0)
            queued.add_metric([channel], pending + retry + sent_n + dead_n)
            sent.add_metric([channel], sent_n)
            failed.add_metric([channel], dead_n)
            depth.add_metric([channel], pending + retry)
            retrying.add_metric([channel], retry)
        yield from (queued, sent, failed, depth, retrying)


class Metrics:
    """The service's metrics; :meth:`observe` one finished crawl round."""

    def __init__(
        self,
        store: Store | None = None,
        counts: Callable[[Store], dict[str, dict[str, Any]]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.crawl_duration = Histogram(
            "newswatch_crawl_duration_seconds",
            "Wall time of one crawl round, per source",
            ["source"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.crawls = Counter(
            "newswatch_crawls",
            "Crawl rounds by source and result",
            ["source", "result"],
            registry=r,
        )
        self.fetched = Counter(
            "newswatch_articles_fetched",
            "Article pages fetched, per source",
            ["source"],
            registry=r,
        )
        self.new = Counter(
            "newswatch_articles_new", "New articles stored, per source", ["source"], registry=r
        )
        self.too_old = Counter(
            "newswatch_articles_too_old",
            "Feed and sitemap entries skipped as older than the source's max_age, per source",
            ["source"],
            registry=r,
        )
        self.alerts = Counter(
            "newswatch_alerts_created",
            "Alerts created by crawls, per source",
            ["source"],
            registry=r,
        )
        self.failures = Gauge(
            "newswatch_source_consecutive_failures",
            "Crawl rounds in a row that failed, per source",
            ["source"],
            registry=r,
        )
        self.running = Gauge("newswatch_crawls_running", "Crawl children alive now", registry=r)
        self.scheduler_up = Gauge(
            "newswatch_scheduler_running", "1 while the scheduler runs", registry=r
        )
        if store is not None and counts is not None:
            r.register(QueueCollector(store, counts))

    def observe(self, outcome: CrawlOutcome) -> None:
        source = outcome.source
        self.crawl_duration.labels(source).observe(outcome.duration)
        self.crawls.labels(source, outcome.status).inc()
        self.fetched.labels(source).inc(outcome.fetched)
        self.new.labels(source).inc(outcome.new_articles)
        self.too_old.labels(source).inc(outcome.too_old)
        self.alerts.labels(source).inc(outcome.alerts)
        if outcome.ok:
            self.failures.labels(source).set(0)
        elif not outcome.stopped:  # stopped with the service: neither success nor failure
            self.failures.labels(source).inc()
