"""Finding feeds, sitemaps and article links on a site: pure functions over fetched text.

Used by the spider on every round (a source given only ``home:``) and by
``newswatch discover URL``. trafilatura has similar helpers, but they download with their
own client (bypassing robots.txt, delays and stats) and return sorted URL lists without
dates, so we parse the pages we already fetched instead.
"""

from __future__ import annotations

import calendar
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.etree
import lxml.html

__all__ = [
    "DEFAULT_ARTICLE_PATTERN",
    "LinkedArticle",
    "article_links",
    "feed_links",
    "infer_article_pattern",
    "parse_feed",
    "parse_sitemap",
    "robots_sitemaps",
]

# "Same site, slug plus a numeric id": the URL shape of nearly every Vietnamese CMS
# (…/ten-bai-viet-251535.html, …-post812345.html, …-20260101093000123.htm, …-123.ldo).
DEFAULT_ARTICLE_PATTERN = re.compile(
    r"^https?://[^/]+/(?:[a-z0-9-]+/)*[a-z0-9]+(?:-[a-z0-9]+)+-(?:post|d)?\d{4,}"
    r"\.(?:html?|ldo|tpo|chn|vn)$"
)
_FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/xml",
    "text/xml",
)
MAX_XML = 50_000_000


@dataclass(frozen=True)
class LinkedArticle:
    """An article URL found in a feed or sitemap, with what the index said about it."""

    url: str
    title: str | None = None
    published: datetime | None = None


def _html(text: str | bytes) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.fromstring(text) if text else None
    except (lxml.etree.ParserError, ValueError):
        return None


def feed_links(page: str | bytes, base: str) -> list[str]:
    """Feeds a page advertises with ``<link rel="alternate" type="application/rss+xml">``."""
    root = _html(page)
    if root is None:
        return []
    found: dict[str, None] = {}
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in _FEED_TYPES and link.get("href"):
            found[urljoin(base, link.get("href", "").strip())] = None
    return list(found)


def robots_sitemaps(text: str) -> list[str]:
    """``Sitemap:`` lines of a robots.txt."""
    out = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            out.append(value.strip())
    return out


def article_links(
    page: str | bytes, base: str, pattern: re.Pattern[str] | None, same_site: Iterable[str]
) -> list[str]:
    """Absolute links of a listing page that look like articles of this site, in page order."""
    root = _html(page)
    if root is None:
        return []
    hosts = {h.lower() for h in same_site}
    regex = pattern or DEFAULT_ARTICLE_PATTERN
    found: dict[str, None] = {}
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = urljoin(base, href).split("#", 1)[0]
        if (urlsplit(url).hostname or "").lower() in hosts and regex.search(url):
            found[url] = None
    return list(found)


def parse_feed(body: bytes) -> list[LinkedArticle]:
    """Items of an RSS/Atom feed, in feed order (feedparser copes with the many broken feeds)."""
    parsed = feedparser.parse(body)
    out = []
    for entry in parsed.entries:
        link = entry.get("link") or entry.get("id")
        if not link:
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        when = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None
        out.append(LinkedArticle(url=str(link).strip(), title=entry.get("title"), published=when))
    return out


def _parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_sitemap(body: bytes) -> tuple[list[LinkedArticle], list[str]]:
    """(article URLs with news:publication_date or lastmod, child sitemaps newest first).

    Scrapy's SitemapSpider drops the ``news:`` fields, so we read them ourselves.
    """
    if body[:2] == b"\x1f\x8b":
        # Bounded: a small .xml.gz can inflate to gigabytes.
        body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, MAX_XML)
    parser = lxml.etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, huge_tree=False
    )
    try:
        root = lxml.etree.fromstring(body, parser=parser)
    except lxml.etree.XMLSyntaxError:
        return [], []
    if root is None:
        return [], []
    urls: list[LinkedArticle] = []
    children: list[LinkedArticle] = []
    for el in root:
        if not isinstance(el.tag, str):
            continue
        local = lxml.etree.QName(el).localname
        fields = {
            lxml.etree.QName(c).localname: (c.text or "").strip()
            for c in el.iter()
            if isinstance(c.tag, str)
        }
        loc = fields.get("loc")
        if not loc:
            continue
        when = _parse_date(fields.get("publication_date")) or _parse_date(fields.get("lastmod"))
        if local == "sitemap":
            children.append(LinkedArticle(url=loc, published=when))
        elif local == "url":
            urls.append(LinkedArticle(url=loc, title=fields.get("title") or None, published=when))
    return urls, _newest_first(children)


def _newest_first(children: list[LinkedArticle]) -> list[str]:
    """Child sitemaps, newest ``lastmod`` first; without dates, the index's last ones first
    (indexes usually append a new child per day or month)."""
    if any(c.published for c in children):
        oldest = datetime.min.replace(tzinfo=UTC)
        ordered = sorted(children, key=lambda c: c.published or oldest, reverse=True)
    else:
        ordered = list(reversed(children))
    return [c.url for c in ordered]


def infer_article_pattern(urls: Iterable[str], host: str) -> str | None:
    """A regular expression for the article URLs among ``urls`` on ``host``, or None.

    Keeps the URLs that fit the slug-plus-id shape and generalises their common suffix
    (``.html``, ``.htm``) and id length.
    """
    hits = [
        u
        for u in urls
        if (urlsplit(u).hostname or "") == host and DEFAULT_ARTICLE_PATTERN.search(u)
    ]
    if not hits:
        return None
    suffix = Counter(u.rsplit(".", 1)[-1] for u in hits).most_common(1)[0][0]
    lengths = [len(m.group(1)) for u in hits if (m := re.search(r"(\d+)\.[a-z]+$", u))]
    low, high = (min(lengths), max(lengths)) if lengths else (4, 20)
    first = urlsplit(hits[0])
    return (
        f"^{first.scheme}://{re.escape(first.netloc)}/(?:[a-z0-9-]+/)*[a-z0-9-]+-(?:post)?"
        f"\\d{{{low},{high}}}\\.{re.escape(suffix)}$"
    )
