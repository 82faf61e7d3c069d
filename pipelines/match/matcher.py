"""Watch rules -> compiled matcher: Aho-Corasick candidates, verification, rule evaluation.

How an article is matched (``Matcher.match``):

1. the canonical text is folded to a same-length lowercase ASCII copy
   (:func:`pipelines.match.text.fold`), so offsets need no mapping;
2. one pyahocorasick automaton over every folded term of every watch, compiled once per
   configuration, reports *all* candidates, overlapping ones included (a longer
   candidate that fails its boundary check must not hide a shorter one that passes);
3. a candidate is verified on the canonical text (:mod:`pipelines.match.verify`) only when a
   watch needs it, and at most once per term and article: identical terms of different
   watches are interned into one;
4. only watches that one of their ``any`` terms triggered are evaluated.

The rule keys and their semantics are the shared ``matching/RULES.md``; parsing and lint
are in :mod:`pipelines.match.rules` and :mod:`pipelines.match.lint`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import ahocorasick

from pipelines.match.snippet import CAPTION_MARK, make_snippet
from pipelines.match.text import fold, legacy_encoding
from pipelines.match.verify import Pattern, verify
from pipelines.match.watch import Near, Term, Watch, building

__all__ = ["Hit", "Matcher", "WatchMatch", "explain", "matches_to_json"]

_SYLLABLE = re.compile(r"[^\W_]+")
_Span = tuple[int, int, tuple[str, ...]]


class Hit(NamedTuple):
    """One verified mention: offsets are in the canonical article text. (A named tuple:
    an article makes ~10 of them, and a frozen dataclass costs five times as much.)"""

    term: str
    start: int
    end: int
    text: str
    snippet: str
    flags: tuple[str, ...]


@dataclass
class WatchMatch:
    """A watch that matched an article, its hits and why it matched."""

    watch: Watch
    hits: list[Hit]
    #: What else decided (all / except_in / near), as data; :attr:`reasons` words it with
    #: the hits (only ``newswatch match`` asks, not a crawl).
    why: list[tuple[object, ...]] = field(default_factory=list, repr=False)

    @property
    def reasons(self) -> list[str]:
        return [f"any {h.term!r} at {h.start}" for h in self.hits] + [
            _REASONS[str(w[0])].format(*w[1:]) for w in self.why
        ]


_REASONS = {
    "all": "all {0!r} found at {1}",
    "except_in": "except_in {0!r} removed the hit at {1}",
    "near": "near {0!r} {1} syllables away from the hit at {2} (within {3})",
}


@dataclass(frozen=True)
class _Plan:
    """A watch with its terms replaced by interned term ids."""

    watch: Watch
    any: tuple[int, ...]
    all: tuple[int, ...]
    not_: tuple[int, ...]
    except_in: tuple[int, ...]
    near: tuple[int, ...]
    within: int


class _Article:
    """Per-article state: candidate ends per folded key, verified per term lazily and at
    most once."""

    __slots__ = ("candidates", "key_of", "patterns", "snippets", "text", "verified")

    def __init__(self, text: str, patterns: Sequence[Pattern], key_of: Sequence[int]) -> None:
        self.text = text
        self.patterns = patterns
        self.key_of = key_of
        self.candidates: dict[int, list[int]] = {}
        self.verified: dict[int, list[_Span]] = {}
        self.snippets: dict[tuple[int, int], str] = {}

    def snippet(self, start: int, end: int) -> str:
        """The snippet of a span (watches sharing a term share its snippets)."""
        found = self.snippets.get((start, end))
        if found is None:
            found = self.snippets[start, end] = make_snippet(self.text, start, end)
        return found

    def hits(self, tid: int) -> list[_Span]:
        """Verified spans of term ``tid`` (verified on first use)."""
        found = self.verified.get(tid)
        if found is None:
            ends = self.candidates.get(self.key_of[tid])
            if ends is None:
                found = []
            else:
                p, text = self.patterns[tid], self.text
                width = len(p.text)
                found = [
                    (end - width, end, flags)
                    for end in ends
                    if (flags := verify(p, text, end - width, end)) is not None
                ]
            self.verified[tid] = found
        return found


class Matcher:
    """All watches of one configuration, compiled into one automaton."""

    def __init__(
        self,
        plans: Sequence[_Plan],
        patterns: Sequence[Pattern],
        triggers: dict[int, tuple[int, ...]],
    ) -> None:
        self._plans = tuple(plans)
        self._patterns = tuple(patterns)
        self._triggers = triggers
        # One automaton word per distinct folded key; its value is the key's index, so the
        # scan records each candidate once, whatever number of terms share the key.
        keys: dict[str, int] = {}
        self._key_of = tuple(keys.setdefault(p.key, len(keys)) for p in patterns)
        by_key: dict[int, list[int]] = {}
        for tid, key in enumerate(self._key_of):
            if tid in triggers:
                by_key.setdefault(key, []).append(tid)
        #: The terms of each key that trigger a watch (the others only matter to a watch
        #: that something else triggered).
        self._trigger_terms = {key: tuple(tids) for key, tids in by_key.items()}
        self._automaton = _automaton(keys)

    @classmethod
    def compile(cls, watches: Sequence[Watch]) -> Matcher:
        """Intern every term, build the automaton over the folded terms; once per config."""
        with building():
            return cls._compile(watches)

    @classmethod
    def _compile(cls, watches: Sequence[Watch]) -> Matcher:
        ids: dict[Term, int] = {}
        patterns: list[Pattern] = []

        def intern(terms: Sequence[Term]) -> tuple[int, ...]:
            out = []
            for term in terms:
                tid = ids.get(term)
                if tid is None:
                    tid = ids[term] = len(patterns)
                    patterns.append(Pattern(term, fold(term.text)))
                out.append(tid)
            return tuple(out)

        plans = []
        triggers: dict[int, list[int]] = {}
        for index, w in enumerate(watches):
            near = w.near or Near(0, ())
            plan = _Plan(
                w,
                intern(w.any_terms),
                intern(w.all_terms),
                intern(w.not_terms),
                intern(w.except_in),
                intern(near.any),
                near.within,
            )
            plans.append(plan)
            for tid in set(plan.any):
                triggers.setdefault(tid, []).append(index)
        return cls(plans, patterns, {t: tuple(ws) for t, ws in triggers.items()})

    def match(
        self, text: str, *, title_length: int = 0, captions_start: int | None = None
    ) -> list[WatchMatch]:
        """Watches that match ``text`` (ALREADY canonical), in config order.

        Hits before ``title_length`` are flagged ``in_title``; hits from ``captions_start``
        on are flagged ``in_caption`` and their snippet says so (see
        :func:`pipelines.match.text.article_document`). Text flagged as a legacy 8-bit
        encoding (TCVN3, VNI) matches nothing.
        """
        if self._automaton is None or not text or legacy_encoding(text):
            return []
        article = _Article(text, self._patterns, self._key_of)
        candidates = article.candidates
        get = candidates.get  # the hottest loop: one pass per candidate
        for last, key in self._automaton.iter(fold(text)):
            ends = get(key)
            if ends is None:
                candidates[key] = [last + 1]
            else:
                ends.append(last + 1)
        triggered: set[int] = set()
        triggers, trigger_terms = self._triggers, self._trigger_terms
        for key in candidates:
            for tid in trigger_terms.get(key, ()):
                if article.hits(tid):
                    triggered.update(triggers[tid])
        results = []
        for index in sorted(triggered):
            found = _evaluate(self._plans[index], article, title_length, captions_start)
            if found is not None:
                results.append(found)
        return results


def _automaton(keys: dict[str, int]) -> ahocorasick.Automaton | None:
    if not keys:
        return None
    automaton = ahocorasick.Automaton()
    for key, index in keys.items():
        automaton.add_word(key, index)
    automaton.make_automaton()
    return automaton


def _evaluate(
    plan: _Plan, article: _Article, title_length: int, captions_start: int | None
) -> WatchMatch | None:
    """Apply the rule of one triggered watch; ``None`` when the article does not match."""
    text, patterns = article.text, article.patterns
    hits = [(s, e, tid, f) for tid in plan.any for s, e, f in article.hits(tid)]
    why: list[tuple[object, ...]] = []
    if plan.except_in:
        hits = _drop_excepted(plan, article, hits, why)
        if not hits:
            return None
    for tid in plan.all:
        found = article.hits(tid)
        if not found:
            return None
        why.append(("all", patterns[tid].text, found[0][0]))
    for tid in plan.not_:
        if article.hits(tid):
            return None
    if plan.near:
        hits = _near(plan, article, hits, why)
        if not hits:
            return None
    if len(hits) > 1:
        hits = _outermost(hits)
    found_hits = []
    for s, e, t, f in hits:
        flags = (*f, "in_title") if s < title_length else f
        snippet = article.snippet(s, e)
        if captions_start is not None and s >= captions_start:
            flags, snippet = (*flags, "in_caption"), CAPTION_MARK + snippet
        found_hits.append(Hit(patterns[t].text, s, e, text[s:e], snippet, flags))
    return WatchMatch(plan.watch, found_hits, why)


_AnyHit = tuple[int, int, int, tuple[str, ...]]  # start, end, term id, flags


def _outermost(hits: list[_AnyHit]) -> list[_AnyHit]:
    """Hits in text order, without those inside a longer hit of the same watch.

    ("quận Hai Bà Trưng" inside "UBND quận Hai Bà Trưng" adds nothing to an alert.)
    """
    hits.sort(key=lambda h: (h[0], -h[1]))
    kept: list[_AnyHit] = []
    reach = -1
    for hit in hits:
        if hit[1] > reach:
            kept.append(hit)
            reach = hit[1]
    return kept


def _drop_excepted(
    plan: _Plan, article: _Article, hits: list[_AnyHit], why: list[tuple[object, ...]]
) -> list[_AnyHit]:
    excepted = [(s, e, tid) for tid in plan.except_in for s, e, _ in article.hits(tid)]
    if not excepted:
        return hits
    kept = []
    for hit in hits:
        inside = next((x for x in excepted if x[0] <= hit[0] and hit[1] <= x[1]), None)
        if inside is None:
            kept.append(hit)
        else:
            why.append(("except_in", article.patterns[inside[2]].text, hit[0]))
    return kept


def _near(
    plan: _Plan, article: _Article, hits: list[_AnyHit], why: list[tuple[object, ...]]
) -> list[_AnyHit]:
    partners = [(s, e, tid) for tid in plan.near for s, e, _ in article.hits(tid)]
    kept = []
    for hit in hits:
        best: tuple[int, str] | None = None
        for s, e, tid in partners:
            gap = _syllables_between(article.text, hit[0], hit[1], s, e, plan.within)
            if gap is not None and (best is None or gap < best[0]):
                best = (gap, article.patterns[tid].text)
        if best is not None:
            kept.append(hit)
            why.append(("near", best[1], best[0], hit[0], plan.within))
    return kept


def _syllables_between(text: str, s1: int, e1: int, s2: int, e2: int, within: int) -> int | None:
    """Syllables strictly between two non-overlapping spans of one paragraph, if ≤ within."""
    if e1 <= s2:
        gap = text[e1:s2]
    elif e2 <= s1:
        gap = text[e2:s1]
    else:
        return None
    if "\n" in gap or len(gap) > 64 * (within + 1):
        return None
    count = len(_SYLLABLE.findall(gap))
    return count if count <= within else None


def matches_to_json(matches: Sequence[WatchMatch]) -> dict[str, object]:
    """``{"watches": [{"name", "label", "hits": [...], "reasons": [...]}]}`` (``match --json``)."""
    return {
        "watches": [
            {
                "name": m.watch.name,
                "label": m.watch.label,
                "hits": [
                    {
                        "term": h.term,
                        "text": h.text,
                        "start": h.start,
                        "end": h.end,
                        "snippet": h.snippet,
                        "flags": list(h.flags),
                    }
                    for h in m.hits
                ],
                "reasons": list(m.reasons),
            }
            for m in matches
        ]
    }


def explain(matches: Sequence[WatchMatch]) -> str:
    """Human-readable account of why each watch matched (``newswatch match``)."""
    if not matches:
        return "no watch matched"
    blocks = []
    for m in matches:
        lines = [
            f"{m.watch.name} — {m.watch.label}" if m.watch.label != m.watch.name else m.watch.name
        ]
        lines += [f"  why: {reason}" for reason in m.reasons]
        for h in m.hits:
            flags = f" [{', '.join(h.flags)}]" if h.flags else ""
            lines.append(f"  hit {h.text!r} at {h.start}-{h.end}{flags}: {h.snippet}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
