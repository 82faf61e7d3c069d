"""URL canonicalisation and the pure discovery helpers."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime

from crawler.discover import (
    article_links,
    feed_links,
    infer_article_pattern,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
)
from crawler.urls import UrlCanon

CANON = UrlCanon("tuoitrethudo.vn", ["tuoitrethudo.com.vn", "www.tuoitrethudo.vn"])


def test_alias_host_tracking_params_port_and_fragment() -> None:
    url = "HTTPS://www.Tuoitrethudo.com.vn:443/ten-bai-251535.html?utm_source=fb&fbclid=x#top"
    assert (
        CANON(url)
        == CANON("https://tuoitrethudo.vn/ten-bai-251535.html")
        == ("https://tuoitrethudo.vn/ten-bai-251535.html")
    )
    assert CANON.same_site("https://tuoitrethudo.com.vn/a-1.html")
    assert not CANON.same_site("https://example.vn/a-1.html")


def test_meaningful_query_is_kept_in_stable_order() -> None:
    assert CANON("https://tuoitrethudo.vn/tim?q=a&page=2") == (
        "https://tuoitrethudo.vn/tim?page=2&q=a"
    )


def test_feed_links_and_robots() -> None:
    page = (
        '<html><head><link rel="alternate" type="application/rss+xml" href="/rss/home.rss">'
        '<link rel="stylesheet" href="/a.css"></head></html>'
    )
    assert feed_links(page, "https://hanoimoi.vn/") == ["https://hanoimoi.vn/rss/home.rss"]
    robots = "User-agent: *\nDisallow: /admin\nSitemap: https://hanoimoi.vn/sitemap.xml\n"
    assert robots_sitemaps(robots) == ["https://hanoimoi.vn/sitemap.xml"]


def test_article_links_keep_articles_of_this_site_only() -> None:
    page = (
        '<a href="/ky-3-van-hoa-tra-251535.html">a</a><a href="/xa-hoi">section</a>'
        '<a href="https://other.vn/bai-viet-123456.html">other</a>'
        '<a href="/ky-3-van-hoa-tra-251535.html#comments">dup</a>'
    )
    links = article_links(page, "https://tuoitrethudo.vn/", None, ["tuoitrethudo.vn"])
    assert links == ["https://tuoitrethudo.vn/ky-3-van-hoa-tra-251535.html"]


def test_feed_and_news_sitemap_dates() -> None:
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>T</title>'
        b"<link>https://vnexpress.net/a-b-4954454.html</link>"
        b"<pubDate>Thu, 14 Feb 2019 14:15:30 +0700</pubDate></item></channel></rss>"
    )
    items = parse_feed(rss)
    assert items[0].url == "https://vnexpress.net/a-b-4954454.html"
    assert items[0].published == datetime(2019, 2, 14, 7, 15, 30, tzinfo=UTC)
    sitemap = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
        b"<loc>https://kinhtedothi.vn/a-b.html</loc><news:news><news:publication_date>"
        b"2026-11-25T08:00:00+07:00</news:publication_date><news:title>Tin</news:title>"
        b"</news:news></url></urlset>"
    )
    urls, children = parse_sitemap(sitemap)
    assert children == [] and urls[0].title == "Tin"
    assert urls[0].published == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def test_sitemap_index_children_newest_first_and_gzip_bounded() -> None:
    index = (
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://a.vn/s-2026-10.xml</loc><lastmod>2026-10-31</lastmod></sitemap>"
        b"<sitemap><loc>https://a.vn/s-2026-11.xml</loc><lastmod>2026-11-25</lastmod></sitemap>"
        b"<sitemap><loc>https://a.vn/s-2025-01.xml</loc><lastmod>2025-01-31</lastmod></sitemap>"
        b"</sitemapindex>"
    )
    urls, children = parse_sitemap(index)
    assert urls == [] and children == [
        "https://a.vn/s-2026-11.xml",
        "https://a.vn/s-2026-10.xml",
        "https://a.vn/s-2025-01.xml",
    ]
    assert parse_sitemap(gzip.compress(index))[1] == children
    bomb = gzip.compress(b"<urlset>" + b" " * 80_000_000)
    assert parse_sitemap(bomb) == ([], [])


def test_broken_xml_is_empty_not_a_crash() -> None:
    assert parse_sitemap(b"<urlset><url><loc>") == ([], [])
    assert parse_feed(b"not a feed at all") == []


def test_infer_pattern_fits_the_sample() -> None:
    urls = [
        "https://tuoitre.vn/a-b-20260101093000123.htm",
        "https://tuoitre.vn/c-d-e-20260102093000123.htm",
        "https://tuoitre.vn/video",
    ]
    pattern = infer_article_pattern(urls, "tuoitre.vn")
    assert pattern is not None
    assert re.search(pattern, urls[0]) and not re.search(pattern, urls[2])
