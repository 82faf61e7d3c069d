"""Snippets around hits, and their HTML form with the hits highlighted (email alerts)."""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["CAPTION_MARK", "highlight_html", "make_snippet"]

SNIPPET_WIDTH = 200
#: Opens the snippet of a hit in a photo caption: an alert whose only hit is there says so
#: (the reader will not find the name in the article's sentences, only under a photo).
CAPTION_MARK = "[Chú thích ảnh / photo caption] "


def make_snippet(text: str, start: int, end: int, width: int = SNIPPET_WIDTH) -> str:
    """About ``width`` characters of the hit's paragraph around ``text[start:end]``.

    Cut at spaces so no word is broken; ``…`` marks a cut. A snippet never reaches into
    another paragraph (the title is a paragraph of its own).
    """
    size = len(text)
    room = max(0, width - (end - start))
    left = max(0, start - room // 2)
    right = min(size, end + room - (start - left))
    left = max(0, start - (room - (right - end)))  # give unused room on the right to the left
    # Searching only inside the window keeps this cheap on long paragraphs.
    newline = text.rfind("\n", left, start)
    if newline >= 0:
        left = newline + 1
    newline = text.find("\n", end, right)
    if newline >= 0:
        right = newline
    cut_left = left > 0 and text[left - 1] != "\n"
    cut_right = right < size and text[right] != "\n"
    if cut_left:
        space = text.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    if cut_right:
        space = text.rfind(" ", end, right + 1)
        right = space if space >= 0 else right
    body = text[left:right].strip()
    return f"{'…' if cut_left else ''}{body}{'…' if cut_right else ''}"


def highlight_html(snippet: str, hit_texts: Sequence[str]) -> str:
    """``snippet`` HTML-escaped, with every whole-word occurrence of a hit text in ``<b>``."""
    spans: list[tuple[int, int]] = []
    for needle in sorted({t for t in hit_texts if t}, key=len, reverse=True):
        pos = snippet.find(needle)
        while pos >= 0:
            end = pos + len(needle)
            if _whole(snippet, pos, end) and not any(s < end and pos < e for s, e in spans):
                spans.append((pos, end))
            pos = snippet.find(needle, pos + 1)
    out: list[str] = []
    last = 0
    for start, end in sorted(spans):
        out.append(html.escape(snippet[last:start]))
        out.append(f"<b>{html.escape(snippet[start:end])}</b>")
        last = end
    out.append(html.escape(snippet[last:]))
    return "".join(out)


def _whole(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()
