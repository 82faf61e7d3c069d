"""The lead ("sapo", standfirst): the paragraph between the headline and the body.

Known CMSs mark it (:data:`pipelines.clean.sites.SAPO_SELECTORS`); a source can name its own
(``lead:`` in ``sources.yaml``). On markup neither knows — Tuổi trẻ Thủ đô, Kinh tế & Đô thị,
Lao Động and Nhân Dân go through this path, and their lead is often the only place an
official's full title and name appear together — it is recognised:

1. by a hook word in a class or id (:data:`pipelines.clean.sites.LEAD_HOOKS`), whatever the
   element (``h2``, ``p``, ``div``, ``strong``), when nothing but short lines (a date, a
   byline) stands between it and the headline;
2. else by position: the first sentence-like block after the headline, when it stands
   outside the body container, when it is a heading or bold block (``h2``, ``h3``,
   ``strong``, ``b``) on a page with no known container, or when the page's
   ``og:description``/``description`` meta opens with its words (the meta is the lead,
   often cut short).

Neither takes a block that repeats the headline, nor a related-article teaser (a short text
beside a link to another article, in a list or a box of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import lxml.html

from pipelines.clean.pagemeta import Present, first, nfc
from pipelines.clean.sites import LEAD_HOOKS, SAPO_SELECTORS
from pipelines.clean.textblocks import element_text, fold

__all__ = ["find_lead", "has_hook", "lead_text", "with_lead"]

#: Shorter than this is a label or a date line, longer is the body in one block.
MIN_LEAD_CHARS = 40
MAX_LEAD_CHARS = 1500
#: A block this long between the headline and a candidate is body text: the lead is past.
_BODY_PARAGRAPH = 120
#: Folded characters of the description that must open the candidate.
_DESCRIPTION_PREFIX = 40
_MIN_WORDS = 8
#: Elements after the headline looked at, at most (a lead sits right under it).
_MAX_SCAN = 400
_HELD_PREFIX = 60
_ANYWHERE = frozenset({"sapo", "standfirst", "chapeau", "caption", "chuthich", "chu-thich"})
_SET_APART = ("h2", "h3", "strong", "b")
_BLOCKS = ("h2", "h3", "p", "div", "strong", "b", "em", "span", "section")
_SENTENCE_END = re.compile(r"[.!?…:;\"”’)\]]$")


def has_hook(value: str, words: Sequence[str]) -> bool:
    """True when one of ``words`` stands on its own in a class or id: ``post-sapo``,
    ``sapo_detail``, ``articleLead`` and ``LeadText`` do, ``leaderboard`` and
    ``misleading`` do not. Words no other word contains (``sapo``, ``caption`` …) count
    anywhere: ``boxsapo``, ``imgcaption``."""
    lowered = value.lower()
    for word in words:
        start = lowered.find(word)
        if start >= 0 and word in _ANYWHERE:
            return True
        while start >= 0:
            end = start + len(word)
            before_ok = start == 0 or not value[start - 1].islower() or not value[start].islower()
            after_ok = end == len(value) or not value[end].islower() or not value[end - 1].islower()
            if before_ok and after_ok:
                return True
            start = lowered.find(word, start + 1)
    return False


def find_lead(
    tree: lxml.html.HtmlElement,
    *,
    title_el: lxml.html.HtmlElement | None,
    body: lxml.html.HtmlElement | None,
    drops: set[lxml.html.HtmlElement],
    present: Present,
    title: str,
    description: str,
    site: Sequence[str] = (),
) -> lxml.html.HtmlElement | None:
    """The lead element: the source's ``lead:`` selectors, then the known CMS hooks, then
    the generic rules of this module's docstring."""
    found = first(tree, site, exclude=drops, present=present) if site else None
    if found is None:
        found = first(tree, SAPO_SELECTORS, exclude=drops, present=present)
    if found is None and title_el is not None:
        found = _generic(title_el, body, drops, title, description)
    return found


