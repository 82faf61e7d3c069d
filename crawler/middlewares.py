"""Downloader middlewares: conditional GET for index pages, retries with backoff, and a
per-host breaker that stops a round's requests to a host that keeps failing.

Scrapy's RFC2616 HTTP cache is wrong for news listings (it serves them from cache by a
heuristic and never revalidates ``no-cache``), and scrapy-deltafetch is broken on
Scrapy >= 2.16; so validators live in our own store and are sent explicitly.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import (
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.error import ConnectionRefusedError, TCPTimedOutError, TimeoutError

logger = logging.getLogger(__name__)

__all__ = [
    "BackoffRetryMiddleware",
    "ConditionalGetMiddleware",
    "HostBreakerMiddleware",
    "HostStopped",
    "retry_after_seconds",
]

MAX_RETRY_AFTER = 120.0


class ConditionalGetMiddleware:
    """Adds If-None-Match / If-Modified-Since to index requests (``meta["nw_index"]``).

    Validators come from the store (the spider's ``store``); the spider saves the new ones
    only when a round succeeded, so a crash never hides an unread listing.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        store = getattr(self.crawler.spider, "store", None)
        if store is None or not request.meta.get("nw_index"):
            return
        etag, modified, _ = store.validators(request.url)
        if etag:
            request.headers.setdefault(b"If-None-Match", etag.encode("latin-1", "replace"))
        if modified:
            request.headers.setdefault(b"If-Modified-Since", modified.encode("latin-1", "replace"))


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    try:
        return max(0.0, float(text.strip()))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        when = parsedate_to_datetime(text)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, but waiting before each retry: ``Retry-After`` when the server says
    (capped at two minutes), else ``RETRY_BACKOFF_BASE * 2**n``. Scrapy's own retry
    re-queues at once, which hammers a struggling site."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        hint = retry_after_seconds(response.headers.get(b"Retry-After"))
        await self._wait(request, hint)
        return self._retry(request, response_status_message(response.status)) or response

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:  # type: ignore[override]
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry"):
            return None
        await self._wait(request, None)
        return self._retry(request, exception)

    async def _wait(self, request: Request, hint: float | None) -> None:
        tries = int(request.meta.get("retry_times", 0))
        if tries >= request.meta.get("max_retry_times", self.max_retry_times):
            return
        delay = min(hint, MAX_RETRY_AFTER) if hint is not None else self.backoff_base * 2**tries
        if delay > 0:
            await asyncio.sleep(delay)


HOST_FAILURES = 10  # server errors or timeouts in a row after which a host is left alone
_HOST_DOWN = (
    TimeoutError,
    TCPTimedOutError,
    DownloadTimeoutError,
    ConnectionRefusedError,
    DownloadConnectionRefusedError,
)


class HostStopped(IgnoreRequest):
    """A request not sent: its host failed too many times in a row this round."""


class HostBreakerMiddleware:
    """After ``NEWSWATCH_HOST_FAILURES`` (default 10) answers in a row from one host that
    are 5xx, timeouts or refused connections, send that host nothing more this round.

    A site answering 500 to every page otherwise gets three tries per article (retries) and
    a warning line each: 300 new articles made 903 requests in one round. The requests not
    sent raise :class:`HostStopped`; the spider counts those articles as left for the next
    round (they are not marked seen and the listings' validators are not saved, so the
    next round finds them again). It sits just below the retry middleware, so it sees
    every attempt, retries included, and stops retries too. Any other answer (2xx, 3xx,
    4xx) ends a run. One line is logged per stopped host when the round closes.
    """

    def __init__(self, crawler: Crawler, limit: int) -> None:
        self.crawler = crawler
        self.limit = limit
        self.run: Counter[str] = Counter()
        self.stopped: dict[str, str] = {}  # host -> the last failure, in words
        self.held: Counter[str] = Counter()  # host -> requests not sent

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostBreakerMiddleware:
        limit = crawler.settings.getint("NEWSWATCH_HOST_FAILURES", HOST_FAILURES)
        middleware = cls(crawler, max(1, limit))
        crawler.signals.connect(middleware.report, signal=signals.spider_closed)
        return middleware

    def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        if host in self.stopped:
            self.held[host] += 1
            self.crawler.stats.inc_value("newswatch/host/held")
            raise HostStopped(f"{host} stopped for this round: {self.stopped[host]}")

    def process_response(self, request: Request, response: Response) -> Response:
        host = urlparse_cached(request).hostname or ""
        if response.status >= 500:
            self._failed(host, f"HTTP {response.status}")
        else:
            self.run[host] = 0
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, _HOST_DOWN):
            host = urlparse_cached(request).hostname or ""
            kind = "refused" if "Refused" in type(exception).__name__ else "timed out"
            self._failed(host, kind)

    def _failed(self, host: str, what: str) -> None:
        self.run[host] += 1
        if self.run[host] >= self.limit and host not in self.stopped:
            self.stopped[host] = f"{self.run[host]} server errors or timeouts in a row ({what})"
            stopped = self.crawler.stats.get_value("newswatch/host/stopped") or []
            entry = f"{host} after {self.stopped[host]}"
            self.crawler.stats.set_value("newswatch/host/stopped", [*stopped, entry])

    def report(self, spider: Any) -> None:
        """One line per stopped host, when the round ends."""
        for host, why in self.stopped.items():
            logger.warning(
                "%s: %s stopped for this round after %s; %d request(s) left for the next round",
                getattr(spider, "source", spider).name,
                host,
                why,
                self.held[host],
            )
