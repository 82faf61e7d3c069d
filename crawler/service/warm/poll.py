"""One poll inside a warm worker: the source's crawl as one more Scrapy crawler in the
reactor that is already running, with its own timeout, recorded in the store like a round
of ``newswatch crawl``.

A poll that overruns its timeout is stopped the way Scrapy stops a crawl (the engine closes
the spider, in-flight downloads end at their own timeout); the other polls of the worker go
on. A crawler that does not stop even then is reported as *stuck*: the pool recycles the
worker, since only a new process gets rid of it. A poll stopped because the worker is
stopping (the service is) is ``stopped``: not a timeout, and not a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crawler.config import Config, SourceConfig
from crawler.crawl import CrawlSummary, _fill, finish_run
from crawler.service.supervisor import STOPPING
from crawler.service.warm.politeness import HostBusy, HostGate
from pipelines.match.matcher import Matcher
from pipelines.persist import SharedCleaners
from pipelines.store.database import Store

__all__ = ["PollContext", "run_poll"]

log = logging.getLogger(__name__)

# Scrapy's MemoryUsage extension measures the whole process and would close whichever
# crawler happens to look: in a warm worker the pool watches memory and recycles instead.
_WARM_EXTENSIONS = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.throttle.AutoThrottle": 0,
}
_STOP_MARGIN = 5.0  # after the downloads' own timeout, before a crawler counts as stuck
_ABORT_GRACE = 2.0


@dataclass
class PollContext:
    """What every poll of one worker shares: configuration, store, compiled watches, gate."""

    config: Config
    store: Store
    matcher: Matcher
    notify: Mapping[str, Sequence[str]]
    gate: HostGate
    cleaners: SharedCleaners
    log_level: str = "WARNING"
    max_articles: int = 500

    @classmethod
    def build(
        cls,
        config: Config,
        store: Store,
        gate: HostGate,
        cleaners: SharedCleaners,
        log_level: str,
    ) -> PollContext:
        """Compile the watches once for every poll of this configuration."""
        return cls(
            config=config,
            store=store,
            matcher=Matcher.compile(config.watches),
            notify={w.name: tuple(w.notify) for w in config.watches},
            gate=gate,
            cleaners=cleaners,
            log_level=log_level,
            max_articles=int(os.environ.get("NEWSWATCH_MAX_ARTICLES", "500")),
        )


async def run_poll(
    ctx: PollContext, source: SourceConfig, timeout: float, abort: asyncio.Event | None = None
) -> tuple[CrawlSummary, bool]:
    """Poll ``source`` once; (its summary, whether its crawler failed to stop).

    ``abort`` set while the poll runs stops it at once, as ``stopped`` (the worker is
    shutting down).
    """
    started = time.monotonic()
    summary = CrawlSummary(source=source.name, max_age=source.max_age)
    stuck = False
    try:
        # Waiting for the host counts against the timeout, but never more than half of it.
        async with ctx.gate.hold(source.hosts, source.delay, max_wait=timeout / 2) as gate:
            # The store's commits wait on the disk: off the reactor, so other polls go on.
            run_id = await asyncio.to_thread(ctx.store.start_run, source.name)
            remaining = max(1.0, timeout - (time.monotonic() - started))
            try:
                stuck = await _crawl(ctx, source, (remaining, timeout), summary, abort)
            except Exception as exc:  # this poll failed; the worker and its other polls go on
                log.debug("poll of %s failed", source.name, exc_info=True)
                summary.status, summary.error = "failed", f"{type(exc).__name__}: {exc}"
            gate.failed = summary.status not in ("ok", "degraded", "stopped")
            await asyncio.to_thread(_finish, ctx, run_id, summary, started)
    except HostBusy as exc:
        summary.status, summary.error = "timeout", f"not started: {exc}"
        run_id = await asyncio.to_thread(ctx.store.start_run, source.name)
        await asyncio.to_thread(_finish, ctx, run_id, summary, started)
    return summary, stuck


def _finish(ctx: PollContext, run_id: int, summary: CrawlSummary, started: float) -> None:
    summary.duration = round(time.monotonic() - started, 3)
    finish_run(ctx.store, run_id, summary)


async def _crawl(
    ctx: PollContext,
    source: SourceConfig,
    timeouts: tuple[float, float],
    summary: CrawlSummary,
    abort: asyncio.Event | None,
) -> bool:
    """Run the crawl for at most ``timeouts[0]`` s (what is left of the poll's ``[1]``)."""
    timeout, whole = timeouts
    from scrapy.crawler import Crawler

    from crawler.settings import crawl_settings
    from crawler.spiders.news import NewsSpider

    extra = {
        "EXTENSIONS_BASE": _WARM_EXTENSIONS,
        # robots.txt kept between polls (crawler.robots), as in a round of `newswatch crawl`
        "NEWSWATCH_ROBOTS_CACHE": str(ctx.config.data_dir / "robots"),
    }
    settings = crawl_settings(source, log_level=ctx.log_level, extra=extra)
    crawler = Crawler(NewsSpider, settings)
    task = asyncio.ensure_future(
        crawler.crawl_async(
            source=source,
            store=ctx.store,
            matcher=ctx.matcher,
            notify=ctx.notify,
            max_articles=ctx.max_articles,
            cleaners=ctx.cleaners,
        )
    )
    waiters: set[asyncio.Future[Any]] = {task}
    aborted = asyncio.ensure_future(abort.wait()) if abort is not None else None
    if aborted is not None:
        waiters.add(aborted)
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if aborted is not None:
            aborted.cancel()
    if task in done:
        task.result()  # the crawl's own exception, if it raised
        _fill(summary, crawler.stats.get_stats(), crawler.spider)
        return False
    if aborted is not None and aborted in done:
        # The service is stopping: it will not wait for downloads to time out.
        status, reason, grace = "stopped", STOPPING, _ABORT_GRACE
    else:
        status, reason = "timeout", f"no result after the {whole:g} s timeout; stopped"
        grace = float(settings["DOWNLOAD_TIMEOUT"]) + _STOP_MARGIN
    stopped = await _stop(crawler, task, grace)
    with contextlib.suppress(Exception):
        _fill(summary, crawler.stats.get_stats(), crawler.spider)
    summary.status, summary.error = status, reason
    return not stopped


async def _stop(crawler: Any, task: asyncio.Future[None], grace: float) -> bool:
    """Stop one crawler (the engine closes its spider); whether it ended within ``grace``."""
    stopping = asyncio.ensure_future(crawler.stop_async())
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1.0)
    stopping.cancel()
    if task.done() and not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never seen
    return bool(done)
