"""Text of HTML elements and of trafilatura's output tree, as the cleaner wants it.

trafilatura's own text output separates paragraphs *and* line breaks with a single newline;
newswatch's contract is a blank line between paragraphs and a single newline only for a soft
line break, so the paragraphs are rebuilt here from trafilatura's XML tree (``<p>``,
``<head>``, ``<list>/<item>``, ``<quote>``, ``<table>/<row>/<cell>``, ``<lb/>``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import lxml.html
from lxml import etree

from pipelines.clean.sites import RELATED_LABELS, TRAILER_LINES

__all__ = [
    "clean_paragraphs",
    "drop_link_lists",
    "drop_link_paragraphs",
    "drop_related_labels",
    "element_text",
    "fold",
    "paragraphise",
]

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b\u2009\u202f]+")
_BLOCKS_WITH_ROWS = {"list", "table"}
_DATE_LINE = re.compile(
    r"(?:(?:Thứ\s+\w+|Chủ\s+nhật)\s*,?\s*)?[\d/.:\-,|()\s]+(?:[AaPp][Mm])?\s*(?:\(?GMT\s*[+-]\s*\d+\)?)?",
    re.IGNORECASE,
)
_HAS_DATE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}")
_POINTER = re.compile(r"\s*(?:>>|»)")
_GLUE_AFTER = frozenset(":;,.!?")
_LINK_DENSE = 0.5
_LINK_LIST = 0.7
_LINK_ONLY = 0.9
# An article URL as Vietnamese sites write them: a slug ending in a numeric id, an .htm(l)
# or .chn page.
_ARTICLE_LINK = re.compile(
    r"(?:\d{4,}|\.html?|\.chn|\.aspx)/?$"
)  # share of a box's text inside links for the box to count as a link list


def fold(value: str) -> str:
    """Lower-case ASCII with no spaces: "Báo Dân trí" -> "baodantri" (for comparisons)."""
    stripped = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return _NOT_ALNUM.sub("", stripped.encode("ascii", "ignore").decode("ascii").lower())


def element_text(el: lxml.html.HtmlElement) -> str:
    """The visible text of ``el`` on one line. ``<br>`` counts as a space, and so does an
    element boundary right after punctuation: Hà Nội Mới splits its headline into two
    block spans, "Phường Hai Bà Trưng:" + "Mong sớm…", with no space between them."""
    parts: list[str] = []
    for node in el.iter():
        if node is not el and node.tag == "br":
            parts.append(" ")
        if node.text and node.tag not in ("script", "style") and isinstance(node.tag, str):
            _append(parts, node.text)
        if node is not el and node.tail:
            _append(parts, node.tail)
    return " ".join("".join(parts).split())


def _append(parts: list[str], text: str) -> None:
    if parts and parts[-1][-1:] in _GLUE_AFTER and text[:1].isalnum():
        parts.append(" ")
    parts.append(text)


def _inline(el: etree._Element) -> list[str]:
    """Paragraphs of one block: ``<lb/>`` is a newline, spaces are squashed."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.tag == "lb":
            parts.append("\n")
        elif node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n")]
    # An empty line (two <br> in a row) separates paragraphs: 2012 pages write whole
    # articles as one block of "<br><br>"-separated paragraphs.
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [joined for joined in ("\n".join(p) for p in paragraphs) if joined]


def _blocks(body: etree._Element) -> Iterator[str]:
    for child in body:
        if child.tag == "list":
            for item in child.iter("item"):
                yield from _inline(item)
        elif child.tag == "table":
            for row in child.iter("row"):
                cells = (" ".join(_inline(c)).replace("\n", " ") for c in row.iter("cell"))
                yield " | ".join(c for c in cells if c)
        elif child.tag == "graphic":
            continue
        else:
            yield from _inline(child)


def _label_rest(text: str) -> str | None:
    """What follows a related-links label opening ``text`` ("Xem thêm: ..." -> ": ..."),
    or None when ``text`` does not open with a label used as a label."""
    lead = text.lstrip(" >»-–•*").lower()
    for label in RELATED_LABELS:
        if lead.startswith(label.lower()):
            rest = lead[len(label) :].strip()
            if not rest or rest[:1] in (":", ">", "»", "…") or rest.startswith("..."):
                return rest
    return None


def _is_related_line(paragraph: str) -> bool:
    return len(paragraph) <= 300 and _label_rest(paragraph) is not None


