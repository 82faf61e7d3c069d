"""What a page says about itself: canonical URL, headline, visible date line, author.

The headline is the page's own ``<h1>`` (CMS hooks first, see :mod:`pipelines.clean.sites`), not the
``<title>``/og:title, which carry " - Site name" and sometimes an SEO variant; those are only a
fallback, with the site's name cut off.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import lxml.html
from cssselect import parser as css
from lxml.cssselect import CSSSelector

from pipelines.clean.pubdate import VisibleDate, parse_visible
from pipelines.clean.sites import DATE_SELECTORS
from pipelines.clean.textblocks import element_text, fold

__all__ = [
    "PageMeta",
    "Present",
    "clean_author",
    "compiled",
    "first",
    "generic_h1",
    "headline",
    "nfc",
    "select",
    "visible_date",
]

_TITLE_SEPARATOR = re.compile(r"\s+[-|–—»:]\s+|\s*\|\s*")
_HEADLINE_WORDS = 4
_SITE_WORDS = ("online", "baodientu", "trangthongtin", "news", "vnexpress", "tintuc24h")


@dataclass(frozen=True)
class PageMeta:
    """Page-level facts read before any pruning."""

    canonical: str | None
    og_title: str
    page_title: str
    site_hints: tuple[str, ...]
    #: og:description or the description meta: often the lead, sometimes cut short.
    description: str = ""

    @classmethod
    def read(cls, tree: lxml.html.HtmlElement, url: str) -> PageMeta:
        # Every <meta> read in one pass: (attribute, its value) -> the first non-empty content.
        contents: dict[tuple[str, str], str] = {}
        for el in tree.iter("meta"):
            content = str(el.get("content") or "")
            if content.strip():
                for attr in ("property", "name", "itemprop"):
                    key = (attr, str(el.get(attr) or ""))
                    if key[1] and key not in contents:
                        contents[key] = content

        def meta(*names: str) -> str:
            for name in names:
                for attr in ("property", "name", "itemprop"):
                    value = contents.get((attr, name))
                    if value is not None:
                        return _squash(value)
            return ""

        canonical = None
        for href in [*tree.xpath('//link[@rel="canonical"]/@href'), meta("og:url")]:
            absolute = urljoin(url, str(href).strip()) if str(href).strip() else ""
            if urlsplit(absolute).scheme in ("http", "https"):
                canonical = absolute
                break
        titles = tree.xpath("//title")
        page_title = element_text(titles[0]) if titles else ""
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        hints = {fold(meta("og:site_name")), host.split(".")[0] if host else ""}
        return cls(
            canonical,
            meta("og:title"),
            page_title,
            tuple(h for h in hints if len(h) > 2),
            meta("og:description", "description"),
        )


@lru_cache(maxsize=512)
def compiled(selector: str) -> CSSSelector:
    """The compiled selector (raises ``cssselect.SelectorError`` when invalid)."""
    return CSSSelector(selector, translator="html")


@dataclass(frozen=True)
class _Needs:
    """What a document must hold for one selector (of a comma list) to match anything."""

    classes: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    class_parts: tuple[str, ...] = ()  # [class*=x]
    id_parts: tuple[str, ...] = ()  # [id*=x]


@dataclass(frozen=True)
class Present:
    """The class tokens and ids a document holds, read in one pass.

    Every selector is a walk over the whole page, and most of the selectors the cleaner knows
    are hooks of other sites' CMSs: a selector naming a class or id the page does not have
    cannot match, so it is not run. Removing elements afterwards keeps this a superset, which
    is all the check needs.
    """

    classes: frozenset[str]
    ids: frozenset[str]
    class_text: str
    id_text: str

    @classmethod
    def of(cls, tree: lxml.html.HtmlElement) -> Present:
        class_values = [str(v) for v in tree.xpath("//@class")]
        id_values = [str(v) for v in tree.xpath("//@id")]
        # The tokens XPath's normalize-space() makes, which is what the compiled selector uses.
        tokens = " ".join(class_values).translate(_XPATH_SPACES).split(" ")
        return cls(
            classes=frozenset(tokens),
            ids=frozenset(id_values),
            class_text="\0".join(class_values),
            id_text="\0".join(id_values),
        )

    def may_match(self, selector: str) -> bool:
        return any(self._holds(needs) for needs in _needs(selector))

    def _holds(self, needs: _Needs) -> bool:
        return (
            all(c in self.classes for c in needs.classes)
            and all(i in self.ids for i in needs.ids)
            and all(p in self.class_text for p in needs.class_parts)
            and all(p in self.id_text for p in needs.id_parts)
        )


_XPATH_SPACES = str.maketrans("\t\n\r", "   ")


@lru_cache(maxsize=512)
def _needs(selector: str) -> tuple[_Needs, ...]:
    """For each selector of a comma list, the classes and ids it names outside ``:not()``,
    ``:has()`` and the like (which may match without them)."""
    found = []
    for parsed in css.parse(selector):
        classes: list[str] = []
        ids: list[str] = []
        class_parts: list[str] = []
        id_parts: list[str] = []
        node = parsed.parsed_tree
        stack = [node]
        while stack:
            node = stack.pop()
            if isinstance(node, css.CombinedSelector):
                stack += [node.selector, node.subselector]
                continue
            if isinstance(node, css.Class):
                classes.append(node.class_name)
            elif isinstance(node, css.Hash):
                ids.append(node.id)
            elif (
                isinstance(node, css.Attrib)
                and node.operator in ("*=", "^=", "$=", "=")
                and node.namespace is None
                and getattr(node, "flag", None) is None
                and node.value is not None
                and node.value.value
            ):
                if node.attrib == "class":
                    class_parts.append(str(node.value.value))
                elif node.attrib == "id":
                    id_parts.append(str(node.value.value))
            inner = getattr(node, "selector", None)
            if inner is not None:
                stack.append(inner)
        found.append(_Needs(tuple(classes), tuple(ids), tuple(class_parts), tuple(id_parts)))
    return tuple(found)


def select(
    tree: lxml.html.HtmlElement, selector: str, present: Present | None = None
) -> list[lxml.html.HtmlElement]:
    """Elements matching a CSS selector, in document order. With ``present`` (read from
    ``tree``'s document), a selector that cannot match is not run."""
    if present is not None and not present.may_match(selector):
        return []
    found = compiled(selector)(tree)
    return [el for el in found if isinstance(el, lxml.html.HtmlElement)]


def first(
    tree: lxml.html.HtmlElement,
    selectors: Iterable[str],
    exclude: set[lxml.html.HtmlElement] | None = None,
    present: Present | None = None,
) -> lxml.html.HtmlElement | None:
    """The first element with text matched by the first selector that matches any."""
    for selector in selectors:
        for el in select(tree, selector, present):
            if (exclude is None or el not in exclude) and element_text(el):
                return el
    return None


def generic_h1(tree: lxml.html.HtmlElement, page: PageMeta) -> lxml.html.HtmlElement | None:
    """The ``<h1>`` the ``<title>``/og:title starts with, if it reads like a headline.

    Not a logo, a box heading or a featured story on a home page (the ``<title>`` does not
    start with those), and not a section name: "Kinh doanh", "Chính sách mới" start the
    ``<title>`` of a section page, but a Vietnamese headline has more than three words.
    """
    titles = [fold(t) for t in (page.page_title, page.og_title) if t]
    for h in tree.iter("h1"):
        text = element_text(h)
        if len(text.split()) < _HEADLINE_WORDS:
            continue
        if any(t.startswith(fold(text)) for t in titles):
            return h
    return None


def headline(title_el: lxml.html.HtmlElement | None, page: PageMeta) -> str:
    """The headline element's text, else og:title or ``<title>`` without the site's name."""
    if title_el is not None:
        return nfc(element_text(title_el))
    return nfc(_strip_site(page.og_title or page.page_title, page.site_hints))


def _strip_site(title: str, hints: tuple[str, ...]) -> str:
    """ "Headline - Báo VnExpress Kinh doanh" -> "Headline": trailing segments that name the
    site, or are a single word (a section: "- Ảnh"), are cut off."""
    cuts = list(_TITLE_SEPARATOR.finditer(title))
    end = len(title)
    while cuts:
        last = cuts.pop()
        segment = fold(title[last.end() : end])
        named = any(h in segment for h in hints) or any(w in segment for w in _SITE_WORDS)
        if not named and len(title[last.end() : end].split()) > 1:
            break
        end = last.start()
    return title[:end].strip()


def visible_date(
    tree: lxml.html.HtmlElement,
    title_el: lxml.html.HtmlElement | None,
    present: Present | None = None,
) -> VisibleDate | None:
    """The date line nearest to the headline, in document order."""
    candidates: list[tuple[lxml.html.HtmlElement, VisibleDate]] = []
    for selector in DATE_SELECTORS:
        for el in select(tree, selector, present):
            found = _date_of(el)
            if found is not None:
                candidates.append((el, found))
    if len(candidates) <= 1:
        return candidates[0][1] if candidates else None
    order = {el: i for i, el in enumerate(tree.iter())}
    anchor = order.get(title_el, 0) if title_el is not None else 0
    best: tuple[int, VisibleDate] | None = None
    for el, found in candidates:
        distance = abs(order.get(el, 0) - anchor)
        if best is None or distance < best[0]:
            best = (distance, found)
    return best[1] if best else None


def _date_of(el: lxml.html.HtmlElement) -> VisibleDate | None:
    text = element_text(el)
    if not text or len(text) > 120:
        return None
    found = parse_visible(text)
    parent = el.getparent()
    if found is not None and not found.has_time and parent is not None:
        # Ngôi Sao 2012 prints "08:00 | 20/12/2012" with the time in a sibling element.
        around = element_text(parent)
        if len(around) <= 120:
            found = parse_visible(around) or found
    return found


def clean_author(raw: str | None, page: PageMeta) -> str | None:
    """trafilatura's author minus what is the site itself ("Baochinhphu Vn", "VCCorp vn")."""
    if not raw:
        return None
    names = []
    for name in raw.split(";"):
        folded = fold(name)
        if not folded or any(h in folded for h in page.site_hints):
            continue
        if any(w in folded for w in (*_SITE_WORDS, "vccorp", "seo", "trafficteam")):
            continue
        if folded.endswith("vn") or (folded.startswith("bao") and len(name.split()) == 1):
            continue
        # "Theo Hồ Hương" (CafeF): "according to" is not part of the name.
        names.append(nfc(re.sub(r"^(?:theo|tác giả)\s*:?\s+", "", name.strip(), flags=re.I)))
    return "; ".join(names) or None


def _squash(value: str) -> str:
    return " ".join(value.split())


def nfc(value: str) -> str:
    """Whitespace squashed and NFC-composed (pages mix composed and decomposed letters)."""
    return unicodedata.normalize("NFC", _squash(value))
