"""Whether a new article joins a story: its nearest earlier neighbour, and why.

The similarity of two articles is the *containment* of the smaller shingle set in the
larger, estimated from the MinHash Jaccard ``J`` and the set sizes (the overlap is
``J * (|A| + |B|) / (1 + J)``): a copy trimmed to its first three paragraphs is fully
contained in the original although their Jaccard similarity is low. An article joins the
story of the most similar neighbour published within :data:`WINDOW` of it when that
similarity reaches :data:`JOIN_AT`, unless the two quote different figures (see
:data:`NUMBERS_AGREE`): daily columns written on one template share most sentences and
differ in their prices, dates and temperatures; rewrites of one event keep them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from pipelines.stories.fingerprint import NUM_PERM, Fingerprint

__all__ = [
    "JOIN_AT",
    "NUMBERS_AGREE",
    "WINDOW",
    "Decision",
    "Neighbour",
    "decide",
    "figures_differ",
    "similarities",
    "similarity",
]

WINDOW = timedelta(hours=72)
JOIN_AT = 0.5
# Figures compared only when both articles quote at least this many distinct ones, and the
# share of the smaller set found in the larger must reach NUMBERS_AGREE.
NUMBERS_COMPARED = 3
NUMBERS_AGREE = 0.5
MIN_SHINGLES = 5  # a text shorter than this (a headline alone) never joins by similarity


@dataclass(frozen=True)
class Neighbour:
    """A stored article that shares an LSH band with the new one."""

    article: int
    story: str
    at: datetime
    source: str
    fingerprint: Fingerprint


@dataclass(frozen=True)
class Decision:
    """Where a new article goes: ``story`` is ``None`` when it starts a new story."""

    story: str | None
    nearest: Neighbour | None
    similarity: float
    reason: str


def similarities(
    fingerprint: Fingerprint, signatures: npt.NDArray[np.uint32], sizes: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """:func:`similarity` of the article to each of many (one signature per row), at once.

    An article can have hundreds of candidates (a story carried by dozens of outlets, a
    daily column on one template): numpy over all of them costs less than Python over one.
    """
    jaccard = np.count_nonzero(signatures == fingerprint.signature, axis=1) / NUM_PERM
    smaller = np.minimum(sizes, fingerprint.size)
    overlap = jaccard * (sizes + fingerprint.size) / (1.0 + jaccard)
    share = np.minimum(1.0, overlap / np.maximum(smaller, 1))
    return np.where(smaller > 0, share, 0.0)


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """The estimated share of the smaller article's shingles found in the larger one."""
    return float(similarities(a, b.signature[np.newaxis], np.array([b.size]))[0])


def figures_differ(a: Fingerprint, b: Fingerprint) -> str | None:
    """Why two similar articles are not one story (they quote different figures), or
    ``None`` when their figures agree or are too few to compare."""
    smaller, larger = sorted((a.numbers, b.numbers), key=len)
    if len(smaller) < NUMBERS_COMPARED:
        return None
    shared = len(smaller & larger)
    if shared >= NUMBERS_AGREE * len(smaller):
        return None
    return f"the figures differ ({shared} of {len(smaller)} shared)"


def decide(
    fingerprint: Fingerprint,
    at: datetime,
    candidates: Iterable[Neighbour],
    window: timedelta = WINDOW,
    join_at: float = JOIN_AT,
) -> Decision:
    """The story the article joins (the most similar neighbour's within ``window``), or a
    new story, with the reason in words."""
    near = [n for n in candidates if abs(n.at - at) <= window]
    scores = (
        similarities(
            fingerprint,
            np.stack([n.fingerprint.signature for n in near]),
            np.array([n.fingerprint.size for n in near], dtype=np.int64),
        ).tolist()
        if near
        else []
    )
    scored = sorted(
        zip(scores, near, strict=True),
        key=lambda pair: (-pair[0], pair[1].at, pair[1].article),
    )
    if fingerprint.size < MIN_SHINGLES:
        return Decision(None, None, 0.0, "new story: the text is too short to compare")
    if not scored:
        hours = int(window.total_seconds() // 3600)
        return Decision(None, None, 0.0, f"new story: no similar article within {hours} h")
    vetoed: str | None = None
    for score, neighbour in scored:
        if score < join_at:
            break
        veto = figures_differ(fingerprint, neighbour.fingerprint)
        if veto is None:
            return Decision(
                neighbour.story,
                neighbour,
                score,
                f"joined: {score:.2f} similar to article {neighbour.article} ({neighbour.source})",
            )
        vetoed = vetoed or f"{score:.2f} similar to article {neighbour.article}, but {veto}"
    best, nearest = scored[0]
    if vetoed:
        return Decision(None, nearest, best, f"new story: {vetoed}")
    return Decision(
        None,
        nearest,
        best,
        f"new story: the nearest article ({nearest.article}) is {best:.2f} similar, "
        f"below {join_at:.2f}",
    )
