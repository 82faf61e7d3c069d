"""Does a candidate span really match a term? (``matching/RULES.md``, "A term matches …")

A candidate comes from the folded text, so its letters already agree with the term's
once accents and case are dropped. What is left to check, on the canonical text:
Unicode boundaries, accents per syllable (tone placement ignored), case (smart, with the
sentence-start rule for one-syllable terms), and ``whole_name``.
"""

from __future__ import annotations

import re
import unicodedata

from pipelines.match.text import fold_exact, tone_key
from pipelines.match.watch import Term

__all__ = ["Pattern", "verify"]


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_SYLLABLE = re.compile(r"[^\W_]+")
_LAST_WORD = re.compile(r"[^\W_]+$")
# Title words may follow a full name ("Nguyễn Văn Phong Phó Bí thư …") without making the
# name longer; any other capitalised syllable would ("Nguyễn Thị Phương Thảo").
_TITLE_WORDS = frozenset(
    tone_key(w)
    for w in _word_set(
        "phó bí chủ giám trưởng tổng thứ ủy uỷ bộ thủ chánh viện hiệu chính đại thiếu "
        "thượng ông bà nguyên tân cựu phụ thường"
    )
)
# "TP. Vinh", "GS. Trưng": a full stop after these is no sentence end.
_ABBREVIATIONS = _word_set("tp q p tx tt ts gs pgs ths bs ks ls nxb ubnd st mr ms dr th ng")
_NO_FLAGS: tuple[str, ...] = ()
_OPENERS = " \"'“‘«([{-–—•*"
_QUOTES = "\"'“‘«"
_CLOSERS = "\"'”’»)]"


class Pattern:
    """A term prepared for verification: its syllables, tone keys and capital letters."""

    __slots__ = (
        "accents",
        "case",
        "key",
        "mask",
        "single_capital",
        "syllables",
        "term",
        "text",
        "upper",
        "whole_name",
    )

    def __init__(self, term: Term, key: str) -> None:
        # Cheap, because an agency compiles 100,000 of these and most never see a candidate:
        # the per-syllable detail is prepared on the first candidate that needs it.
        self.term = term
        self.text = text = term.text
        self.key = key
        self.accents = term.accents
        self.case = term.case
        self.whole_name = term.whole_name
        self.upper = text.isupper()
        self.mask: tuple[bool, ...] | None = None
        self.syllables: tuple[tuple[int, int, str, str, tuple[int, ...]], ...] | None = None
        # Only a Capitalised one-syllable term needs evidence beyond its capital letter.
        words = _SYLLABLE.findall(text) if self.case == "smart" and not self.upper else ()
        self.single_capital = len(words) == 1 and any(c.isupper() for c in words[0])

    def prepare(self) -> tuple[tuple[int, int, str, str, tuple[int, ...]], ...]:
        """The syllables (start, end, lower case, tone key, capitals) and the capital mask."""
        if self.syllables is None:
            syl = []
            for m in _SYLLABLE.finditer(self.text):
                word = m.group()
                caps = tuple(i for i, c in enumerate(word) if c.isupper())
                syl.append((m.start(), m.end(), word.lower(), tone_key(word), caps))
            self.mask = tuple(c.isupper() for c in self.text)
            self.syllables = tuple(syl)
        return self.syllables


def verify(p: Pattern, text: str, start: int, end: int) -> tuple[str, ...] | None:
    """Flags of a genuine hit of ``p`` at ``text[start:end]``, or ``None`` if it is not one."""
    # Hot path (every candidate): checks inlined, cheapest first.
    if start:
        ch = text[start - 1]
        if ch.isalnum() or (ch >= "\u0300" and unicodedata.combining(ch)):
            return None
    if end < len(text):
        ch = text[end]
        if ch.isalnum() or (ch >= "\u0300" and unicodedata.combining(ch)):
            return None
    span = text[start:end]
    if span == p.text:  # the usual case: written exactly as configured
        if p.single_capital and not _capital_is_evidence(text, start, end):
            return None
        if p.whole_name and _continues_name(text, end):
            return None
        return _NO_FLAGS
    flags = _compare(p, span)
    if flags is None:
        return None
    caps = not p.upper and span.isupper()
    if p.single_capital and not _capital_is_evidence(text, start, end):
        return None
    if p.whole_name and not caps and _continues_name(text, end):
        return None
    return (*flags, "all_caps") if caps else flags


def _compare(p: Pattern, span: str) -> tuple[str, ...] | None:
    flags: set[str] = set()
    for s, e, low, key, caps in p.prepare():
        got = span[s:e]
        if not _accents_ok(p, got.lower(), low, key, flags):
            return None
        if p.case == "smart" and not all(got[i].isupper() for i in caps):
            return None
    if p.case == "exact" and tuple(c.isupper() for c in span) != p.mask:
        return None
    if "?" in p.key and any(not c.isalnum() and c != span[i] for i, c in enumerate(p.text)):
        return None  # punctuation the fold could not tell apart
    return tuple(sorted(flags))


def _accents_ok(p: Pattern, got: str, low: str, key: str, flags: set[str]) -> bool:
    if got == low or tone_key(got) == key:
        return True
    if p.accents == "lenient":
        # Only a syllable typed with no diacritics at all; a different mark is another word.
        if got.isascii():
            flags.add("unaccented")
            return True
        return False
    if p.accents == "ignore" and fold_exact(got) == fold_exact(low):
        flags.add("unaccented" if got.isascii() else "accent_mismatch")
        return True
    return False


def _capital_is_evidence(text: str, start: int, end: int) -> bool:
    """Is the capital of a one-syllable hit a sign of a proper noun?

    Not when the sentence starts there ("Trưng bày hơn 200 hiện vật") and not when the
    whole line is in capitals ("TRƯNG BÀY HIỆN VẬT").
    """
    word = text[start:end]
    if len(word) > 1 and word.isupper() and _caps_around(text, start, end):
        return False
    return not _sentence_start(text, start)


def _caps_around(text: str, start: int, end: int) -> bool:
    para_start = text.rfind("\n", 0, start) + 1
    para_end = text.find("\n", end)
    before = _LAST_WORD.search(text, para_start, start)
    after = _SYLLABLE.search(text, end, para_end if para_end >= 0 else len(text))
    words = [m.group() for m in (before, after) if m]
    if not words:
        return True  # a headline of one word
    return any(len(w) > 1 and w.isupper() for w in words)


def _sentence_start(text: str, start: int) -> bool:
    i = start - 1
    quoted = False
    while i >= 0 and text[i] in _OPENERS:
        quoted = quoted or text[i] in _QUOTES
        i -= 1
    if i < 0 or text[i] == "\n":
        return True
    ch = text[i]
    if ch in _CLOSERS and i > 0:
        ch = text[i - 1]
    if ch in "!?…":
        return True
    if ch == ":":
        return quoted  # ông nói: "Trưng …" opens a quoted sentence
    if ch != ".":
        return False
    if i == start - 1:
        return False  # "Q.Hai", "TP.Vinh": an abbreviation glued to the name
    before = _LAST_WORD.search(text, max(0, i - 12), i)
    if before is None:
        return True
    word = before.group()
    return not (word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper()))


def _continues_name(text: str, end: int) -> bool:
    if end + 1 >= len(text) or text[end] != " " or not text[end + 1].isupper():
        return False
    m = _SYLLABLE.match(text, end + 1)
    if not m:
        return False
    word = m.group()
    if not word[0].isupper() or (len(word) > 1 and word.isupper()):
        return False  # lower case, or an acronym (UBND, TP): not part of the name
    return tone_key(word) not in _TITLE_WORDS
