"""Conditional GET and retry helpers, at the seams (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from scrapy import Request

from crawler.middlewares import ConditionalGetMiddleware, retry_after_seconds


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds(b"120") == 120.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    seconds = retry_after_seconds(later)
    assert seconds is not None and 80 <= seconds <= 90
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


class _Store:
    def validators(self, url: str) -> tuple[str | None, str | None, str | None]:
        return '"abc"', "Wed, 25 Nov 2026 01:00:00 GMT", "hash"


class _Crawler:
    def __init__(self) -> None:
        self.spider: Any = type("S", (), {"store": _Store()})()


def test_index_requests_carry_the_stored_validators() -> None:
    mw = ConditionalGetMiddleware(_Crawler())  # type: ignore[arg-type]
    index = Request("https://hanoimoi.vn/rss/home.rss", meta={"nw_index": "feed"})
    article = Request("https://hanoimoi.vn/bai-viet-123456.html")
    mw.process_request(index)
    mw.process_request(article)
    assert index.headers[b"If-None-Match"] == b'"abc"'
    assert index.headers[b"If-Modified-Since"] == b"Wed, 25 Nov 2026 01:00:00 GMT"
    assert b"If-None-Match" not in article.headers
