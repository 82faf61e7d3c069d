"""The one generic news spider: index pages (feeds, sitemaps, listings, home) -> new articles.

A round reads each index page with a conditional request; a 304 or an unchanged body
ends there. Article URLs found are canonicalised, filtered by the source's pattern, and
checked against the store in one query *before* any request, so a round with nothing
new makes no article requests at all. Validators are saved only when the round had no
article failures: a crash or a failed article never hides an unread listing next time.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from crawler.config import SourceConfig
from crawler.discover import (
    DEFAULT_ARTICLE_PATTERN,
    LinkedArticle,
    article_links,
    feed_links,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
)
from crawler.middlewares import HostStopped
from crawler.urls import source_canon
from pipelines.persist import articles_queued

logger = logging.getLogger(__name__)

__all__ = ["NewsSpider", "describe_failure"]

MAX_SITEMAP_CHILDREN = 5  # newest children of a sitemap index read per round
INDEX_META = {"handle_httpstatus_list": [304]}


def describe_failure(failure: Failure) -> str:
    """One line a person understands: what went wrong with a request."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    if isinstance(exc, DNSLookupError | CannotResolveHostError):
        return "DNS lookup failed (is the host name right? is there network?)"
    if isinstance(exc, ConnectionRefusedError | DownloadConnectionRefusedError):
        return "connection refused (site down?)"
    if isinstance(exc, TimeoutError | TCPTimedOutError | DownloadTimeoutError):
        return "timed out"
    if isinstance(exc, IgnoreRequest) and "robots" in str(exc).lower():
        return "forbidden by robots.txt"
    name = type(exc).__name__
    text = str(exc).strip()
    return f"{name}: {text}"[:300] if text else name


