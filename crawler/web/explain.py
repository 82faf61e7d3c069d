"""Why each watch matched an article or not, and the article's text cut into highlighted
pieces, for the article page and the watch tester.

A match is explained as ``newswatch match`` explains it (the matcher's reasons). A watch
that did not match is tried again without each of its restricting rules in turn (``not``,
``all``, ``near``, ``except_in``), so the page can say which one held it back, or that none
of its terms occurs. Text pieces are plain strings flagged as hit or not: the templates
escape them (never build HTML here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from pipelines.match.matcher import Hit, Matcher, WatchMatch
from pipelines.match.watch import Watch

__all__ = ["Piece", "Verdict", "explain_watches", "paragraphs", "title_length"]

#: (text, is_hit)
Piece = tuple[str, bool]


@dataclass(frozen=True)
class Verdict:
    """One watch against one text."""

    name: str
    label: str
    matched: bool
    reasons: tuple[str, ...]
    hits: tuple[Hit, ...] = ()


#: each restricting rule, and the watch without it
_LOOSEN: tuple[tuple[str, Callable[[Watch], Watch]], ...] = (
    ("not", lambda w: replace(w, not_terms=())),
    ("all", lambda w: replace(w, all_terms=())),
    ("near", lambda w: replace(w, near=None)),
    ("except_in", lambda w: replace(w, except_in=())),
)


def title_length(text: str) -> int:
    """Stored text is "title\\nbody": the title is its first line."""
    cut = text.find("\n")
    return len(text) if cut < 0 else cut


def explain_watches(watches: Sequence[Watch], text: str, title_len: int = 0) -> list[Verdict]:
    """A verdict for every watch, in configuration order (``text`` is canonical)."""
    found = {m.watch.name: m for m in Matcher.compile(watches).match(text, title_length=title_len)}
    return [
        _matched(found[w.name]) if w.name in found else _missed(w, text, title_len) for w in watches
    ]


def _matched(m: WatchMatch) -> Verdict:
    return Verdict(m.watch.name, m.watch.label, True, tuple(m.reasons), tuple(m.hits))


def _missed(watch: Watch, text: str, title_len: int) -> Verdict:
    bare = replace(watch, not_terms=(), all_terms=(), near=None, except_in=())
    if not Matcher.compile([bare]).match(text, title_length=title_len):
        return Verdict(watch.name, watch.label, False, ("none of its 'any' terms occurs",))
    blockers = []
    for key, loosen in _LOOSEN:
        loosened = loosen(watch)
        if loosened != watch and Matcher.compile([loosened]).match(text, title_length=title_len):
            blockers.append(key)
    if blockers:
        rules = " and ".join(repr(b) for b in blockers)
        why = f"its terms occur, but the {rules} rule held it back"
    else:
        why = "its terms occur, but its rules together held it back"
    return Verdict(watch.name, watch.label, False, (why,))


def paragraphs(text: str, spans: Iterable[tuple[int, int]]) -> list[list[Piece]]:
    """``text`` split at line breaks, each paragraph cut into pieces with the spans marked
    (overlapping spans are merged; offsets are in ``text``)."""
    merged: list[list[int]] = []
    for start, end in sorted((s, e) for s, e in spans if 0 <= s < e <= len(text)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[list[Piece]] = []
    offset = 0
    for line in text.split("\n"):
        end_of_line = offset + len(line)
        pieces: list[Piece] = []
        pos = offset
        for start, end in merged:
            if end <= offset or start >= end_of_line:
                continue
            start, end = max(start, offset), min(end, end_of_line)
            if start > pos:
                pieces.append((text[pos:start], False))
            pieces.append((text[start:end], True))
            pos = end
        if pos < end_of_line:
            pieces.append((text[pos:end_of_line], False))
        if pieces:
            out.append(pieces)
        offset = end_of_line + 1
    return out
