"""The selector pre-check (:class:`pipelines.clean.pagemeta.Present`): skipping a selector the page
cannot match must never change what the cleaner selects."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from pipelines.clean.pagemeta import Present, select
from pipelines.clean.sites import (
    BODY_SELECTORS,
    CAPTION_SELECTORS,
    DATE_SELECTORS,
    DEFAULT_DROP,
    SAPO_SELECTORS,
    TITLE_SELECTORS,
)

KNOWN = (
    *TITLE_SELECTORS,
    *SAPO_SELECTORS,
    *BODY_SELECTORS,
    *DATE_SELECTORS,
    *DEFAULT_DROP,
    *CAPTION_SELECTORS,
)

PAGE = """<html><body>
<div class="wrap\tmain-col" id="page">
  <h1 class="title-detail">Tiêu đề</h1>
  <div class="box share-bar">Chia sẻ</div>
  <div id="article-end"></div><p class="after">sau</p>
  <span class="Date">Thứ bảy, 7/3/2026</span>
  <div><meta itemprop="datePublished" content="2026-03-07"></div>
  <a class="x y">liên kết</a>
</div></body></html>"""


def _tree(markup: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(markup)


@pytest.mark.parametrize(
    ("selector", "count"),
    [
        (".main-col", 1),  # a tab separates class tokens too
        ("div.wrap.main-col", 1),
        (".wrap.missing", 0),
        ("#page .title-detail", 1),
        ("#nope .title-detail", 0),
        ("#article-end ~ *", 4),
        ("[class*=share]", 1),
        ("[class*=hare-b]", 1),  # a substring of a class value, not a token
        ("[class*=Share]", 0),  # values are case-sensitive
        ("[class*=date]", 0),
        ("[class*=Date]", 1),
        ("[id*=age]", 1),
        (":has(> meta[itemprop=datePublished])", 1),
        ("a:not(.missing)", 1),
        ("a:not(.x)", 0),
        ("h2.missing, a.y", 1),  # a comma list matches when any part can
        ("span, .missing", 1),
    ],
)
def test_pre_check_agrees_with_the_selector(selector: str, count: int) -> None:
    tree = _tree(PAGE)
    present = Present.of(tree)
    assert len(select(tree, selector)) == count
    assert len(select(tree, selector, present)) == count
    assert present.may_match(selector) or count == 0


def test_a_page_without_the_hook_skips_the_selector() -> None:
    present = Present.of(_tree(PAGE))
    assert not present.may_match("article.fck_detail")
    assert not present.may_match("#objectPopupBody")
    assert present.may_match("script")  # a bare tag name is always run


def test_every_known_selector_selects_the_same_on_every_saved_page(fixtures_dir: Path) -> None:
    pages = sorted((fixtures_dir / "html").rglob("*.htm*"))
    assert pages
    skipped = 0
    for path in pages:
        tree = _tree(path.read_bytes().decode("utf-8", "replace"))
        present = Present.of(tree)
        for selector in KNOWN:
            expected = select(tree, selector)
            assert select(tree, selector, present) == expected, (path.name, selector)
            skipped += not present.may_match(selector)
    # The point of the check: most selectors are other CMSs' hooks.
    assert skipped > len(pages) * len(KNOWN) // 2
