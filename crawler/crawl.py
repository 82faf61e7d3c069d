"""The crawl runner: one round of one source in this process (Scrapy's crawler process).

Twisted's reactor cannot restart in one process, and a hung or leaking crawl must be
killable without taking anything else down, so the service and ``newswatch crawl`` of
several sources run each source as ``newswatch crawl --source NAME`` in its own child
process (:mod:`crawler.service.supervisor`), which ends up here. The child records its run
in the store and prints a JSON summary as its last stdout line; a child that dies before
that is recorded by the supervisor. A round ended by SIGTERM or SIGINT (the service is
stopping, or Ctrl-C) is ``stopped``: stopped on purpose, not a failure.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from dataclasses import asdict, dataclass
from typing import Any

from crawler.config import Config, SourceConfig, format_duration
from pipelines.match.matcher import Matcher
from pipelines.store.database import Store

logger = logging.getLogger(__name__)

__all__ = ["CrawlSummary", "crawl_in_process", "finish_run", "summary_json"]


@dataclass
class CrawlSummary:
    """The outcome of one source's round (the child's last stdout line, as JSON)."""

    source: str
    status: str = "ok"  # ok | degraded | failed | timeout | crashed | stopped
    new_articles: int = 0
    alerts: int = 0
    requests: int = 0
    fetched: int = 0
    not_modified: int | None = 0  # None: not reported (a child's summary omits it)
    errors: int = 0
    bytes: int = 0
    duration: float = 0.0
    error: str | None = None
    too_old: int = 0  # feed/sitemap entries skipped as older than max_age
    max_age: float = 0.0  # the source's max_age, seconds (0: no limit)

    def line(self) -> str:
        """Human summary, one line."""
        unchanged = "" if self.not_modified is None else f" ({self.not_modified} not modified)"
        old = ""
        if self.too_old:
            old = f", {self.too_old} older than {format_duration(self.max_age)} skipped"
        head = (
            f"{self.source}: {self.status}, {self.new_articles} new{old}, {self.alerts} alerts, "
            f"{self.requests} requests{unchanged}, {self.duration:.1f}s"
        )
        return f"{head} — {self.error}" if self.error else head


def crawl_in_process(
    config: Config,
    source: SourceConfig,
    store: Store,
    *,
    log_level: str = "WARNING",
    max_articles: int | None = None,
) -> CrawlSummary:
    """Crawl one source in this process (call at most once per process: reactor rule)."""
    # Scrapy's HTTP handler defines deprecated aliases with inspect.stack(), whose cost
    # grows with the stack's depth and the modules loaded: imported here, near the top,
    # it costs ~0.1 s of a round's start instead of ~0.4 s from inside the engine.
    import scrapy.core.downloader.handlers.http11  # noqa: F401

    from crawler.settings import crawl_settings
    from crawler.spiders.news import NewsSpider

    started = time.monotonic()
    run_id = store.start_run(source.name)
    summary = CrawlSummary(source=source.name, max_age=source.max_age)
    try:
        watches = config.watches
        settings = crawl_settings(
            source,
            log_level=log_level,
            extra={"NEWSWATCH_ROBOTS_CACHE": str(config.data_dir / "robots")},
        )
        _quiet_scrapy(log_level)
        process = _process(settings)
        crawler = process.create_crawler(NewsSpider)
        process.crawl(
            crawler,
            source=source,
            store=store,
            matcher=Matcher.compile(watches),
            notify={w.name: tuple(w.notify) for w in watches},
            story_updates=frozenset(
                name for name, channel in config.channels.items() if channel.stories == "updates"
            ),
            max_articles=max_articles or int(os.environ.get("NEWSWATCH_MAX_ARTICLES", "500")),
        )
        process.start(install_signal_handlers=True)
        stats = crawler.stats.get_stats()
        _fill(summary, stats, crawler.spider)
        if process.signalled and stats.get("finish_reason") != "finished":
            summary.status = "stopped"
            summary.error = f"stopped by {process.signalled} before the end of the round"
    except Exception as exc:  # the round failed; the service and other sources go on
        logger.debug("crawl of %s failed", source.name, exc_info=True)
        summary.status, summary.error = "failed", f"{type(exc).__name__}: {exc}"
    summary.duration = round(time.monotonic() - started, 3)
    finish_run(store, run_id, summary)
    return summary


def finish_run(store: Store, run_id: int, summary: CrawlSummary) -> None:
    """Close the run record of a poll with what its summary says."""
    store.finish_run(
        run_id,
        summary.status,
        new_articles=summary.new_articles,
        requests=summary.requests,
        fetched=summary.fetched,
        alerts=summary.alerts,
        errors=summary.errors,
        nbytes=summary.bytes,
        detail={
            "error": summary.error,
            "not_modified": summary.not_modified,
            "too_old": summary.too_old,
            "max_age": summary.max_age,
        },
    )


def _process(settings: Any) -> Any:
    """Scrapy's crawler process, noting the signal that stopped it (``signalled``).

    Its engine closes with the reason ``shutdown`` after a SIGTERM or SIGINT, but also after
    an error in the spider's ``start()``: only the signal tells a stop on purpose from a
    failure. ``_signal_shutdown`` is Scrapy's handler of the first signal (private, stable
    in the pinned 2.19.x; tests/test_graceful_stop.py fails if it stops being called).
    """
    from scrapy.crawler import AsyncCrawlerProcess

    class Process(AsyncCrawlerProcess):
        signalled: str | None = None

        def _signal_shutdown(self, signum: int, frame: Any) -> None:
            self.signalled = self.signalled or signal.Signals(signum).name
            super()._signal_shutdown(signum, frame)

    return Process(settings)


def _quiet_scrapy(level: str) -> None:
    """Scrapy's own chatter follows the crawl's log level (crawler.service.logs owns the handler).

    Scrapy re-applies its ``DEFAULT_LOGGING`` dict (``scrapy`` at DEBUG) when a crawler
    process starts, after anything set here; so the level goes into that dict too.
    """
    from scrapy.utils import log as scrapy_log

    config: dict[str, Any] = scrapy_log.DEFAULT_LOGGING
    loggers: dict[str, dict[str, Any]] = config.setdefault("loggers", {})
    for name in ("scrapy", "twisted", "py.warnings", "protego"):
        loggers.setdefault(name, {})["level"] = level
        logging.getLogger(name).setLevel(level)
    # These repeat, as ERRORs, each failure the spider already reports once, in plain words,
    # in the round's summary; they stay visible with -vv.
    noisy = level if level == "DEBUG" else "CRITICAL"
    for name in ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt"):
        loggers.setdefault(name, {})["level"] = noisy
        logging.getLogger(name).setLevel(noisy)


def _fill(summary: CrawlSummary, stats: dict[str, Any], spider: Any) -> None:
    def get(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    summary.new_articles = get("newswatch/articles/new")
    summary.alerts = get("newswatch/alerts")
    summary.requests = get("downloader/request_count")
    summary.fetched = get("downloader/response_count")
    summary.bytes = get("downloader/response_bytes")
    summary.too_old = get("newswatch/articles/too_old")
    summary.not_modified = get("newswatch/index/not_modified") + get("newswatch/index/unchanged")
    summary.errors = (
        get("newswatch/index/failed")
        + get("newswatch/articles/failed")
        + get("newswatch/articles/error")
        + get("log_count/ERROR")
    )
    reason = stats.get("finish_reason", "interrupted")
    index_total = get("newswatch/index/requests")
    index_failed = get("newswatch/index/failed")
    problems = list(getattr(spider, "index_errors", []) or [])
    if reason != "finished":
        summary.status = "failed"
        summary.error = f"crawl ended early: {reason}"
    elif index_total and index_failed >= index_total:
        summary.status = "failed"
        summary.error = "; ".join(problems[:3]) or "every index page failed"
    elif problems:
        summary.error = f"{len(problems)} index page(s) failed: " + "; ".join(problems[:3])
    stopped = list(stats.get("newswatch/host/stopped") or [])
    if stopped and summary.status == "ok":
        # A host that kept failing was left alone: the round did not do its job, entirely
        # (failed) or in part (degraded: some articles came through).
        summary.status = "degraded" if summary.new_articles else "failed"
        held = get("newswatch/articles/postponed")
        note = f"stopped asking {'; '.join(stopped)}; {held} article(s) left for the next round"
        summary.error = f"{note}; {summary.error}" if summary.error else note


def summary_json(summary: CrawlSummary) -> str:
    return json.dumps(asdict(summary), ensure_ascii=False)
