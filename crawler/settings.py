"""Scrapy settings for one crawl of one source.

Every politeness and safety limit is set explicitly: outside a Scrapy project
``ROBOTSTXT_OBEY`` is False and per-domain concurrency is 8, and Scrapy 2.19 turns on a
RemoteControl HTTP endpoint (arbitrary code with a token written to disk) and the telnet
console by default — both are off here.
"""

from __future__ import annotations

from typing import Any

from crawler.config import SourceConfig

__all__ = ["crawl_settings"]

MAX_PAGE_BYTES = 8 * 1024 * 1024


def crawl_settings(
    source: SourceConfig, *, log_level: str = "WARNING", extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The settings dict for crawling ``source``."""
    settings: dict[str, Any] = {
        "BOT_NAME": "newswatch",
        "USER_AGENT": source.user_agent,
        "ROBOTSTXT_OBEY": True,
        "REMOTE_CONTROL_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": log_level,
        "LOG_ENABLED": True,
        # newswatch's own handler (crawler.service.logs) is in place
        "LOG_INSTALL_ROOT_HANDLER": False,
        "CONCURRENT_REQUESTS": max(2, source.concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.concurrency,
        "DOWNLOAD_DELAY": source.delay,
        "DOWNLOAD_DELAY_JITTER": 0.5 if source.delay else 0.0,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": max(source.delay, 0.0),
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(source.concurrency),
        "DOWNLOAD_TIMEOUT": min(30.0, max(5.0, source.timeout / 4)),
        "DOWNLOAD_MAXSIZE": MAX_PAGE_BYTES,
        "DOWNLOAD_WARNSIZE": MAX_PAGE_BYTES // 4,
        "CLOSESPIDER_TIMEOUT": max(5.0, source.timeout * 0.8),
        "MEMUSAGE_LIMIT_MB": 1024,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "RETRY_BACKOFF_BASE": max(1.0, source.delay),
        "REDIRECT_MAX_TIMES": 5,
        # Per response, Scrapy starts this many tasks to process what the callback yields;
        # an article page yields one item (pages are processed side by side anyway), and
        # 50 idle tasks per page cost the event loop ~2 ms each page.
        "CONCURRENT_ITEMS": 2,
        "DOWNLOADER_MIDDLEWARES": {
            # robots.txt kept between rounds (crawler/robots.py), not fetched every round.
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.robots.CachedRobotsTxtMiddleware": 100,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
            # Below the retries: it sees every attempt and can stop them.
            "crawler.middlewares.HostBreakerMiddleware": 555,
            "crawler.middlewares.ConditionalGetMiddleware": 560,
        },
        "ITEM_PIPELINES": {"pipelines.persist.ArticlePipeline": 300},
        # Scrapy's own extensions minus the remote-control endpoint (aiohttp), the telnet
        # console and feed exports (items go to the store): off, and not even imported
        # (disabling them in EXTENSIONS still imports them; ~0.1 s of every round's start).
        "EXTENSIONS_BASE": {
            "scrapy.extensions.corestats.CoreStats": 0,
            "scrapy.extensions.logcount.LogCount": 0,
            "scrapy.extensions.memusage.MemoryUsage": 0,
            "scrapy.extensions.closespider.CloseSpider": 0,
            "scrapy.extensions.logstats.LogStats": 0,
            "scrapy.extensions.throttle.AutoThrottle": 0,
        },
        "NEWSWATCH_SOURCE": source.name,
        "NEWSWATCH_DROP": list(source.drop),
        "NEWSWATCH_LEAD": list(source.lead),
        "NEWSWATCH_CAPTIONS": list(source.captions),
    }
    settings.update(extra or {})
    return settings
