"""An in-memory story index: the fingerprints of a few thousand articles and their stories.

For tests, the labelled set and one-off runs of the tooling; the service keeps the same
information in the store, where it survives restarts and is shared by crawl processes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from pipelines.stories.decide import WINDOW, Decision, Neighbour, decide
from pipelines.stories.fingerprint import Fingerprint

__all__ = ["MemoryIndex"]


class MemoryIndex:
    """Articles by LSH band key; :meth:`assign` decides and remembers in one step."""

    def __init__(self, window: timedelta = WINDOW) -> None:
        self.window = window
        self._bands: defaultdict[int, list[int]] = defaultdict(list)
        self._articles: dict[int, Neighbour] = {}

    def __len__(self) -> int:
        return len(self._articles)

    def candidates(self, fingerprint: Fingerprint) -> list[Neighbour]:
        """The stored articles that share at least one band with ``fingerprint``."""
        keys = {key for band in fingerprint.bands for key in self._bands.get(band, ())}
        return [self._articles[key] for key in sorted(keys)]

    def add(self, neighbour: Neighbour) -> None:
        """Remember an article and the story it belongs to."""
        self._articles[neighbour.article] = neighbour
        for band in neighbour.fingerprint.bands:
            self._bands[band].append(neighbour.article)

    def assign(self, article: int, source: str, at: datetime, fingerprint: Fingerprint) -> Decision:
        """Decide the article's story (a new one is named ``st-<article>``) and add it."""
        decision = decide(fingerprint, at, self.candidates(fingerprint), self.window)
        story = decision.story or f"st-{article}"
        self.add(Neighbour(article, story, at, source, fingerprint))
        return decision
