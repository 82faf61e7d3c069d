"""Search over the stored articles with the watches' query language.

Until the archive search engine of ``newswatch search`` lands in the store, this scans the
newest articles with the matcher itself (exactly the semantics of a ``query:`` watch), at
most :data:`SCAN` per request; the page says how far back it looked and the cursor goes on
from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from crawler.web.explain import title_length
from crawler.web.queries import Page, parse_cursor
from pipelines.match.matcher import Hit, Matcher
from pipelines.match.rules import parse_watch
from pipelines.store.database import Store
from pipelines.store.schema import articles

__all__ = ["SCAN", "SearchHit", "as_query", "search_articles"]

_OPERATOR = re.compile(r"\b(AND|OR|NOT|NEAR/\d+)\b|[()]")
SCAN = 3000  # articles looked at per request, newest first
BATCH = 250


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


def as_query(text: str) -> str:
    """Words typed without quotes or operators are one phrase (a search box, not a rule)."""
    plain = text.strip()
    if '"' in plain or _OPERATOR.search(plain):
        return plain
    return f'"{plain}"'


def search_articles(
    store: Store, query: str, *, limit: int = 20, cursor: str | None = None
) -> Page[SearchHit]:
    """Articles matching ``query``, newest first; ConfigError for a bad query (its message
    says what is wrong), ValueError for a bad cursor."""
    before = parse_cursor(cursor)
    limit = max(1, min(limit, 100))
    matcher = Matcher.compile([parse_watch("search", {"query": as_query(query)})])
    found: list[SearchHit] = []
    scanned = 0
    last_id: int | None = None
    with store.engine.connect() as conn:
        while scanned < SCAN and len(found) < limit:
            batch = select(
                articles.c.id,
                articles.c.url,
                articles.c.title,
                articles.c.source,
                articles.c.published,
                articles.c.text,
            ).order_by(articles.c.id.desc())
            if last_id is not None or before is not None:
                batch = batch.where(articles.c.id < (last_id if last_id is not None else before))
            rows = conn.execute(batch.limit(BATCH)).all()
            if not rows:
                return Page(found, None)
            for row in rows:
                scanned += 1
                last_id = row.id
                matches = matcher.match(row.text, title_length=title_length(row.text))
                if matches:
                    hits = tuple(matches[0].hits)
                    found.append(
                        SearchHit(
                            row.id,
                            row.url,
                            row.title,
                            row.source,
                            row.published,
                            hits[0].snippet,
                            hits,
                        )
                    )
                    if len(found) >= limit:
                        break
            else:
                if len(rows) < BATCH:  # the oldest article was looked at
                    return Page(found, None)
    return Page(found, str(last_id) if last_id is not None else None)
