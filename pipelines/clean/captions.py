"""Photo captions: found before pruning, kept apart from the text, once each, in reading order.

A caption often names a person the body calls only "đồng chí", or the place a photo was
taken; it is matched like the text, but it is not glued into the body's sentences (a
caption between two paragraphs would otherwise run into one of them), and the cleaner's
eval gate keeps it out of the text. Where captions are found, in this order of trust:

1. the source's ``captions:`` selectors (``sources.yaml``);
2. the caption markup of known CMSs (:data:`pipelines.clean.sites.CAPTION_SELECTORS`:
   ``figcaption``, ``.PhotoCMS_Caption``, ``p.Image`` …);
3. an element with a caption word in its class (:data:`pipelines.clean.sites.CAPTION_HOOKS`)
   next to an image: ``<img><p class="image-caption">``;
4. a table laid out as a photo: one row with an image, the caption in another row;
5. the ``alt`` (or ``title``) of a ``<figure>``'s image, when the figure has no caption.

Sites print a caption twice — the image's alt text and the caption under it, or the caption
and an italic paragraph repeating it: each caption is kept once, and not at all when the
body already has it as a paragraph of its own. Images inside links are thumbnails of other
articles, and captions inside related boxes belong to other articles: neither is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import lxml.html

from pipelines.clean.lead import has_hook
from pipelines.clean.pagemeta import nfc
from pipelines.clean.sites import CAPTION_HOOKS
from pipelines.clean.textblocks import element_text, fold

__all__ = ["Captions", "article_scope", "find_captions"]

#: Longer than this is not a caption (a box of text, or a whole gallery's story).
MAX_CAPTION_CHARS = 600
_MIN_WORDS = 3
_MAX_TABLE_CHARS = 700
_SCOPE_PARAGRAPH = 80
_STORY_SHARE = 0.5
# "IMG_2031.jpg", "anh-1", "photo 3": an alt text that names a file, not a scene.
_FILE_NAME = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)\b|^[\w-]*\d[\w-]*$|^[a-z0-9_-]+$", re.I)


class Captions:
    """The captions of one page, in reading order, and the elements they came from (which
    the cleaner then removes from the text)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.elements: list[lxml.html.HtmlElement] = []
        self._keys: set[str] = set()

    def add(self, el: lxml.html.HtmlElement, text: str, *, remove: bool = True) -> None:
        key = fold(text)
        if remove:
            self.elements.append(el)  # even when too short to keep: "Ảnh: TTXVN"
        if key and key not in self._keys:
            self._keys.add(key)
            self.texts.append(text)

    def tell_the_story(self, scope: lxml.html.HtmlElement | None) -> bool:
        """True on a photo story (a gallery page, 2012 Ngôi Sao): when the captions hold
        most of the article's words, they are its text, not notes beside it."""
        if scope is None or not self.texts:
            return False
        return sum(len(t) for t in self.texts) >= _STORY_SHARE * len(element_text(scope))

    def apart(self, paragraphs: list[str], *, keep: str = "") -> tuple[list[str], tuple[str, ...]]:
        """The text's paragraphs without the captions' second prints, and the captions.

        A paragraph that repeats a caption word for word (sites print the caption again
        as an italic paragraph under the photo) stays a caption, once; ``keep`` (the lead)
        always stays in the text."""
        kept_key = fold(keep)
        text = [p for p in paragraphs if (k := fold(p)) == kept_key or k not in self._keys]
        in_text = {fold(p) for p in text}
        return text, tuple(t for t in self.texts if fold(t) not in in_text)


def article_scope(
    title_el: lxml.html.HtmlElement | None, body: lxml.html.HtmlElement | None
) -> lxml.html.HtmlElement | None:
    """Where the article's captions are: the body container, else the smallest block around
    the headline that holds paragraphs of text (not the page's sidebars and footers)."""
    if body is not None:
        return body
    if title_el is None:
        return None
    scope = title_el
    for scope in title_el.iterancestors():
        long = sum(1 for p in scope.iter("p") if len(element_text(p)) >= _SCOPE_PARAGRAPH)
        if long >= 2 or scope.tag == "body":
            return scope
    return scope


