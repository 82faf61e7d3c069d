"""The local news site's content: articles as JSON files in ``ROOT/articles/`` (``{"id",
"slug", "title", "sapo", "paragraphs", "published", "section", "captions"}``) and the pages
made of them.

Article pages are CMS-like, with the boilerplate real sites carry (navigation, "Tin liên
quan" boxes, a share bar, a "Phiên bản di động" footer; ``heavy`` pads them to the size of
real pages); beside them an RSS feed, a news sitemap, section listings, a homepage with
``<link rel=alternate>`` and a ``robots.txt`` naming the sitemap. ``/m`` is a mobile edition
whose article pages name the desktop URL as canonical. :mod:`crawler.demo.localsite` serves
them.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

__all__ = ["Renderer", "SiteArticle", "load_articles", "write_article"]

SECTIONS = {"thoi-su": "Thời sự", "xa-hoi": "Xã hội", "kinh-te": "Kinh tế"}


@dataclass(frozen=True)
class SiteArticle:
    """One article of the local site."""

    id: int
    slug: str
    title: str
    sapo: str
    paragraphs: tuple[str, ...]
    published: str  # ISO 8601 with offset
    section: str = "thoi-su"
    #: Photo captions, one figure each after the first paragraph (printed twice, as
    #: Tuổi trẻ Thủ đô does: the image's alt text and the caption under it).
    captions: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"/{self.slug}-{self.id}.html"


def write_article(root: Path, article: SiteArticle) -> Path:
    """Publish an article: write its JSON atomically into ``root/articles``."""
    folder = root / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "id": article.id,
        "slug": article.slug,
        "title": article.title,
        "sapo": article.sapo,
        "paragraphs": list(article.paragraphs),
        "published": article.published,
        "section": article.section,
        "captions": list(article.captions),
    }
    target = folder / f"{article.id}.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(target)
    return target


_cache: dict[Path, tuple[tuple[int, int], list[SiteArticle]]] = {}
_cache_lock = threading.Lock()


def load_articles(root: Path) -> list[SiteArticle]:
    """All articles, newest first (re-read only when the folder changes)."""
    folder = root / "articles"
    stat = folder.stat()
    key = (stat.st_mtime_ns, stat.st_ino)
    with _cache_lock:
        cached = _cache.get(folder)
        if cached is not None and cached[0] == key:
            return cached[1]
    found = _read_articles(root)
    with _cache_lock:
        _cache[folder] = (key, found)
    return found


def _read_articles(root: Path) -> list[SiteArticle]:
    found = []
    for path in (root / "articles").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["paragraphs"] = tuple(data["paragraphs"])
        data["captions"] = tuple(data.get("captions", ()))
        found.append(SiteArticle(**data))
    found.sort(key=lambda a: (a.published, a.id), reverse=True)
    return found


def _e(text: str) -> str:
    return html.escape(text, quote=True)


class Renderer:
    """Turns the article files into pages, feed, sitemap and listings."""

    def __init__(self, root: Path, base: str, heavy: bool = False) -> None:
        self.root = root
        self.base = base.rstrip("/")
        self.heavy = heavy
        self._rendered: dict[str, tuple[int, str, bytes, str]] = {}
        self._rendered_for: list[SiteArticle] | None = None

    def _portal(self, others: list[SiteArticle]) -> str:
        """What a real CMS page carries around an article (``--heavy``), shaped like the
        saved real pages (median 109 KB and ~770 elements): a mega-menu, boxes of teasers
        with images, times and tracking links, a "most read" list, a footer of links, and
        inline scripts (ad slots, analytics, the page state)."""
        menu = "".join(
            f'<li class="menu-item"><a href="/{k}" data-track="menu-{k}">{_e(v)}</a>'
            '<ul class="sub-menu">'
            + "".join(
                f'<li><a href="/{k}?p={i}" title="{_e(v)} {i}">{_e(v)} {i}</a></li>'
                for i in range(24)
            )
            + "</ul></li>"
            for k, v in SECTIONS.items()
        )

        def teaser(o: SiteArticle, box: str) -> str:
            return (
                f'<div class="box-item {box}-item" data-id="{o.id}"><div class="thumb">'
                f'<a href="{o.path}?utm_source={box}&amp;utm_medium=web" title="{_e(o.title)}">'
                f'<img src="/img/{o.id}-300x200.jpg" data-src="/img/{o.id}-600x400.jpg" '
                f'alt="{_e(o.title)}" width="300" height="200" loading="lazy"></a></div>'
                f'<div class="info"><h3 class="box-title"><a href="{o.path}">{_e(o.title)}'
                f'</a></h3><p class="box-sapo">{_e(o.sapo)}</p><span class="box-time">'
                f"{o.published[:10]}</span></div></div>"
            )

        boxes = "".join(
            f'<section class="box box-{name}"><h2 class="box-heading">{_e(label)}</h2>'
            f'<div class="box-list">{"".join(teaser(o, name) for o in chosen)}</div></section>'
            for name, label, chosen in (
                ("cung-chuyen-muc", "Cùng chuyên mục", others[:12]),
                ("doc-nhieu", "Đọc nhiều", others[12:24]),
                ("noi-bat", "Nổi bật", others[24:36]),
                ("moi-nhat", "Mới nhất", others[36:48]),
            )
        )
        footer_links = "".join(
            f'<li><a href="/{k}?trang={i}" rel="nofollow">{_e(v)} - trang {i}</a></li>'
            for i in range(20)
            for k, v in SECTIONS.items()
        )
        state = json.dumps(
            {"items": [{"id": o.id, "title": o.title, "sapo": o.sapo} for o in others[:90]]},
            ensure_ascii=False,
        )
        ads = "".join(
            f'window.adSlots.push({{id:"slot-{i}",sizes:[[300,250],[300,600]],'
            f'targeting:{{section:"thoi-su",pos:{i}}}}});'
            for i in range(120)
        )
        return (
            f'<nav class="mega-menu"><ul class="menu">{menu}</ul></nav>'
            f'<aside class="sidebar">{boxes}</aside>'
            f'<div class="site-links"><ul class="footer-links">{footer_links}</ul></div>'
            f"<script>window.adSlots=window.adSlots||[];{ads}</script>"
            f'<script type="application/json" id="__STATE__">{_e(state)}</script>'
        )

    def _chrome(self, title: str, body: str, head: str = "") -> str:
        nav = "".join(f'<li><a href="/{k}">{_e(v)}</a></li>' for k, v in SECTIONS.items())
        return (
            '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
            f"<title>{_e(title)} - Tin Thủ Đô Demo</title>{head}"
            '<link rel="alternate" type="application/rss+xml" title="Tin mới" '
            f'href="{self.base}/rss/home.rss"></head><body>'
            f'<header class="site-header"><a href="/">Tin Thủ Đô</a><nav><ul>{nav}</ul></nav>'
            "</header>"
            f'<main>{body}</main><footer class="site-footer"><p>Cơ quan chủ quản: Báo mẫu'
            ' cho thử nghiệm.</p><p class="mobile-version"><a href="/m">Phiên bản di động</a>'
            "</p></footer></body></html>"
        )

    def article_page(self, art: SiteArticle, others: list[SiteArticle]) -> str:
        related = "".join(f'<li><a href="{o.path}">{_e(o.title)}</a></li>' for o in others[:3])
        figures = "".join(
            f'<figure><img src="/anh/{art.id}-{i}.jpg" alt="{_e(c)}"><figcaption>{_e(c)}'
            "</figcaption></figure>"
            for i, c in enumerate(art.captions)
        )
        paras = "".join(
            f"<p>{_e(p)}</p>" + (figures if i == 0 else "") for i, p in enumerate(art.paragraphs)
        )
        head = (
            f'<link rel="canonical" href="{self.base}{art.path}">'
            f'<meta property="og:title" content="{_e(art.title)}">'
            f'<meta property="article:published_time" content="{art.published}">'
        )
        body = (
            f'<article class="article-detail"><h1 class="article-title">{_e(art.title)}</h1>'
            f'<div class="article-meta"><time datetime="{art.published}">{art.published}'
            f'</time></div><div class="share-bar">Chia sẻ bài viết: Facebook · Zalo</div>'
            f'<h2 class="sapo">{_e(art.sapo)}</h2><div class="article-body">{paras}</div>'
            f'<div class="box-related"><h3>Tin liên quan</h3><ul>{related}</ul></div>'
            '<div class="comment-box">Gửi bình luận của bạn</div></article>'
        )
        if self.heavy:
            body += self._portal(others)
        return self._chrome(art.title, body, head)

    def listing(self, articles: list[SiteArticle], section: str | None) -> str:
        chosen = [a for a in articles if section is None or a.section == section]
        items = "".join(
            f'<li class="story"><a href="{a.path}">{_e(a.title)}</a><p>{_e(a.sapo)}</p></li>'
            for a in chosen[:50]
        )
        name = SECTIONS.get(section or "", "Trang chủ")
        return self._chrome(name, f'<h1>{_e(name)}</h1><ul class="stories">{items}</ul>')

    def feed(self, articles: list[SiteArticle]) -> str:
        items = "".join(
            f"<item><title>{_e(a.title)}</title><link>{self.base}{a.path}</link>"
            f"<guid>{self.base}{a.path}</guid><description>{_e(a.sapo)}</description>"
            f"<pubDate>{format_datetime(datetime.fromisoformat(a.published))}</pubDate></item>"
            for a in articles[:50]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>Tin Thủ Đô Demo</title><link>{self.base}/</link>"
            f"<description>Tin mới nhất</description>{items}</channel></rss>"
        )

    def sitemap(self, articles: list[SiteArticle]) -> str:
        urls = "".join(
            f"<url><loc>{self.base}{a.path}</loc><news:news><news:publication_date>"
            f"{a.published}</news:publication_date><news:title>{_e(a.title)}</news:title>"
            "</news:news></url>"
            for a in articles[:1000]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"{urls}</urlset>"
        )

    def robots(self) -> str:
        extra = self.root / "disallow.txt"  # more Disallow: paths, one a line (tests)
        paths = ["/admin/", *(extra.read_text().split() if extra.exists() else [])]
        rules = "".join(f"Disallow: {p}\n" for p in paths)
        return f"User-agent: *\n{rules}Sitemap: {self.base}/sitemap.xml\n"

    def page(self, path: str) -> tuple[int, str, bytes, str]:
        """(status, content type, body, ETag); pages are rendered once per state of the
        articles folder (a publisher's server is not what the benchmarks measure)."""
        articles = load_articles(self.root)
        if articles is not self._rendered_for:
            self._rendered, self._rendered_for = {}, articles
        key = path.split("?", 1)[0]
        found = self._rendered.get(key)
        if found is None:
            status, ctype, text = self.route(path)
            body = text.encode("utf-8")
            found = (status, ctype, body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')
            if key != "/robots.txt":  # robots.txt follows disallow.txt, which tests edit
                self._rendered[key] = found
        return found

    def route(self, path: str) -> tuple[int, str, str]:
        """(status, content type, body) for a request path."""
        articles = load_articles(self.root)
        path = path.split("?", 1)[0]
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", self.robots()
        if path == "/rss/home.rss":
            return 200, "application/rss+xml; charset=utf-8", self.feed(articles)
        if path == "/sitemap.xml":
            return 200, "application/xml; charset=utf-8", self.sitemap(articles)
        if path in ("/", "/index.html"):
            return 200, "text/html; charset=utf-8", self.listing(articles, None)
        if path.lstrip("/") in SECTIONS:
            return 200, "text/html; charset=utf-8", self.listing(articles, path.lstrip("/"))
        if path == "/m":
            # The mobile edition: the same articles under /m/…, each page naming the desktop
            # URL as <link rel=canonical>, as CMSs do.
            html_text = self.listing(articles, None).replace('href="/', 'href="/m/')
            return 200, "text/html; charset=utf-8", html_text
        path = path.removeprefix("/m")
        for art in articles:
            if art.path == path:
                others = [a for a in articles if a.id != art.id]
                return 200, "text/html; charset=utf-8", self.article_page(art, others)
        return 404, "text/html; charset=utf-8", self._chrome("Không tìm thấy", "<h1>404</h1>")
