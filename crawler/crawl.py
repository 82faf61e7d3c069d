"""One crawl round: one source in this process, or several sources in child processes.

Twisted's reactor cannot restart in one process, and a hung or leaking crawl must be
killable without taking anything else down, so a round of several sources runs each
source as ``newswatch crawl --source NAME`` in its own child process (own session, hard
timeout, killed as a group). The child records its run in the store and prints a JSON
summary as its last stdout line; a child that dies before that is recorded here.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from crawler.config import Config, SourceConfig
from pipelines.match import Matcher
from pipelines.store import Store

logger = logging.getLogger(__name__)

__all__ = ["CrawlSummary", "crawl_in_children", "crawl_in_process", "parse_summary"]


@dataclass
class CrawlSummary:
    """The outcome of one source's round (the child's last stdout line, as JSON)."""

    source: str
    status: str = "ok"  # ok | failed | timeout | crashed
    new_articles: int = 0
    alerts: int = 0
    requests: int = 0
    fetched: int = 0
    not_modified: int = 0
    errors: int = 0
    bytes: int = 0
    duration: float = 0.0
    error: str | None = None

    def line(self) -> str:
        """Human summary, one line."""
        head = (
            f"{self.source}: {self.status}, {self.new_articles} new, {self.alerts} alerts, "
            f"{self.requests} requests ({self.not_modified} not modified), "
            f"{self.duration:.1f}s"
        )
        return f"{head} — {self.error}" if self.error else head


def crawl_in_process(
    config: Config,
    source: SourceConfig,
    store: Store,
    *,
    log_level: str = "WARNING",
    max_articles: int = 500,
) -> CrawlSummary:
    """Crawl one source in this process (call at most once per process: reactor rule)."""
    from scrapy.crawler import AsyncCrawlerProcess

    from crawler.settings import crawl_settings
    from crawler.spiders.news import NewsSpider

    started = time.monotonic()
    run_id = store.start_run(source.name)
    summary = CrawlSummary(source=source.name)
    try:
        watches = config.watches
        settings = crawl_settings(source, log_level=log_level)
        _quiet_scrapy(log_level)
        process = AsyncCrawlerProcess(settings)
        crawler = process.create_crawler(NewsSpider)
        process.crawl(
            crawler,
            source=source,
            store=store,
            matcher=Matcher.compile(watches),
            notify={w.name: tuple(w.notify) for w in watches},
            max_articles=max_articles,
        )
        process.start(install_signal_handlers=True)
        _fill(summary, crawler.stats.get_stats(), crawler.spider)
    except Exception as exc:  # the round failed; the service and other sources go on
        logger.debug("crawl of %s failed", source.name, exc_info=True)
        summary.status, summary.error = "failed", f"{type(exc).__name__}: {exc}"
    summary.duration = round(time.monotonic() - started, 3)
    store.finish_run(
        run_id,
        summary.status,
        new_articles=summary.new_articles,
        requests=summary.requests,
        fetched=summary.fetched,
        alerts=summary.alerts,
        errors=summary.errors,
        nbytes=summary.bytes,
        detail={"error": summary.error, "not_modified": summary.not_modified},
    )
    return summary


def _quiet_scrapy(level: str) -> None:
    """Scrapy's own chatter follows the crawl's log level (crawler.logs owns the handler).

    Scrapy re-applies its ``DEFAULT_LOGGING`` dict (``scrapy`` at DEBUG) when a crawler
    process starts, after anything set here; so the level goes into that dict too.
    """
    from scrapy.utils import log as scrapy_log

    config: dict[str, Any] = scrapy_log.DEFAULT_LOGGING
    loggers: dict[str, dict[str, Any]] = config.setdefault("loggers", {})
    for name in ("scrapy", "twisted", "py.warnings", "protego"):
        loggers.setdefault(name, {})["level"] = level
        logging.getLogger(name).setLevel(level)


def _fill(summary: CrawlSummary, stats: dict[str, Any], spider: Any) -> None:
    def get(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    summary.new_articles = get("newswatch/articles/new")
    summary.alerts = get("newswatch/alerts")
    summary.requests = get("downloader/request_count")
    summary.fetched = get("downloader/response_count")
    summary.bytes = get("downloader/response_bytes")
    summary.not_modified = get("newswatch/index/not_modified") + get("newswatch/index/unchanged")
    summary.errors = (
        get("newswatch/index/failed")
        + get("newswatch/articles/failed")
        + get("newswatch/articles/error")
        + get("log_count/ERROR")
    )
    reason = stats.get("finish_reason", "unknown")
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


def parse_summary(source: str, stdout: str) -> CrawlSummary | None:
    """The child's JSON summary (its last line that parses), or None."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("source") == source:
            fields = {k: v for k, v in data.items() if k in CrawlSummary.__dataclass_fields__}
            return CrawlSummary(**fields)
    return None


def child_command(config: Config, source: str, verbosity: int = 0) -> list[str]:
    """The command line that crawls one source in a child process."""
    cmd = [
        sys.executable,
        "-m",
        "crawler.cli",
        "--config",
        str(config.config_dir),
        "--data",
        str(config.data_dir),
    ]
    if verbosity > 0:
        cmd.append("-v")
    elif verbosity < 0:
        cmd.append("-q")
    return [*cmd, "crawl", "--source", source, "--json"]


def run_child(
    cmd: Sequence[str], source: SourceConfig, store: Store, grace: float = 5.0
) -> CrawlSummary:
    """Run one child crawl with a hard timeout (TERM, TERM again, then KILL the group)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        list(cmd), stdout=subprocess.PIPE, stderr=None, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=source.timeout)
    except subprocess.TimeoutExpired:
        out = _kill_group(proc, grace)
        summary = parse_summary(source.name, out) or CrawlSummary(source.name)
        summary.status = "timeout"
        summary.error = f"no result after {source.timeout:.0f} s; killed"
        _record_failure(store, summary)
        return summary
    parsed = parse_summary(source.name, out)
    summary = parsed or CrawlSummary(source.name)
    if parsed is None:
        summary = CrawlSummary(
            source.name,
            status="crashed",
            error=f"crawl process exited with status {proc.returncode} without a summary",
        )
        _record_failure(store, summary)
    summary.duration = round(time.monotonic() - started, 3)
    return summary


def _kill_group(proc: subprocess.Popen[str], grace: float) -> str:
    out = ""
    for sig, wait in ((signal.SIGTERM, 1.0), (signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            out, _ = proc.communicate(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    return out or ""


def _record_failure(store: Store, summary: CrawlSummary) -> None:
    run_id = store.start_run(summary.source)
    store.finish_run(run_id, summary.status, detail={"error": summary.error})


def crawl_in_children(
    config: Config,
    sources: Sequence[SourceConfig],
    store: Store,
    *,
    parallel: int = 2,
    verbosity: int = 0,
) -> list[CrawlSummary]:
    """One round of several sources, each in its own child; a failure never stops others."""

    def one(src: SourceConfig) -> CrawlSummary:
        return run_child(child_command(config, src.name, verbosity), src, store)

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, sources))


def summary_json(summary: CrawlSummary) -> str:
    return json.dumps(asdict(summary), ensure_ascii=False)