def find_captions(
    scope: lxml.html.HtmlElement | None,
    *,
    marked: Iterable[lxml.html.HtmlElement],
    drops: set[lxml.html.HtmlElement],
    title: str,
) -> Captions:
    """Captions inside ``scope`` (the body container, or the part of the page that holds
    the headline and the text); none without a scope. ``marked`` are the page's elements
    that caption selectors (the source's ``captions:``, then
    :data:`pipelines.clean.sites.CAPTION_SELECTORS`) match; ``drops`` are the boxes removed
    before extraction: captions inside them are not the article's."""
    found = Captions()
    if scope is None:
        return found
    folded_title = fold(title)
    taken: list[tuple[int, lxml.html.HtmlElement, str, bool]] = []
    order = {el: i for i, el in enumerate(scope.iter())}
    seen: set[lxml.html.HtmlElement] = set()
    for el, text, remove in _candidates(scope, marked):
        if el in seen or el not in order or _unwanted(el, scope, drops):
            continue
        seen.add(el)
        if folded_title and folded_title in fold(text):
            # The headline under a photo ("<headline>- Ảnh 1." in alt texts) is no
            # caption, but still not text.
            text = ""
        taken.append((order[el], el, text, remove))
    taken.sort(key=lambda t: t[0])
    kept: list[lxml.html.HtmlElement] = []
    for _, el, text, remove in taken:
        if any(a in kept for a in el.iterancestors()):
            continue  # inside a caption already kept
        kept.append(el)
        found.add(el, text, remove=remove)
    return found


def _candidates(
    scope: lxml.html.HtmlElement, marked: Iterable[lxml.html.HtmlElement]
) -> Iterator[tuple[lxml.html.HtmlElement, str, bool]]:
    """(element, caption text, whether to remove the element from the text)."""
    for el in marked:
        yield el, _caption_text(el), True
    for el in scope.iter():
        if not isinstance(el, lxml.html.HtmlElement):
            continue
        if el.tag == "table":
            yield from _table_caption(el)
        elif el.tag == "figure":
            alt = _figure_alt(el)
            if alt:
                yield el, alt, False
        elif el.get("class") and has_hook(el.get("class", ""), CAPTION_HOOKS) and _by_image(el):
            text = _caption_text(el)
            if text:  # a "has-caption" wrapper of a whole story is not removed for its name
                yield el, text, True


def _caption_text(el: lxml.html.HtmlElement) -> str:
    text = nfc(element_text(el))
    if len(text) > MAX_CAPTION_CHARS or len(text.split()) < _MIN_WORDS:
        return ""
    return text


def _unwanted(
    el: lxml.html.HtmlElement, scope: lxml.html.HtmlElement, drops: set[lxml.html.HtmlElement]
) -> bool:
    """Inside a removed box (related articles, the reading popup) or inside a link."""
    for a in el.iterancestors():
        if a is scope:
            return False
        if a in drops or a.tag == "a":
            return True
    return False


def _by_image(el: lxml.html.HtmlElement) -> bool:
    """An image in the element, right before it, or in its parent (the photo's box)."""
    if el.find(".//img") is not None:
        return True
    previous = el.getprevious()
    if previous is not None and (previous.tag == "img" or previous.find(".//img") is not None):
        return True
    parent = el.getparent()
    return (
        parent is not None
        and len(element_text(parent)) <= 2 * MAX_CAPTION_CHARS
        and any(True for _ in parent.iter("img"))
    )


def _table_caption(
    table: lxml.html.HtmlElement,
) -> Iterator[tuple[lxml.html.HtmlElement, str, bool]]:
    """Old CMSs lay a photo out as a table: the image in one row, the caption below."""
    images = list(table.iter("img"))
    if len(images) != 1 or len(element_text(table)) > _MAX_TABLE_CHARS:
        return
    for cell in table.iter("td", "th"):
        if cell.find(".//img") is None and cell.find(".//td") is None:
            text = _caption_text(cell)
            if text:
                yield cell, text, True


def _figure_alt(figure: lxml.html.HtmlElement) -> str:
    """The figure's image described by its ``alt``/``title``, when nothing captions it."""
    if element_text(figure):
        return ""  # the figure has a caption of its own (found by the selectors)
    for img in figure.iter("img"):
        for attr in ("alt", "title"):
            value = nfc(img.get(attr) or "")
            if value and not _FILE_NAME.search(value) and len(value.split()) >= _MIN_WORDS:
                return value[:MAX_CAPTION_CHARS]
    return ""
