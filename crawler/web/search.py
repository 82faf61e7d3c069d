"""Search over the archive for the Search page and ``/api/v1/search``: the engine of
``newswatch search`` (:mod:`pipelines.store.search`: full-text candidates, verified by the
matcher), with words typed without quotes taken as one phrase, and a cursor.

The engine orders by publication time (fetch time when unknown), newest first, and takes an
exclusive upper bound ``until``. A cursor is that time of the last result and how many
results of the page share it (several articles can carry the same minute): the next page
asks for everything up to and including that time and skips those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipelines.match.matcher import Hit
from pipelines.store.database import Store
from pipelines.store.search import Found, search

__all__ = ["SearchHit", "SearchPage", "as_query", "search_articles"]

_OPERATOR = re.compile(r"\b(AND|OR|NOT|NEAR/\d+)\b|[()]")
_CURSOR = re.compile(r"^(-?\d{1,17})\.(\d{1,3})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class SearchHit:
    """One article the query matched, with its first hit's snippet."""

    article_id: int
    url: str
    title: str
    source: str
    published: datetime | None
    snippet: str
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class SearchPage:
    items: list[SearchHit]
    next_cursor: str | None


def as_query(text: str) -> str:
    """Words typed without quotes or operators are one phrase (a search box, not a rule)."""
    plain = text.strip()
    if '"' in plain or _OPERATOR.search(plain):
        return plain
    return f'"{plain}"'


def _when(found: Found) -> datetime:
    return found.published or found.fetched_at


def _encode(moment: datetime, skip: int) -> str:
    return f"{(moment - _EPOCH) // _TICK}.{skip}"


def _decode(cursor: str) -> tuple[datetime, int]:
    parsed = _CURSOR.match(cursor)
    if parsed is None:
        raise ValueError("cursor: use the next_cursor value of the previous page")
    return _EPOCH + int(parsed[1]) * _TICK, int(parsed[2])


def search_articles(
    store: Store, query: str, *, limit: int = 20, cursor: str | None = None
) -> SearchPage:
    """Articles matching ``query``, newest first; ValueError (QuerySyntaxError names the
    column) for a bad query or cursor."""
    limit = max(1, min(limit, 100))
    until, skip = _decode(cursor) if cursor else (None, 0)
    with store.engine.connect() as conn:
        found = search(
            conn,
            as_query(query),
            until=until + _TICK if until is not None else None,
            limit=limit + skip + 1,
        )
    if until is not None:  # drop the results of that time the previous page showed
        seen = 0
        kept = []
        for f in found:
            if seen < skip and _when(f) == until:
                seen += 1
            else:
                kept.append(f)
        found = kept
    more = len(found) > limit
    page = found[:limit]
    next_cursor = None
    if more and page:
        last = _when(page[-1])
        same = sum(1 for f in page if _when(f) == last)
        next_cursor = _encode(last, same + (skip if until == last else 0))
    items = [
        SearchHit(f.id, f.url, f.title, f.source, f.published, f.snippet, tuple(f.match.hits))
        for f in page
    ]
    return SearchPage(items, next_cursor)
