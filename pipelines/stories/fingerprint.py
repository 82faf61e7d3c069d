"""An article's fingerprint: its MinHash signature, LSH band keys, shingle count and numbers.

The signature is datasketch's :class:`~datasketch.MinHash` over the syllable shingles of
the headline and the text (:mod:`.shingles`). The LSH banding is done here rather than by
:class:`datasketch.MinHashLSH`, because the band keys must live in the store: every crawl
round runs in its own child process (and, distributed, on other machines), and a SQL index
on the keys is the one durable lookup they all share. datasketch's in-memory or Redis
tables would have to be rebuilt or run beside the database.

:data:`BANDS` bands of :data:`ROWS` rows put the LSH threshold near a Jaccard similarity
of 0.29 ((1/42)^(1/3)): a copy trimmed to half of the original (Jaccard ~0.5) is a
candidate with probability > 0.99, one trimmed to a third (~0.33) with ~0.8 — and a story
usually has several members to be found through.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

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


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """What the story index keeps of one article."""

    signature: Signature
    size: int  # distinct shingles
    numbers: frozenset[str]

    @property
    def bands(self) -> list[int]:
        """The LSH band keys, as signed 64-bit integers (a BIGINT column holds them)."""
        keys = []
        for band in range(BANDS):
            chunk = self.signature[band * ROWS : (band + 1) * ROWS].tobytes()
            digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
            keys.append(int.from_bytes(digest, "little", signed=True))
        return keys

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
