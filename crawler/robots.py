"""robots.txt kept between rounds, for as long as its HTTP caching headers allow (at most 24 h).

Scrapy's ``RobotsTxtMiddleware`` fetches robots.txt once per crawl, and every round is a new
crawl: so a poll with nothing new cost an unconditional robots.txt request besides its
conditional feed requests. :class:`CachedRobotsTxtMiddleware` keeps the file of each host
with an expiry from ``Cache-Control: max-age`` or ``Expires``, capped at 24 hours as RFC 9309
(section 2.4) asks; without either header it is kept 24 hours; ``no-store``, ``no-cache`` or
``max-age=0`` mean "ask every round". Only answers that decide something are kept: 2xx (the
rules) and 4xx other than 429 (no rules: everything allowed); a 5xx or a network error is
not kept and is asked again next round.

The freshness rule is a few lines here: HTTP caching libraries (CacheControl, hishel) are
caches of an HTTP client, and Scrapy's RFC2616 policy is bound to its HTTP cache storage,
which this project keeps off (see :mod:`crawler.middlewares`).

The copies are small JSON files under ``DATA/robots/`` rather than rows in the store: a
cached public file is not state anything depends on (losing it costs one request), and it
needs no schema change. The subclass uses two internals of Scrapy's middleware
(``_parsers``, ``_parse_robots``); Scrapy is pinned to 2.19.x in pyproject.toml.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler

logger = logging.getLogger(__name__)

__all__ = ["MAX_KEEP", "CachedRobotsTxtMiddleware", "RobotsCache", "freshness"]

MAX_KEEP = 24 * 3600.0  # RFC 9309: a cached robots.txt should not be used for longer


def freshness(headers: dict[str, str], now: float) -> float:
    """Seconds a robots.txt answer may be reused, from its ``Cache-Control`` and ``Expires``
    (header names in lower case), at most :data:`MAX_KEEP`; 24 h when neither says."""
    control = headers.get("cache-control", "").lower()
    directives = {
        d.strip().partition("=")[0]: d.strip().partition("=")[2] for d in control.split(",")
    }
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    if "max-age" in directives:
        try:
            return max(0.0, min(float(directives["max-age"].strip('"')), MAX_KEEP))
        except ValueError:
            return 0.0  # an unreadable lifetime is no permission to keep
    if "expires" in headers:
        try:
            return max(
                0.0, min(parsedate_to_datetime(headers["expires"]).timestamp() - now, MAX_KEEP)
            )
        except (TypeError, ValueError):
            return 0.0  # RFC 9111: an invalid Expires means already expired
    return MAX_KEEP


class RobotsCache:
    """One JSON file per site (scheme and host): the body and when it stops being fresh."""

    def __init__(self, folder: Path, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.clock = clock

    def _file(self, site: str) -> Path:
        return self.folder / (re.sub(r"[^A-Za-z0-9.-]+", "_", site) + ".json")

    def fresh(self, site: str) -> bytes | None:
        """The kept robots.txt of ``site`` (``https://host:port``) while fresh, else None."""
        try:
            entry = json.loads(self._file(site).read_text(encoding="utf-8"))
            if float(entry["expires"]) > self.clock():
                return str(entry["body"]).encode("utf-8")
        except (OSError, ValueError, KeyError, TypeError):
            pass  # absent or unreadable: fetch it again
        return None

    def keep(self, site: str, response: Response) -> None:
        """Keep an answer that decides something (2xx, 4xx but 429) for its lifetime."""
        if not (
            200 <= response.status < 300
            or (400 <= response.status < 500 and response.status != 429)
        ):
            return
        headers = {
            key.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
            for key, values in response.headers.items()
        }
        now = self.clock()
        lifetime = freshness(headers, now)
        if lifetime <= 0:
            return
        body = response.body.decode("utf-8", "replace") if response.status < 300 else ""
        entry = {"site": site, "status": response.status, "expires": now + lifetime, "body": body}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self._file(site)
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, target)  # a reader never sees half a file
        except OSError as exc:  # a cache that cannot be written only costs a request
            logger.info("cannot keep robots.txt of %s: %s", site, exc)


class CachedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, reading a fresh kept copy before asking the site.

    The folder is the ``NEWSWATCH_ROBOTS_CACHE`` setting; without it, it behaves as Scrapy's.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        folder = crawler.settings.get("NEWSWATCH_ROBOTS_CACHE")
        self.cache = RobotsCache(Path(folder)) if folder else None

    @staticmethod
    def _site(request: Request) -> str:
        url = urlparse_cached(request)
        return f"{url.scheme}://{url.netloc}"

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        if self.cache is not None and netloc not in self._parsers:
            body = self.cache.fresh(self._site(request))
            if body is not None:
                self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler, body)
                self.crawler.stats.inc_value("newswatch/robots/kept")
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if self.cache is not None:
            self.cache.keep(self._site(request), response)
        await super()._parse_robots(response, netloc, request)
