"""Syllable shingles and quoted numbers of a canonical Vietnamese text.

A syllable is keyed by :func:`~pipelines.match.text.tone_key` of its lower-cased form, so
``Thành uỷ``, ``THÀNH ỦY`` and ``thành ủy`` give the same key; the text is NFC-normalised
first, so an NFD copy gives the same keys too. A shingle is :data:`SHINGLE` consecutive
syllables: long enough that two unrelated reports about the same official share only
his title and name, short enough that a rewording breaks few of them.

Shingles are 32-bit hashes combined from stable per-syllable hashes with numpy, not
joined strings: an article has a thousand of them and Python-level string work per
shingle would cost more than the whole rest of a story assignment. (The syllable hash is
cached; Vietnamese has a few thousand syllables.)

Numbers (prices, dates, counts, ``500.000``, ``2/11``) are kept whole and also returned on
their own: rewrites of one event keep its figures, while daily columns on one template
(the gold price, the weather) share almost every sentence and differ mainly in them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from pipelines.match.text import tone_key

__all__ = ["SHINGLE", "numbers", "shingles", "syllable_hashes"]

SHINGLE = 3

# A syllable, or a number with its inner separators (500.000, 2/11, 7:30, 1,5).
_TOKEN = re.compile(r"\w+(?:[.,/:-]\d+)*")
_NUMBER = re.compile(r"\d+(?:[.,/:-]\d+)*")
# Odd multipliers mixing the three syllables of a shingle (position matters: "a b c" is
# not "c b a"); uint64 arithmetic wraps, which is what a hash wants.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)

Hashes = npt.NDArray[np.uint64]


@lru_cache(maxsize=100_000)
def _syllable_hash(token: str) -> int:
    digest = hashlib.blake2b(tone_key(token).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def syllable_hashes(text: str) -> Hashes:
    """Stable 64-bit hashes of the text's syllables and numbers, in order."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    tokens = _TOKEN.findall(text.lower())
    return np.fromiter(map(_syllable_hash, tokens), dtype=np.uint64, count=len(tokens))


def shingles(syllables: Hashes) -> npt.NDArray[np.uint32]:
    """The distinct 32-bit hashes of the runs of :data:`SHINGLE` syllables (sorted)."""
    if len(syllables) < SHINGLE:
        if not len(syllables):
            return np.zeros(0, dtype=np.uint32)
        syllables = np.concatenate([syllables, np.zeros(SHINGLE - len(syllables), np.uint64)])
    count = len(syllables) - SHINGLE + 1
    mixed = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE):
        mixed ^= syllables[offset : offset + count] * _MIX[offset]
    return np.unique((mixed >> np.uint64(32)).astype(np.uint32))


def numbers(text: str) -> frozenset[str]:
    """The figures, dates and times the text quotes."""
    return frozenset(_NUMBER.findall(text))
