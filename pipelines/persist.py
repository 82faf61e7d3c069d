"""The Scrapy item pipeline: clean -> canonical text -> match -> ONE store transaction.

Scrapy reaches this class by dotted path (``ITEM_PIPELINES``); it imports nothing from
Scrapy, and everything it needs (store, compiled matcher, who to notify, the URL
canonicaliser) it takes from the spider when the spider opens — Scrapy deep-copies its
settings, so live objects cannot travel there. trafilatura runs in a process pool so a
crawl uses both cores and the event loop never blocks on it; small rounds use a thread
instead, because starting worker processes costs more than a few extractions.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipelines.clean.extract import CleanError, extract
from pipelines.match.matcher import Matcher
from pipelines.match.text import article_document, legacy_encoding
from pipelines.store.articles import ArticleRecord, MatchRecord, RecordResult
from pipelines.store.database import Store

logger = logging.getLogger(__name__)

__all__ = ["ArticlePipeline", "CleanedPage", "SharedCleaners", "articles_queued", "clean_page"]

POOL_THRESHOLD = 4  # articles in a round before worker processes pay for themselves
MAX_BATCH = 100  # articles written in one transaction at most
#: Imported once by the fork server, so every worker starts with them loaded.
WORKER_PRELOAD = ("pipelines.persist", "trafilatura", "trafilatura.metadata", "htmldate")

# A Scrapy signal (any unique object): the spider sends it with ``count=`` after it queues
# article requests, so the worker pool starts while the pages are still downloading.
articles_queued = object()


@dataclass(frozen=True)
class CleanedPage:
    """What a worker returns: the canonical article, ready to match and store."""

    title: str
    text: str
    title_length: int
    canonical_url: str | None
    published: datetime | None
    author: str | None
    flags: tuple[str, ...]
    #: Where the photo captions begin in ``text`` (they come after the body).
    captions_start: int | None = None


def clean_page(
    body: bytes,
    url: str,
    content_type: str | None,
    drop: Sequence[str],
    lead: Sequence[str] = (),
    captions: Sequence[str] = (),
) -> CleanedPage | None:
    """Extract and canonicalise one page (runs in a worker process; picklable in and out).
    ``drop``, ``lead`` and ``captions`` are the source's selectors from ``sources.yaml``."""
    extracted = extract(
        body, url, content_type=content_type, drop=drop, lead=lead, captions=captions
    )
    if extracted is None:
        return None
    text, title_length, captions_start = article_document(
        extracted.title, extracted.text, extracted.captions
    )
    flags: tuple[str, ...] = ()
    legacy = legacy_encoding(text)
    if legacy:
        flags = (f"legacy:{legacy}",)
    return CleanedPage(
        title=text[:title_length],
        text=text,
        title_length=title_length,
        canonical_url=extracted.canonical_url,
        published=extracted.published,
        author=extracted.author,
        flags=flags,
        captions_start=captions_start,
    )


def _warm() -> None:
    """Runs once per worker at pool start, so workers exist before the first page."""


def _start_pool(workers: int) -> ProcessPoolExecutor | None:
    """A pool of cleaning processes, every one started; ``None`` when they cannot start."""
    # forkserver, not fork: this process has threads (Twisted's, ours). The server
    # imports the cleaner once; each worker forks from it ready to go.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(WORKER_PRELOAD))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    try:
        for ready in [pool.submit(_warm) for _ in range(workers)]:
            ready.result()
    except Exception:
        pool.shutdown(wait=False, cancel_futures=True)
        return None
    return pool


class SharedCleaners:
    """One pool of cleaning processes for every crawl of a long-lived process (a warm crawl
    worker runs many crawls at once: a pool each would start a crowd of processes). Started
    by the first crawl that needs it; a crawl passes it to its spider as ``cleaners``."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._starter: ThreadPoolExecutor | None = None
        self._future: Future[Executor] | None = None

    def processes(self) -> Future[Executor]:
        """The pool (or, if processes cannot start, a cleaning thread), once started."""
        with self._lock:
            if self._future is None:
                self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pool-start")
                self._future = self._starter.submit(self._start)
            return self._future

    def _start(self) -> Executor:
        pool = _start_pool(self.workers)
        if pool is None:
            logger.warning("no cleaning processes; cleaning in a thread")
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="clean")
        return pool

    def close(self) -> None:
        """Stop the pool (after the crawls using it ended)."""
        with self._lock:
            future, starter = self._future, self._starter
            self._future = self._starter = None
        if future is not None:
            future.result().shutdown(wait=True, cancel_futures=True)
        if starter is not None:
            starter.shutdown(wait=True)


class StoreWriter:
    """A crawl's writes, from one thread: articles that arrive while a transaction is being
    written go into the next one together (group commit — one disk flush for many, and no
    two threads of one crawl waiting on SQLite's write lock). Each article stays
    all-or-nothing with its hits, alerts and deliveries (:meth:`Store.record_articles`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswatch-store")
        self._lock = threading.Lock()
        self._pending: list[
            tuple[ArticleRecord, Sequence[MatchRecord], asyncio.Future[RecordResult]]
        ] = []

    async def record(self, record: ArticleRecord, matches: Sequence[MatchRecord]) -> RecordResult:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[RecordResult] = loop.create_future()
        with self._lock:
            self._pending.append((record, matches, future))
        # One flush per article: a flush that finds nothing left (an earlier one took its
        # article along) returns at once.
        self._thread.submit(self._flush, loop)
        return await future

    async def mark_seen(self, url: str) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self.store.mark_seen, url)

    def close(self) -> None:
        self._thread.shutdown(wait=True)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if not batch:
            return
        results: list[RecordResult | Exception]
        try:
            results = self.store.record_articles([(r, m) for r, m, _ in batch])
        except Exception as exc:  # the transaction itself failed: none of them is stored
            results = [exc] * len(batch)
        for (_, _, future), result in zip(batch, results, strict=True):
            loop.call_soon_threadsafe(_settle, future, result)


def _settle(future: asyncio.Future[RecordResult], result: RecordResult | Exception) -> None:
    if future.done():  # cancelled: the crawl is closing
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)


