"""Searching the archive with the watches' query language.

Two steps, so that a search means exactly what a watch with that ``query:`` would match:

1. The database's full-text index finds *candidates*: SQLite FTS5, or a PostgreSQL
   ``tsvector`` with a GIN index. Both index the article's text folded by the matcher's own
   :func:`~pipelines.match.text.fold` (lower case, no accents, ``đ`` → ``d``), written by
   newswatch rather than by ``unaccent``: the folding is then the same on both engines and
   the same as the matcher's, and no database extension is needed. Every quoted phrase
   becomes a phrase query over its folded syllables, ``OR``/``AND`` stay, ``NEAR`` becomes
   ``AND`` and ``NOT`` is left out: the candidates are a superset of the answers.
2. The matcher verifies each candidate, newest first (accents, smart case, NFD and tone
   placement, names across line breaks, ``NOT``, ``NEAR/n``), and stops at ``limit``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, Row, Select, column, func, select, text

from pipelines.errors import ConfigError
from pipelines.match.matcher import Matcher, WatchMatch
from pipelines.match.query import QuerySyntaxError, compile_query
from pipelines.match.rules import parse_watch
from pipelines.match.text import fold
from pipelines.match.watch import Watch
from pipelines.store.schema import articles

__all__ = [
    "Found",
    "candidate_query",
    "delete_index",
    "index_text",
    "query_watch",
    "search",
    "title_length",
    "write_index",
]

_TOKEN = re.compile(r"[a-z0-9]+")
_BATCH = 200


def index_text(text: str) -> str:
    """What the full-text index holds for an article's canonical text."""
    return fold(text)


def write_index(conn: Connection, article_id: int, canonical_text: str) -> None:
    """Index one stored article (inside the caller's transaction)."""
    body = index_text(canonical_text)
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "INSERT INTO article_index (article_id, body) "
                "VALUES (:id, to_tsvector('simple', :body))"
            ),
            {"id": article_id, "body": body},
        )
    else:
        conn.execute(
            text("INSERT INTO article_index (rowid, body) VALUES (:id, :body)"),
            {"id": article_id, "body": body},
        )


def delete_index(conn: Connection, article_ids: Sequence[int]) -> None:
    """Forget deleted articles (PostgreSQL's foreign key does it by itself)."""
    if conn.dialect.name == "postgresql" or not article_ids:
        return
    for i in range(0, len(article_ids), 500):
        chunk = list(article_ids[i : i + 500])
        marks = ", ".join(f":i{n}" for n in range(len(chunk)))
        conn.execute(
            text(f"DELETE FROM article_index WHERE rowid IN ({marks})"),
            {f"i{n}": v for n, v in enumerate(chunk)},
        )


def query_watch(query: str) -> Watch:
    """The watch a search query means; :class:`QuerySyntaxError` names the column."""
    compile_query(query)  # the syntax errors, with their column, before anything else
    try:
        return parse_watch("search", {"query": query})
    except ConfigError as exc:  # pragma: no cover - compile_query refused it first
        raise QuerySyntaxError(str(exc), 1) from None


def _phrase_tokens(phrase: str) -> list[str]:
    return _TOKEN.findall(fold(phrase))


def candidate_query(query: str, dialect: str) -> str | None:
    """The full-text query that finds a superset of ``query``'s matches, in ``dialect``'s
    syntax (FTS5 or ``to_tsquery``); ``None`` when no term has a syllable to look up."""
    rule = compile_query(query)
    groups: list[Sequence[str]] = [rule.any, *[(p,) for p in rule.all]]
    if rule.near_any:
        groups.append(rule.near_any)
    clauses: list[str] = []
    for group in groups:
        phrases = [_phrase_tokens(p) for p in group]
        if not phrases or any(not tokens for tokens in phrases):
            continue  # a phrase the index cannot see: this group cannot narrow the search
        if dialect == "postgresql":
            alternatives = ["(" + " <-> ".join(tokens) + ")" for tokens in phrases]
            clauses.append("(" + " | ".join(alternatives) + ")")
        else:
            alternatives = ['"' + " ".join(tokens) + '"' for tokens in phrases]
            clauses.append("(" + " OR ".join(alternatives) + ")")
    if not clauses:
        return None
    return (" & " if dialect == "postgresql" else " AND ").join(clauses)


@dataclass(frozen=True)
class Found:
    """One stored article that matches a search, with the hits that make it match."""

    id: int
    url: str
    title: str
    source: str
    published: datetime | None
    fetched_at: datetime
    match: WatchMatch

    @property
    def snippet(self) -> str:
        return self.match.hits[0].snippet if self.match.hits else ""

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "url": self.url,
            "title": self.title,
            "source": self.source,
            "published": self.published.isoformat() if self.published else None,
            "fetched_at": self.fetched_at.isoformat(),
            "snippet": self.snippet,
            "hits": [{"term": h.term, "text": h.text, "start": h.start} for h in self.match.hits],
        }


def title_length(title: str, canonical_text: str) -> int:
    """Where the title ends in a stored article's text (the text starts with it)."""
    head = canonical_text.partition("\n")[0]
    return len(head) if title and head else 0


def _candidates(
    dialect: str,
    fts: str | None,
    *,
    since: datetime | None,
    until: datetime | None,
    sources: Sequence[str],
) -> Select[Any]:
    when = func.coalesce(articles.c.published, articles.c.fetched_at)
    stmt = select(
        articles.c.id,
        articles.c.url,
        articles.c.title,
        articles.c.source,
        articles.c.published,
        articles.c.fetched_at,
        articles.c.text,
    )
    if fts is not None:
        if dialect == "postgresql":
            matching = text(
                "SELECT article_id FROM article_index WHERE body @@ to_tsquery('simple', :fts)"
            )
        else:
            matching = text("SELECT rowid FROM article_index WHERE article_index MATCH :fts")
        ids_col = column("article_id" if dialect == "postgresql" else "rowid", Integer)
        stmt = stmt.where(articles.c.id.in_(matching.columns(ids_col))).params(fts=fts)
    if since is not None:
        stmt = stmt.where(when >= since)
    if until is not None:
        stmt = stmt.where(when < until)
    if sources:
        stmt = stmt.where(articles.c.source.in_(list(sources)))
    return stmt.order_by(when.desc(), articles.c.id.desc())


def search(
    conn: Connection,
    query: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Sequence[str] = (),
    limit: int = 50,
    use_index: bool = True,
) -> list[Found]:
    """Stored articles matching ``query``, newest first (at most ``limit``).

    ``use_index=False`` verifies every stored text with the matcher: the slow, obviously
    right answer the benchmark and the tests compare the index against.
    """
    watch = query_watch(query)
    matcher = Matcher.compile([watch])
    fts = candidate_query(query, conn.dialect.name) if use_index else None
    stmt = _candidates(conn.dialect.name, fts, since=since, until=until, sources=sources)
    found: list[Found] = []
    for row in _stream(conn, stmt):
        matches = matcher.match(row.text, title_length=title_length(row.title, row.text))
        if matches:
            found.append(
                Found(
                    id=row.id,
                    url=row.url,
                    title=row.title,
                    source=row.source,
                    published=row.published,
                    fetched_at=row.fetched_at,
                    match=matches[0],
                )
            )
            if len(found) >= limit:
                break
    return found


def _stream(conn: Connection, stmt: Select[Any]) -> Iterator[Row[Any]]:
    # Batches: a query that matches in the newest articles reads only those.
    result = conn.execution_options(yield_per=_BATCH).execute(stmt)
    try:
        yield from result
    finally:
        result.close()
