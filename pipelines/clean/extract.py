"""A downloaded article page -> headline, publication time, clean text and photo captions.

Steps: decode the bytes (:mod:`pipelines.clean.encoding`), parse with lxml, read the headline and
the visible date line, find the CMS's body container (:mod:`pipelines.clean.sites`), set the
photo captions apart (:mod:`pipelines.clean.captions`), find the lead
(:mod:`pipelines.clean.lead`), drop boilerplate (generic defaults + the source's ``drop:``
selectors), then let trafilatura extract the text of the body container — or of the whole
pruned page when no known container is found — with the lead put first, and the structured
metadata (JSON-LD, meta tags) of the whole page as it was before pruning.

trafilatura is called with ``include_comments=False`` (reader comments must not trigger
alerts), ``fast=True`` (no readability/jusText second opinion: the container is already
chosen, and the golden files show no page that needs it), ``deduplicate=False`` (its
duplicate filter depends on what the process extracted before) and ``url=`` (courlan
rejects ``127.0.0.1``, which only costs the hostname field, so local test servers work).
The publication date comes from htmldate with time and offset. Nothing here fetches
anything: it is only given markup.

:func:`extract` is a plain function of picklable arguments: the crawler runs it in a
``ProcessPoolExecutor``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from cssselect import SelectorError
from lxml import etree

from pipelines.clean.byline import byline_scope, find_author
from pipelines.clean.captions import Captions, article_scope, find_captions
from pipelines.clean.encoding import decode_html
from pipelines.clean.lead import find_lead, lead_text, with_lead
from pipelines.clean.pagemeta import (
    PageMeta,
    Present,
    clean_author,
    compiled,
    first,
    generic_h1,
    headline,
    nfc,
    select,
    visible_date,
)
from pipelines.clean.pubdate import reconcile
from pipelines.clean.sites import (
    BODY_SELECTORS,
    CAPTION_SELECTORS,
    DEFAULT_DROP,
    TITLE_SELECTORS,
)
from pipelines.clean.textblocks import (
    clean_paragraphs,
    drop_link_lists,
    drop_link_paragraphs,
    drop_related_labels,
    element_text,
    paragraphise,
)
from pipelines.errors import NewswatchError

__all__ = [
    "MAX_PAGE_BYTES",
    "CleanError",
    "Extracted",
    "check_selector",
    "decode_html",
    "extract",
    "extract_to_json",
]

MAX_PAGE_BYTES = 5 * 1024 * 1024
#: Below this many characters of text the page is not an article worth matching.
MIN_TEXT_CHARS = 200
#: A body container with less text than this is a placeholder (an empty popup, a teaser).
MIN_BODY_CHARS = 150

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# C0 controls other than tab/newline/CR make lxml refuse a str outright.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class CleanError(NewswatchError):
    """A page that cannot be processed at all (too large, not parseable)."""


@dataclass(frozen=True)
class Extracted:
    """What the cleaner keeps from one article page."""

    url: str
    canonical_url: str | None
    title: str
    published: datetime | None
    author: str | None
    text: str
    #: Photo captions in reading order, each once, none of them repeated in ``text``.
    captions: tuple[str, ...] = ()


def extract_to_json(e: Extracted) -> dict[str, Any]:
    """The ``newswatch extract --json`` shape; ``published`` is ISO 8601 with its offset."""
    return {
        "url": e.url,
        "title": e.title,
        "published": e.published.isoformat() if e.published else None,
        "author": e.author,
        "text": e.text,
        "captions": list(e.captions),
    }


def check_selector(selector: str) -> str | None:
    """None when ``selector`` is a CSS selector the cleaner can apply, else why not
    (for the configuration checker: a bad ``drop:``, ``lead:`` or ``captions:`` entry is a
    config error)."""
    try:
        compiled(selector)
    except SelectorError as exc:
        return f"invalid CSS selector {selector!r}: {exc}"
    return None


def extract(
    html: str | bytes,
    url: str,
    *,
    content_type: str | None = None,
    drop: Sequence[str] = (),
    lead: Sequence[str] = (),
    captions: Sequence[str] = (),
    max_bytes: int = MAX_PAGE_BYTES,
) -> Extracted | None:
    """Returns None when the page is not an article (no body text worth matching).

    Raises :class:`CleanError` with a clear message for pages that cannot be processed:
    larger than ``max_bytes`` (5 MB by default), not parseable, or an invalid selector.
    The selectors come per site from ``sources.yaml``: ``drop`` are removed before
    extraction, on top of :data:`pipelines.clean.sites.DEFAULT_DROP`; ``lead`` find the
    lead and ``captions`` the photo captions before the cleaner's own rules do.
    """
    for selector in (*drop, *lead, *captions):
        why = check_selector(selector)
        if why:
            raise CleanError(why)
    size = len(html) if isinstance(html, bytes) else len(html.encode("utf-8", "replace"))
    if size > max_bytes:
        raise CleanError(f"{url}: page too large to clean ({size} bytes > {max_bytes})")
    tree = _parse(decode_html(html, content_type) if isinstance(html, bytes) else html, url)
    page = PageMeta.read(tree, url)
    present = Present.of(tree)
    title_el = first(tree, TITLE_SELECTORS, present=present)
    if title_el is None:
        title_el = generic_h1(tree, page)
    drops = _drop_set(tree, (*DEFAULT_DROP, *drop), present)
    body = _find_body(tree, drops, present)
    if body is None and (title_el is None or urlsplit(url).path in ("", "/")):
        # No article container, and no headline or the site's root: a home, section or
        # search page (their "headline" is a section name or the featured story).
        return None
    # Read before pruning: JSON-LD, meta tags and date lines sit anywhere in the page.
    metadata = _metadata(tree, url)
    visible = visible_date(tree, title_el, present)
    title = headline(title_el, page) or nfc(metadata.title or _title(tree, url))
    marked = _drop_set(tree, (*captions, *CAPTION_SELECTORS), present)
    scope = article_scope(title_el, body)
    found = find_captions(scope, marked=marked, drops=drops, title=title)
    if found.tell_the_story(scope):
        found = Captions()  # a photo story: its captions are its text, where they stand
    drops.update(found.elements)
    # Captions outside the article's part of the page (a sidebar's photo) are not text either.
    drops.update(marked)
    lead_el = find_lead(
        tree,
        title_el=title_el,
        body=body,
        drops=drops,
        present=present,
        title=title,
        description=page.description,
        site=lead,
    )
    source = _prune(tree, drops, [el for el in (title_el, body, lead_el) if el is not None], body)
    paragraphs = _paragraphs(source, url, title, lead_text(lead_el))
    if paragraphs is None:
        return None
    # A paragraph repeating a caption is its second print ("<em>" under the photo).
    paragraphs, captions_found = found.apart(paragraphs, keep=lead_text(lead_el))
    return Extracted(
        url=url,
        canonical_url=page.canonical,
        title=title,
        published=reconcile(metadata.date, visible),
        author=clean_author(
            metadata.author or _author(byline_scope(title_el, body, tree), url), page
        ),
        text="\n\n".join(paragraphs),
        captions=captions_found,
    )


def _prune(
    tree: lxml.html.HtmlElement,
    drops: set[lxml.html.HtmlElement],
    keep: list[lxml.html.HtmlElement],
    body: lxml.html.HtmlElement | None,
) -> lxml.html.HtmlElement:
    """Remove boilerplate; returns the document to extract from: the body container alone
    when there is one, else the whole pruned page."""
    _remove(drops, keep)
    source = _focus(body) if body is not None else tree
    drop_related_labels(source, keep)
    drop_link_lists(source)
    drop_link_paragraphs(source)
    paragraphise(source)
    return source


def _paragraphs(source: lxml.html.HtmlElement, url: str, title: str, lead: str) -> list[str] | None:
    """Lead + body paragraphs; None when their text is too short."""
    document = _trafilatura(source, url)
    if document is None or document.body is None:
        return None
    # The lead is added here, not left to trafilatura: when the body container is marked
    # itemprop=articleBody, trafilatura keeps that element alone and drops its siblings,
    # and on unknown markup it drops a standfirst set as a heading.
    paragraphs = with_lead(lead, clean_paragraphs(document.body, title=title))
    return paragraphs if len("\n\n".join(paragraphs)) >= MIN_TEXT_CHARS else None


# -- parsing ---------------------------------------------------------------------------------


def _parse(text: str, url: str) -> lxml.html.HtmlElement:
    # lxml refuses a str that still carries an XML encoding declaration.
    cleaned = _CONTROL_CHARS.sub("", _XML_DECLARATION.sub("", text, count=1))
    if not cleaned.strip():
        raise CleanError(f"{url}: empty page")
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    try:
        tree = lxml.html.document_fromstring(cleaned, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise CleanError(f"{url}: not parseable as HTML ({exc})") from exc
    if tree is None or not isinstance(tree, lxml.html.HtmlElement):
        raise CleanError(f"{url}: not parseable as HTML")
    return tree


# -- pruning ---------------------------------------------------------------------------------


def _drop_set(
    tree: lxml.html.HtmlElement, selectors: Iterable[str], present: Present
) -> set[lxml.html.HtmlElement]:
    found: set[lxml.html.HtmlElement] = set()
    for selector in selectors:
        try:
            found.update(select(tree, selector, present))
        except SelectorError as exc:
            raise CleanError(f"invalid CSS selector {selector!r}: {exc}") from exc
    return found


def _find_body(
    tree: lxml.html.HtmlElement, drops: set[lxml.html.HtmlElement], present: Present
) -> lxml.html.HtmlElement | None:
    for selector in BODY_SELECTORS:
        for el in select(tree, selector, present):
            if el in drops or any(a in drops for a in el.iterancestors() if _is_popup(a)):
                continue
            if len(element_text(el)) >= MIN_BODY_CHARS:
                return el
    return None


def _is_popup(el: lxml.html.HtmlElement) -> bool:
    return bool(el.get("id") == "objectPopupBody")


def _remove(drops: set[lxml.html.HtmlElement], keep: list[lxml.html.HtmlElement]) -> None:
    """Remove the dropped elements, except those holding (or being) what we keep."""
    protected: set[lxml.html.HtmlElement] = set()
    for el in keep:
        protected.add(el)
        protected.update(el.iterancestors())
    for el in drops:
        if el in protected or el.getparent() is None:
            continue
        el.drop_tree()


def _focus(body: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """A new document holding only a copy of the body container, in an ``<article>``."""
    root = lxml.html.document_fromstring("<html><body><article></article></body></html>")
    root.body[0].append(_copy(body))
    return root


def _copy(el: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    copied = lxml.html.fromstring(lxml.html.tostring(el, encoding="unicode"))
    if not isinstance(copied, lxml.html.HtmlElement):  # pragma: no cover - lxml contract
        raise CleanError("could not copy an element")
    copied.tail = None
    return copied


# -- extraction ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Metadata:
    """The structured metadata the cleaner uses (trafilatura's Document has many more)."""

    title: str | None
    author: str | None
    date: str | None


def _metadata(tree: lxml.html.HtmlElement, url: str) -> _Metadata:
    """Meta tags, JSON-LD and htmldate's publication date of the whole, unpruned page (they
    sit anywhere in the body, not only in ``<head>``, and scripts are pruned later).

    The parts of trafilatura's ``extract_metadata`` the cleaner needs, not the whole: no
    site name, categories, tags or licence, and no author search over the page's markup —
    :func:`_author` runs that on the pruned page, where menus and sidebars are gone.
    """
    from htmldate import find_date
    from trafilatura.metadata import examine_meta, extract_meta_json

    with _guarded(url, "metadata extraction"):
        meta = examine_meta(tree)
        if meta.author and " " not in meta.author:
            meta.author = None  # a login name or a site handle, not a byline (as trafilatura)
        with contextlib.suppress(Exception):  # a malformed JSON-LD block: meta tags count
            meta = extract_meta_json(tree, meta)
        # find_date works on its own copy of the tree.
        date = find_date(tree, url=meta.url or url, outputformat=_DATE_FORMAT, original_date=True)
    return _Metadata(title=meta.title, author=meta.author, date=date)


def _author(tree: lxml.html.HtmlElement, url: str) -> str | None:
    with _guarded(url, "author extraction"):
        return find_author(tree)


def _title(tree: lxml.html.HtmlElement, url: str) -> str:
    from trafilatura.metadata import extract_title

    with _guarded(url, "title extraction"):
        return extract_title(tree) or ""


def _trafilatura(source: lxml.html.HtmlElement, url: str) -> Any:
    # Imported here so that importing this module stays cheap for the CLI's other commands.
    from trafilatura import bare_extraction

    with _guarded(url, "text extraction"):
        return bare_extraction(
            source,
            url=url,
            with_metadata=False,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            deduplicate=False,
            favor_recall=True,
            fast=True,
        )


@contextlib.contextmanager
def _guarded(url: str, step: str) -> Iterator[None]:
    """Untrusted markup reaches third-party parsers: whatever they trip on, the caller (a
    crawl of many pages) gets one clear error for this page, not a crash."""
    try:
        yield
    except RecursionError as exc:
        raise CleanError(f"{url}: page nested too deeply to clean") from exc
    except Exception as exc:
        raise CleanError(f"{url}: {step} failed ({exc!r})") from exc
