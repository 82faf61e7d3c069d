"""Who wrote it: the byline, searched for only where one can be and only when the page hints
at one (the search is regular expressions over every element, the cleaner's costliest step
on pages that have no byline at all)."""

from __future__ import annotations

import lxml.html
from lxml import etree

__all__ = ["byline_scope", "find_author", "may_have_byline"]


def find_author(tree: lxml.html.HtmlElement) -> str | None:
    """trafilatura's byline search (author classes, rel=author, …) over ``tree`` (the pruned
    page's :func:`byline_scope`), skipped when nothing on it hints at a byline."""
    from trafilatura.metadata import extract_author

    if not may_have_byline(tree):
        return None
    result: str | None = extract_author(tree)
    return result


# Every expression trafilatura's author search runs (trafilatura.xpaths.AUTHOR_XPATHS, 2.x)
# needs one of these in a class, id, itemprop, rel or data-* attribute, or an <author>
# element: a page without any has no byline to find, and the search (regular expressions
# over every element) is skipped. Lower-case substrings, so a superset of its tests.
_BYLINE_HINTS = (
    "author",
    "byl",
    "bbl",
    "username",
    "zuozhe",
    "bianji",
    "xiaobian",
    "channel-name",
    "submitted-by",
    "posted-by",
    "journalist-name",
    "screenname",
    "writer",
)
_BYLINE_ATTRIBUTES = etree.XPath(
    "descendant-or-self::*/@*[name()='class' or name()='id' or name()='itemprop' or "
    "name()='rel' or name()='data-testid' or name()='data-component']"
)


def may_have_byline(tree: lxml.html.HtmlElement) -> bool:
    values = "\0".join(str(v) for v in _BYLINE_ATTRIBUTES(tree)).lower()
    if any(hint in values for hint in _BYLINE_HINTS):
        return True
    return tree.find(".//author") is not None or tree.find(".//rel") is not None


def byline_scope(
    title_el: lxml.html.HtmlElement | None,
    body: lxml.html.HtmlElement | None,
    tree: lxml.html.HtmlElement,
) -> lxml.html.HtmlElement:
    """Where a byline is looked for: the smallest element holding both the headline and the
    body container (bylines sit between or right after them), not the sidebars and teaser
    boxes around; the whole pruned page when there is no container."""
    if body is None:
        return tree
    if title_el is None:
        return body
    above = set(title_el.iterancestors())
    return next((el for el in (body, *body.iterancestors()) if el in above), tree)
