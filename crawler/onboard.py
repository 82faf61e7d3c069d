"""``newswatch discover URL``: look at a site once and print a ready-to-paste source entry.

This is the one place that fetches outside Scrapy (a few plain ``requests`` calls, run by
a person at a terminal): the homepage, its robots.txt, and the feeds it advertises.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import requests

from crawler.config import DEFAULT_USER_AGENT
from crawler.discover import (
    article_links,
    feed_links,
    infer_article_pattern,
    parse_feed,
    robots_sitemaps,
)
from pipelines.errors import NewswatchError

__all__ = ["discover_source", "render_entry"]

TIMEOUT = (5.0, 20.0)


def _get(session: requests.Session, url: str) -> requests.Response | None:
    try:
        response = session.get(url, timeout=TIMEOUT, allow_redirects=True)
    except requests.RequestException:
        return None
    return response if response.ok else None


def discover_source(url: str, name: str | None = None) -> str:
    """Fetch ``url``'s homepage, robots.txt and feeds; return a ``sources.yaml`` entry."""
    session = requests.Session()
    session.headers["User-Agent"] = DEFAULT_USER_AGENT
    with session:
        home = _get(session, url)
        if home is None:
            raise NewswatchError(f"discover: cannot fetch {url} (site down, or not http(s)?)")
        base = home.url
        host = urlsplit(base).hostname or ""
        feeds = [f for f in feed_links(home.content, base) if urlsplit(f).hostname in (host, None)]
        robots = _get(session, urljoin(base, "/robots.txt"))
        sitemaps = robots_sitemaps(robots.text) if robots is not None else []
        links = article_links(home.content, base, None, [host])
        for feed in feeds[:3]:
            got = _get(session, feed)
            if got is not None:
                links += [a.url for a in parse_feed(got.content)]
    pattern = infer_article_pattern(links, host)
    samples = [u for u in links if pattern and re.search(pattern, u)][:5]
    return render_entry(name or _name_for(host), base, feeds, sitemaps, pattern, samples)


def _name_for(host: str) -> str:
    core = host.removeprefix("www.").split(".")[0]
    return re.sub(r"[^a-z0-9-]", "-", core.lower()) or "source"


def render_entry(
    name: str,
    home: str,
    feeds: list[str],
    sitemaps: list[str],
    pattern: str | None,
    samples: list[str],
) -> str:
    """The YAML text of one source entry (comments say what was and was not found)."""
    lines = [f"  - name: {name}", f"    home: {home}"]
    if feeds:
        lines.append("    feeds:")
        lines += [f"      - {f}" for f in feeds]
    else:
        lines.append("    # no <link rel=alternate> feed on the homepage")
    if sitemaps:
        lines.append("    sitemaps:")
        lines += [f"      - {s}" for s in sitemaps]
    else:
        lines.append("    # robots.txt names no sitemap")
    if pattern:
        lines.append(f"    article_url: '{pattern}'")
        lines.append("    # sample article URLs that fit:")
        lines += [f"    #   {s}" for s in samples]
    else:
        lines.append(
            "    # no article URL pattern could be inferred: add listings: and article_url:"
        )
    return "\n".join(lines)