class NewsSpider(scrapy.Spider):
    """Polls one configured source; yields raw article pages for ``ArticlePipeline``."""

    name = "news"

    def __init__(
        self,
        source: SourceConfig,
        store: Any,
        matcher: Any = None,
        notify: Mapping[str, Sequence[str]] | None = None,
        max_articles: int = 500,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=f"news:{source.name}", **kwargs)
        self.source = source
        # The store, matcher and notify map are read by the middlewares and the item
        # pipeline from here (Scrapy deep-copies settings, so they cannot go there).
        self.store = store
        self.matcher = matcher
        self.notify = notify or {}
        self.max_articles = max_articles
        self.canon = source_canon(source)
        self.hosts = source.hosts
        self.pattern = re.compile(source.article_url) if source.article_url else None
        self.index_errors: list[str] = []
        self.article_errors = 0
        self.scheduled: set[str] = set()
        self.pending_validators: dict[str, tuple[str | None, str | None, str]] = {}
        self.index_seen: set[str] = set()
        self.too_old: set[str] = set()

    # -- requests -------------------------------------------------------------------------

    def _index(self, url: str, kind: str) -> scrapy.Request | None:
        if url in self.index_seen:
            return None
        self.index_seen.add(url)
        self.crawler.stats.inc_value("newswatch/index/requests")
        return scrapy.Request(
            url,
            callback=self.parse_index,
            errback=self.index_failed,
            meta={**INDEX_META, "nw_index": kind},
            dont_filter=True,
            priority=10,
        )

    async def start(self) -> AsyncIterator[scrapy.Request]:
        src = self.source
        plan = [(u, "feed") for u in src.feeds] + [(u, "sitemap") for u in src.sitemaps]
        plan += [(u, "listing") for u in src.listings]
        if src.home:
            plan.append((src.home, "home"))
            if not (src.feeds or src.sitemaps):
                plan.append((urljoin(src.home, "/robots.txt"), "robots"))
        for url, kind in plan:
            request = self._index(url, kind)
            if request is not None:
                yield request

    # -- index pages ----------------------------------------------------------------------

    def parse_index(self, response: Response) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        if response.status == 304:
            stats.inc_value("newswatch/index/not_modified")
            return
        body_hash = hashlib.sha256(response.body).hexdigest()
        _, _, old_hash = self.store.validators(response.url)
        if old_hash == body_hash:
            # Servers that ignore validators: an identical body is "not modified" too.
            stats.inc_value("newswatch/index/unchanged")
            return
        stats.inc_value("newswatch/index/ok")
        etag = response.headers.get(b"ETag")
        modified = response.headers.get(b"Last-Modified")
        self.pending_validators[response.request.url if response.request else response.url] = (
            etag.decode("latin-1") if etag else None,
            modified.decode("latin-1") if modified else None,
            body_hash,
        )
        kind = response.meta["nw_index"]
        yield from getattr(self, f"_read_{kind}")(response)

    def _read_feed(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self._articles(parse_feed(response.body))

    def _read_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        urls, children = parse_sitemap(response.body)
        for child in children[:MAX_SITEMAP_CHILDREN]:
            request = self._index(child, "sitemap")
            if request is not None:
                yield request
        yield from self._articles(urls)

    def _read_listing(self, response: Response) -> Iterator[scrapy.Request]:
        links = article_links(response.body, response.url, self.pattern, self.hosts)
        yield from self._articles(LinkedArticle(url) for url in links)

    def _read_home(self, response: Response) -> Iterator[scrapy.Request]:
        if not self.source.feeds:
            for feed in feed_links(response.body, response.url)[:5]:
                if self.canon.same_site(feed):
                    request = self._index(feed, "feed")
                    if request is not None:
                        yield request
        yield from self._read_listing(response)

    def _read_robots(self, response: Response) -> Iterator[scrapy.Request]:
        for url in robots_sitemaps(response.text)[:MAX_SITEMAP_CHILDREN]:
            request = self._index(url, "sitemap")
            if request is not None:
                yield request

    def _articles(self, found: Iterable[LinkedArticle]) -> Iterator[scrapy.Request]:
        """Requests for the article URLs not requested before (one store query)."""
        now = datetime.now(UTC)
        # Entries older than max_age are history, not news (0: no limit); they are counted
        # and reported in the round's summary, never dropped silently.
        max_age = timedelta(seconds=self.source.max_age) if self.source.max_age > 0 else None
        wanted: dict[str, LinkedArticle] = {}
        regex = self.pattern
        for item in found:
            url = self.canon(item.url)
            if not self.canon.same_site(url) or url in self.scheduled:
                continue
            if regex is not None and not regex.search(url) and not regex.search(item.url):
                continue
            if regex is None and not self._default_article(url):
                continue
            if max_age and item.published is not None and now - item.published > max_age:
                if url not in self.too_old:  # a feed and a sitemap often list the same entry
                    self.too_old.add(url)
                    self.crawler.stats.inc_value("newswatch/articles/too_old")
                continue
            wanted[url] = item
        seen = self.store.seen(wanted)
        fresh = [u for u in wanted if u not in seen]
        if fresh:
            self.crawler.signals.send_catch_log(articles_queued, count=len(fresh))
        for url in fresh:
            if len(self.scheduled) >= self.max_articles:
                self.crawler.stats.inc_value("newswatch/articles/deferred")
                continue
            self.scheduled.add(url)
            self.crawler.stats.inc_value("newswatch/articles/requested")
            published = wanted[url].published
            yield scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.article_failed,
                meta={
                    "nw_article": True,
                    "nw_published": published.isoformat() if published else None,
                },
            )

    @staticmethod
    def _default_article(url: str) -> bool:
        return bool(DEFAULT_ARTICLE_PATTERN.search(url))

    # -- articles -------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        content_type = response.headers.get(b"Content-Type")
        yield {
            "url": self.canon(response.request.url if response.request else response.url),
            "fetched_url": response.url,
            "body": response.body,
            "content_type": content_type.decode("latin-1") if content_type else None,
            "published": response.meta.get("nw_published"),
        }

    def article_failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if isinstance(failure.value, HostStopped):
            # Not sent: its host keeps failing (one line for the host, not one per article).
            # It was never marked seen, so the next round asks for it again.
            self.crawler.stats.inc_value("newswatch/articles/postponed")
            return
        reason = describe_failure(failure)
        if reason == "forbidden by robots.txt" and request is not None:
            # The publisher said no: remember the URL so no later round asks again, and do
            # not count it as a failure that would keep the listing's validators back.
            self.crawler.stats.inc_value("newswatch/articles/robots_forbidden")
            self.store.mark_seen(url)
            return
        self.article_errors += 1
        self.crawler.stats.inc_value("newswatch/articles/failed")
        logger.warning("%s: article %s: %s", self.source.name, url, reason)

    def index_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("newswatch/index/failed")
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        reason = describe_failure(failure)
        self.index_errors.append(f"{url}: {reason}")
        # INFO: the round's summary line carries these (the service logs it as a warning).
        logger.info("%s: %s: %s", self.source.name, url, reason)

    def closed(self, reason: str) -> None:
        stats = self.crawler.stats
        failed_items = stats.get_value("newswatch/articles/error", 0)
        # Articles left for the next round (over max_articles) must be found again there:
        # saving validators now would make their listings answer 304.
        failed_items += stats.get_value("newswatch/articles/deferred", 0)
        failed_items += stats.get_value("newswatch/articles/postponed", 0)
        if self.article_errors or failed_items or reason != "finished":
            logger.info(
                "%s: validators not saved (%d article failures, finish %s)",
                self.source.name,
                self.article_errors + failed_items,
                reason,
            )
            return
        for url, (etag, modified, body_hash) in self.pending_validators.items():
            self.store.save_validators(url, self.source.name, etag, modified, body_hash)
