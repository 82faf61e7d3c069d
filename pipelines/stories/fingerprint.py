"""An article's fingerprint: its MinHash signature, LSH band keys, shingle count and numbers.

The signature is datasketch's :class:`~datasketch.MinHash` over the syllable shingles of
the headline and the text (:mod:`.shingles`). The LSH banding is done here rather than by
:class:`datasketch.MinHashLSH`, because the band keys must live in the store: every crawl
round runs in its own child process (and, distributed, on other machines), and a SQL index
on the keys is the one durable lookup they all share. datasketch's in-memory or Redis
tables would have to be rebuilt or run beside the database.

:data:`BANDS` = 64 bands of :data:`ROWS` = 3 rows put the LSH threshold near a Jaccard
similarity of 0.25 ((1/64)^(1/3)): a copy trimmed to half of the original (Jaccard ~0.5)
is a candidate with probability > 0.99, one trimmed to a third (~0.33) with ~0.9, and a
story usually has several members to be found through. (42 bands of 128 permutations
missed two trimmed copies of the labelled set.) Unrelated articles (Jaccard ~0.01) share a
band with probability ~6e-5: a handful of candidates among 100,000 stored articles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
from datasketch import MinHash

from pipelines.stories.shingles import numbers, shingles, syllable_hashes

__all__ = ["BANDS", "NUM_PERM", "ROWS", "Fingerprint", "fingerprint"]

NUM_PERM = 192
ROWS = 3
BANDS = NUM_PERM // ROWS  # 64

# Built once: datasketch draws the permutations from a seeded generator in its constructor,
# which costs more than hashing a whole article.
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")

Signature = npt.NDArray[np.uint32]

# Odd 64-bit multipliers for the band keys; each band starts from its own number.
_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93],
    dtype=np.uint64,
)
_BAND_NUMBER = (np.arange(BANDS, dtype=np.uint64) + np.uint64(1)) * np.uint64(0xA24BAED4963EE407)


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """What the story index keeps of one article."""

    signature: Signature
    size: int  # distinct shingles
    numbers: frozenset[str]

    @cached_property
    def bands(self) -> list[int]:
        """The LSH band keys, as signed 64-bit integers (a BIGINT column holds them).

        Each key mixes the band's :data:`ROWS` values and its number with odd multipliers
        (numpy, one pass for all bands): equal keys mean equal rows, up to 2^-64 collisions.
        """
        rows = self.signature[: BANDS * ROWS].astype(np.uint64).reshape(BANDS, ROWS)
        mixed = _BAND_NUMBER.copy()
        for column in range(ROWS):
            mixed ^= rows[:, column] * _MIX[column]
            mixed *= _MIX[ROWS]
        return [int(key) for key in mixed.view(np.int64)]

    def jaccard(self, other: Fingerprint) -> float:
        """The estimated Jaccard similarity of the two articles' shingle sets."""
        return float(np.count_nonzero(self.signature == other.signature)) / NUM_PERM

    def signature_bytes(self) -> bytes:
        """The signature as it is stored (little-endian uint32s)."""
        return self.signature.astype("<u4").tobytes()

    def numbers_text(self) -> str:
        """The numbers as they are stored (space-separated, sorted)."""
        return " ".join(sorted(self.numbers))

    @classmethod
    def from_stored(cls, signature: bytes, size: int, numbers_text: str) -> Fingerprint:
        """The fingerprint of a stored article, from :meth:`signature_bytes` and friends."""
        values = np.frombuffer(signature, dtype="<u4").astype(np.uint32)
        return cls(values, size, frozenset(numbers_text.split()))


def fingerprint(title: str, text: str) -> Fingerprint:
    """The fingerprint of an article from its canonical headline and text.

    ``text`` may be the stored document text, which starts with the headline: a repeated
    headline adds no shingles that are not there already.
    """
    document = text if text.startswith(title) else f"{title}\n{text}"
    grams = shingles(syllable_hashes(document))
    minhash = MinHash(
        num_perm=NUM_PERM,
        seed=1,
        hashfunc=int,  # the shingles are hashes already
        permutations=_TEMPLATE.permutations,
        scheme="affine32",
    )
    minhash.update_batch(grams.tolist())
    return Fingerprint(minhash.hashvalues.astype(np.uint32), len(grams), numbers(document))