def _is_date_line(paragraph: str) -> bool:
    """A dateline printed as its own paragraph: "Thứ Tư, 26/12/2012 17:14"."""
    return (
        len(paragraph) <= 60
        and _HAS_DATE.search(paragraph) is not None
        and _DATE_LINE.fullmatch(paragraph.strip()) is not None
    )


def _without_pointer_lines(block: str) -> str:
    """Drop ">> Other headline" lines: Dân trí, VnExpress and Ngôi Sao put links to other
    articles, marked with ">>", inside the sapo and between paragraphs."""
    lines = block.split("\n")
    return "\n".join(line for line in lines if not _POINTER.match(line))


def clean_paragraphs(body: etree._Element, *, title: str = "") -> list[str]:
    """Paragraphs of trafilatura's output tree, without the headline repeated, exact
    repeats (a caption or a sapo printed twice), site chrome lines and "Xem thêm:" lines."""
    seen: set[str] = set()
    trailers = {fold(t) for t in TRAILER_LINES}
    folded_title = fold(title)
    kept: list[str] = []
    for raw in _blocks(body):
        block = _without_pointer_lines(unicodedata.normalize("NFC", raw))
        key = fold(block)
        if not key or key in seen or key in trailers or (folded_title and key == folded_title):
            continue
        if _is_related_line(block) or _is_date_line(block):
            continue
        seen.add(key)
        kept.append(block)
    return kept


def drop_related_labels(root: lxml.html.HtmlElement, keep: list[lxml.html.HtmlElement]) -> None:
    """Remove "Tin liên quan" / "Xem thêm" labels, and their box when it is a list of links
    (inline related boxes that no CMS class marks)."""
    protected: set[lxml.html.HtmlElement] = set()
    for el in keep:
        protected.update(el.iterancestors())
    doomed: list[lxml.html.HtmlElement] = []
    for el in root.iter():
        if not isinstance(el, lxml.html.HtmlElement) or el in protected:
            continue
        if not el.text or _label_rest(el.text.strip()) is None:
            continue
        if len(element_text(el)) > 200:
            continue
        box = el.getparent()
        if box is not None and box not in protected and _link_density(box) >= _LINK_DENSE:
            doomed.append(box)
        else:
            doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()


_INLINE = frozenset(
    {"a", "b", "strong", "i", "em", "u", "span", "font", "br", "sup", "sub", "small", "big"}
)


def paragraphise(root: lxml.html.HtmlElement) -> None:
    """Wrap text written straight into a ``<div>`` (2012 CMSs: ``<DIV>Cụ thể, …</DIV>``)
    in a ``<p>``: trafilatura keeps paragraphs but can drop such loose text."""
    for div in list(root.iter("div")):
        if not (div.text and div.text.strip()):
            continue
        para = lxml.html.Element("p")
        para.text, div.text = div.text, None
        for child in list(div):
            if not isinstance(child.tag, str) or child.tag not in _INLINE:
                break
            para.append(child)  # moves the child (and its tail) into the paragraph
        div.insert(0, para)


def drop_link_lists(root: lxml.html.HtmlElement) -> None:
    """Remove lists whose items are nothing but links: "other news" lists that no CMS class
    marks (GenK 2012 ends its articles with one, each title followed by its date)."""
    for ul in list(root.iter("ul", "ol")):
        items = [li for li in ul if li.tag == "li"]
        if len(items) >= 3 and _link_density(ul) >= _LINK_LIST and ul.getparent() is not None:
            ul.drop_tree()


def drop_link_paragraphs(root: lxml.html.HtmlElement) -> None:
    """Remove paragraphs and small headings that are one link to another article: related
    headlines run into the body (Tuổi trẻ Thủ đô; VnExpress 2012 ``h4 > a``)."""
    for el in list(root.iter("p", "h2", "h3", "h4", "h5", "h6")):
        links = list(el.iter("a"))
        if len(links) != 1 or el.getparent() is None:
            continue
        href = (links[0].get("href") or "").split("?")[0].split("#")[0]
        text = element_text(el)
        if not (_ARTICLE_LINK.search(href) and 10 <= len(text) <= 200):
            continue
        if len(element_text(links[0])) >= _LINK_ONLY * len(text):
            el.drop_tree()


def _link_density(el: lxml.html.HtmlElement) -> float:
    total = len(element_text(el))
    if total == 0:
        return 0.0
    linked = sum(len(element_text(a)) for a in el.iter("a"))
    return linked / total
