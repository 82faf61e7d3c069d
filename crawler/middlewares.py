"""Downloader middlewares: conditional GET for index pages, and retries with backoff.

Scrapy's RFC2616 HTTP cache is wrong for news listings (it serves them from cache by a
heuristic and never revalidates ``no-cache``), and scrapy-deltafetch is broken on
Scrapy >= 2.16; so validators live in our own store and are sent explicitly.
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.response import response_status_message

logger = logging.getLogger(__name__)

__all__ = ["BackoffRetryMiddleware", "ConditionalGetMiddleware", "retry_after_seconds"]

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