class ArticlePipeline:
    """Stores each new article with its hits, alerts and deliveries."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.source: str = settings["NEWSWATCH_SOURCE"]
        self.drop: list[str] = list(settings.get("NEWSWATCH_DROP") or [])
        self.lead: list[str] = list(settings.get("NEWSWATCH_LEAD") or [])
        self.captions: list[str] = list(settings.get("NEWSWATCH_CAPTIONS") or [])
        self.workers = int(settings.get("NEWSWATCH_WORKERS") or os.cpu_count() or 1)
        self._threaded: ThreadPoolExecutor | None = None
        self._thread_lock = threading.Lock()
        # The process pool, started off the event loop (its first worker waits for the
        # fork server to import the cleaner and trafilatura, ~0.5 s).
        self._starter: ThreadPoolExecutor | None = None
        self._processes: Future[Executor] | None = None
        self._shared = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArticlePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline._on_articles_queued, signal=articles_queued)
        return pipeline

    def _on_articles_queued(self, count: int) -> None:
        if count > POOL_THRESHOLD and self.workers > 1 and self._processes is None:
            shared: SharedCleaners | None = getattr(self.crawler.spider, "cleaners", None)
            if shared is not None:  # a warm worker: one pool for all its crawls
                self._processes = shared.processes()
                self._shared = True
                return
            self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pool-start")
            self._processes = self._starter.submit(self._start_processes)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.store: Store = spider.store
        self.writer = StoreWriter(self.store)
        self.matcher: Matcher = spider.matcher
        self.notify: Mapping[str, Sequence[str]] = spider.notify
        self.story_updates: frozenset[str] = getattr(spider, "story_updates", frozenset())
        self.canon: Callable[[str], str] = spider.canon
        self.same_site: Callable[[str], bool] = spider.canon.same_site

    def _start_processes(self) -> Executor:
        pool = _start_pool(self.workers)
        if pool is None:
            logger.warning("%s: no worker processes; cleaning in a thread", self.source)
            return self._thread()
        return pool

    def _thread(self) -> ThreadPoolExecutor:
        with self._thread_lock:  # the pool starter falls back here from its own thread
            if self._threaded is None:
                self._threaded = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clean")
            return self._threaded

    async def _executor(self) -> Executor:
        """The process pool once many articles are queued (waiting for it to start, while
        the pages keep downloading), else a thread: a small round would spend more on
        starting processes than on cleaning."""
        if self._processes is not None:
            return await asyncio.wrap_future(self._processes)
        return self._thread()

    def close_spider(self) -> None:
        if self._processes is not None and not self._shared:
            self._processes.result().shutdown(wait=True, cancel_futures=True)
        if self._starter is not None:
            self._starter.shutdown(wait=True)
        if self._threaded is not None:
            self._threaded.shutdown(wait=True)
        self.writer.close()

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        stats = self.crawler.stats
        loop = asyncio.get_running_loop()
        url = item["url"]
        executor = await self._executor()
        try:
            page = await loop.run_in_executor(
                executor,
                clean_page,
                item["body"],
                url,
                item.get("content_type"),
                self.drop,
                self.lead,
                self.captions,
            )
        except CleanError as exc:
            stats.inc_value("newswatch/articles/unreadable")
            logger.warning("%s: %s: page not usable: %s", self.source, url, exc)
            await self.writer.mark_seen(url)
            return {"url": url, "result": "unreadable"}
        except Exception:
            stats.inc_value("newswatch/articles/error")
            logger.exception("%s: %s: cleaning failed", self.source, url)
            return {"url": url, "result": "error"}
        if page is None:
            stats.inc_value("newswatch/articles/not_article")
            await self.writer.mark_seen(url)
            return {"url": url, "result": "not_article"}
        record = self._record(item, page)
        matches = self._match(page)
        result = await self.writer.record(record, matches)
        if result.stored:
            stats.inc_value("newswatch/articles/new")
            stats.inc_value("newswatch/alerts", result.alerts)
            for watch in result.watches:
                logger.info("%s: %s matched %s", self.source, record.url, watch)
        else:
            stats.inc_value("newswatch/articles/duplicate")
        return {
            "url": record.url,
            "result": "new" if result.stored else "duplicate",
            "alerts": result.alerts,
        }

    def _record(self, item: dict[str, Any], page: CleanedPage) -> ArticleRecord:
        url = item["url"]
        if page.canonical_url:
            canonical = self.canon(page.canonical_url)
            if self.same_site(canonical):
                url = canonical
        published = page.published
        if published is None and item.get("published"):
            published = datetime.fromisoformat(item["published"])
        return ArticleRecord(
            url=url,
            source=self.source,
            title=page.title,
            text=page.text,
            published=published,
            author=page.author,
            flags=page.flags,
            fetched_url=item["url"],
        )

    def _match(self, page: CleanedPage) -> list[MatchRecord]:
        if page.flags:
            return []
        out = []
        for m in self.matcher.match(
            page.text, title_length=page.title_length, captions_start=page.captions_start
        ):
            channels = self.notify.get(m.watch.name, ())
            updates = [c for c in channels if c in self.story_updates]
            out.append(MatchRecord.of(m, channels, updates))
        return out