def _generic(
    title_el: lxml.html.HtmlElement,
    body: lxml.html.HtmlElement | None,
    drops: set[lxml.html.HtmlElement],
    title: str,
    description: str,
) -> lxml.html.HtmlElement | None:
    folded_title = fold(title)
    folded_description = fold(description)[:_DESCRIPTION_PREFIX]
    if len(folded_description) < _DESCRIPTION_PREFIX // 2:
        folded_description = ""
    by_position: lxml.html.HtmlElement | None = None
    skip: lxml.html.HtmlElement = title_el  # a subtree already judged
    for seen, el in _after(title_el):
        if seen > _MAX_SCAN:
            break  # far from the headline: whatever comes now is not its lead
        if _is_within(el, skip):
            continue
        if el in drops or el is body:
            if el in drops:
                skip = el
            continue
        hooked = has_hook(f"{el.get('class', '')} {el.get('id', '')}", LEAD_HOOKS)
        if not hooked and (
            el.tag not in _BLOCKS or (el.tag in ("div", "section") and not (el.text or "").strip())
        ):
            continue  # not a block that can be a lead, or a wrapper: its blocks are judged
        text = element_text(el)
        if not text:
            continue
        if body is not None and _holds(el, body):
            continue  # a wrapper of the body: look inside it
        candidate = _acceptable(el, text, folded_title, title_el)
        if hooked and candidate:
            return el
        if candidate and by_position is None and _stands_alone(el, text):
            inside_body = body is not None and _is_within(el, body)
            opens = bool(folded_description) and fold(text).startswith(folded_description)
            # With no body container, a heading or bold block right under the headline is
            # set apart from the paragraphs that follow: the standfirst (trafilatura drops
            # it as a heading when it sits in the headline's box).
            standfirst = body is None and el.tag in _SET_APART
            if opens or standfirst or (body is not None and not inside_body):
                by_position = skip = el
                continue
        if el.tag == "p" and len(text) >= _BODY_PARAGRAPH:
            # The body has begun: a hook further down is a teaser or a box, not the lead.
            return by_position
    return by_position


def _after(title_el: lxml.html.HtmlElement) -> Iterator[tuple[int, lxml.html.HtmlElement]]:
    """The elements that follow the headline in document order (not those inside it),
    numbered."""
    seen = 0
    for el in title_el.xpath("following::*"):
        if isinstance(el, lxml.html.HtmlElement):
            seen += 1
            yield seen, el


def _acceptable(
    el: lxml.html.HtmlElement, text: str, folded_title: str, title_el: lxml.html.HtmlElement
) -> bool:
    """Sentence-like, not the headline again, not a teaser or a link."""
    if not (MIN_LEAD_CHARS <= len(text) <= MAX_LEAD_CHARS) or len(text.split()) < _MIN_WORDS:
        return False
    if sum(1 for p in el.iter("p") if element_text(p)) > 1:
        return False  # a lead is one paragraph; this holds the body
    folded = fold(text)
    if folded_title and (folded in folded_title or folded_title.startswith(folded[:60])):
        return False
    return not _is_teaser(el, text, title_el)


def _stands_alone(el: lxml.html.HtmlElement, text: str) -> bool:
    """A whole block that reads as a sentence: an inline element only when it is all of
    its parent's text (``<p><strong>TTTĐ - …</strong></p>``)."""
    if not _SENTENCE_END.search(text) and not text.endswith(("...", "…")):
        return False
    if el.tag in ("strong", "b", "em", "span"):
        parent = el.getparent()
        return parent is not None and element_text(parent) == text
    if el.tag == "div":
        # A div that only wraps other blocks is judged by its first block.
        return bool(el.text and el.text.strip())
    return True


def _is_teaser(el: lxml.html.HtmlElement, text: str, title_el: lxml.html.HtmlElement) -> bool:
    """A related-article teaser: inside a link or a list item, mostly links, or in a small
    box that also holds a link to another article (its headline). A box that holds the
    article's own headline is the article's header, not a teaser's box."""
    for a in el.iterancestors():
        if a.tag in ("a", "li"):
            return True
    linked = sum(len(element_text(a)) for a in el.iter("a"))
    if linked >= 0.5 * len(text):
        return True
    box = el.getparent()
    for _ in range(2):
        if box is None or _holds(box, title_el):
            break
        box_text = element_text(box)
        if len(box_text) > 3 * len(text) + 300:
            break
        for a in box.iter("a"):
            if not _is_within(a, el) and len(element_text(a)) >= 15 and a.get("href"):
                return True
        box = box.getparent()
    return False


def _holds(el: lxml.html.HtmlElement, other: lxml.html.HtmlElement) -> bool:
    return any(a is el for a in other.iterancestors())


def _is_within(el: lxml.html.HtmlElement, container: lxml.html.HtmlElement) -> bool:
    return el is container or any(a is container for a in el.iterancestors())


def with_lead(lead: str, paragraphs: list[str]) -> list[str]:
    """The lead first, once: not added when the first paragraphs already hold it (whole,
    or split over lines), and its later copy removed when it appears as a paragraph."""
    key = fold(lead)
    if not key:
        return paragraphs
    folded = [fold(p) for p in paragraphs[:5]]
    # Already there when the body holds it inside a paragraph, split over several, or
    # with a ">> other headline" pointer the lead's one-line text still carries.
    if key not in folded and key[:_HELD_PREFIX] in "".join(folded):
        return paragraphs
    return [lead, *(p for p in paragraphs if fold(p) != key)]


def lead_text(el: lxml.html.HtmlElement | None) -> str:
    """The lead as one paragraph, outlet tag ("TTTĐ -", "(HNM) -") kept as written."""
    return nfc(element_text(el)) if el is not None else ""
