"""The labelled story set (tests/cases/stories.yaml) as articles, and its pairwise score.

Shared by tests/test_stories_quality.py and bench/stories.py. Derived articles are built
here from the `like`/`keep`/`lead`/`ending`/`swap`/`form` entries of the YAML file.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from pipelines.match.text import document_text

SET_FILE = Path(__file__).parent / "cases" / "stories.yaml"


@dataclass(frozen=True)
class LabelledArticle:
    """One article of the set: canonical text as the pipeline would store it."""

    id: str
    story: str
    outlet: str
    at: datetime
    title: str
    text: str  # the document text: canonical title + "\n" + canonical body
    title_length: int


# The old tone placement puts the mark on the second vowel of an open "oa", "oe", "uy".
_NEW_PLACEMENT = re.compile("([oOuU])([\u0300\u0301\u0303\u0309\u0323])([aAeEyY])(?![^\\W\\d_])")


def _old_tones(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _NEW_PLACEMENT.sub(r"\1\3\2", decomposed))


def _typed(text: str, form: str | None) -> str:
    if form == "nfd":
        return unicodedata.normalize("NFD", text)
    if form == "old_tones":
        return _old_tones(text)
    return text


def _derive(entry: Mapping[str, Any], base: Mapping[str, Any]) -> tuple[str, list[str]]:
    paragraphs = list(base["paragraphs"])
    if "keep" in entry:
        paragraphs = [paragraphs[i] for i in entry["keep"]]
    if "lead" in entry:
        paragraphs[0] = entry["lead"]
    if "ending" in entry:
        paragraphs[-1] = entry["ending"]
    for old, new in (entry.get("swap") or {}).items():
        assert any(old in p for p in paragraphs), f"{entry['id']}: {old!r} not in the text"
        paragraphs = [p.replace(old, new) for p in paragraphs]
    return entry.get("title", base["title"]), paragraphs


def load(path: Path = SET_FILE) -> list[LabelledArticle]:
    """Every article of the set, derived copies built, in publication order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    written: dict[str, dict[str, Any]] = {}
    out = []
    for entry in data["articles"]:
        if "like" in entry:
            title, paragraphs = _derive(entry, written[entry["like"]])
        else:
            title = entry["title"]
            paragraphs = [p.strip() for p in entry["text"].split("\n\n") if p.strip()]
        written[entry["id"]] = {"title": title, "paragraphs": paragraphs}
        form = entry.get("form")
        shown_title = title.upper() if form == "caps_title" else _typed(title, form)
        body = _typed("\n\n".join(paragraphs), form)
        text, title_length = document_text(shown_title, body)
        at = entry["at"]
        assert isinstance(at, datetime) and at.tzinfo is not None, entry["id"]
        out.append(
            LabelledArticle(
                entry["id"],
                entry["story"],
                entry["outlet"],
                at,
                text[:title_length],
                text,
                title_length,
            )
        )
    return sorted(out, key=lambda a: (a.at, a.id))


@dataclass(frozen=True)
class PairScore:
    """Pairwise precision and recall of a grouping against the labels."""

    true_pairs: int
    found_pairs: int
    right_pairs: int

    @property
    def precision(self) -> float:
        return self.right_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.right_pairs / self.true_pairs if self.true_pairs else 1.0


def pair_score(labels: Mapping[str, str], found: Mapping[str, str]) -> PairScore:
    """Every pair of articles is "same story" or not, in the labels and in ``found``."""
    true = found_n = right = 0
    for a, b in itertools.combinations(sorted(labels), 2):
        same_label = labels[a] == labels[b]
        same_found = found[a] == found[b]
        true += same_label
        found_n += same_found
        right += same_label and same_found
    return PairScore(true, found_n, right)


def count_groups(groups: Iterable[str]) -> int:
    """How many distinct groups (stories) a list of group names holds."""
    return len(set(groups))
