"""Recording a cleaned article: the article row, its hits, one alert per matching watch and
one delivery per channel, on a connection inside the caller's transaction (the
:class:`~pipelines.store.database.Store` opens it, so a batch commits at once).

The unique constraints decide what is new: an article whose canonical URL is stored, or an
alert that exists, is never made twice, whichever of two racing crawls comes first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from pipelines.errors import StoreError
from pipelines.store.schema import alerts, articles, deliveries, hits, seen_urls, utcnow
from pipelines.store.search import write_index

__all__ = [
    "ArticleRecord",
    "HitRecord",
    "MatchRecord",
    "RecordResult",
    "mark_seen",
    "message_id_for",
    "new_id",
    "record",
    "record_alert",
]


def message_id_for(watch: str, article_url: str, channel: str) -> str:
    """A stable id for one alert on one channel: the same on every retry and every restart.

    Contains no ``.`` (Standard Webhooks signs ``{id}.{timestamp}.{body}``).
    """
    digest = hashlib.sha256(f"{watch}\n{article_url}\n{channel}".encode()).hexdigest()
    return f"nw_{digest[:32]}"


@dataclass(frozen=True)
class HitRecord:
    """One verified hit of one watch term in an article's canonical text."""

    term: str
    start: int
    end: int
    text: str
    snippet: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchRecord:
    """One watch that matched, with its hits and the channels it notifies."""

    watch: str
    label: str
    hits: Sequence[HitRecord]
    channels: Sequence[str]


@dataclass(frozen=True)
class ArticleRecord:
    """A cleaned article ready to be stored (``text`` is the canonical text)."""

    url: str
    source: str
    title: str
    text: str
    published: datetime | None = None
    author: str | None = None
    flags: tuple[str, ...] = ()
    fetched_url: str | None = None

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()


@dataclass
class RecordResult:
    """What recording one article did."""

    article_id: int | None
    stored: bool
    alerts: int = 0
    deliveries: int = 0
    duplicate_of: str | None = None
    watches: list[str] = field(default_factory=list)


def new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT just created."""
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an integer key
        raise StoreError("the database returned no id for a new row")
    return int(key[0])


def mark_seen(conn: Connection, url: str, article_id: int | None) -> None:
    """Remember a requested URL, and the article it led to once known."""
    exists = conn.execute(select(seen_urls.c.url).where(seen_urls.c.url == url)).first()
    if exists is None:
        conn.execute(insert(seen_urls).values(url=url, article_id=article_id, seen_at=utcnow()))
    elif article_id is not None:
        conn.execute(update(seen_urls).where(seen_urls.c.url == url).values(article_id=article_id))


def record(
    conn: Connection,
    article: ArticleRecord,
    matches: Sequence[MatchRecord],
    now: datetime,
) -> RecordResult:
    """Store one article with its hits, alerts and deliveries on ``conn`` (inside the
    caller's transaction); an already stored canonical URL stores and alerts nothing."""
    existing = conn.execute(select(articles.c.id).where(articles.c.url == article.url)).scalar()
    if existing is not None:
        if article.fetched_url and article.fetched_url != article.url:
            mark_seen(conn, article.fetched_url, existing)
        return RecordResult(article_id=existing, stored=False, duplicate_of=article.url)
    try:
        with conn.begin_nested():
            article_id = new_id(
                conn.execute(
                    insert(articles).values(
                        url=article.url,
                        source=article.source,
                        title=article.title,
                        published=article.published,
                        author=article.author,
                        text=article.text,
                        content_hash=article.content_hash,
                        fetched_at=now,
                        flags=",".join(article.flags),
                    )
                )
            )
    except IntegrityError:
        return RecordResult(article_id=None, stored=False, duplicate_of=article.url)
    write_index(conn, article_id, article.text)
    mark_seen(conn, article.url, article_id)
    if article.fetched_url and article.fetched_url != article.url:
        mark_seen(conn, article.fetched_url, article_id)
    result = RecordResult(article_id=article_id, stored=True)
    for match in matches:
        _record_match(conn, article, article_id, match, now, result)
    return result


def record_alert(
    conn: Connection, article_url: str, article_id: int, match: MatchRecord, now: datetime
) -> bool:
    """Alert a stored article for one more watch (a backfill); False if that alert exists.

    Its deliveries carry the ids a live alert would have had, so a receiver can never be
    sent the same alert twice, whichever path made it.
    """
    stub = ArticleRecord(url=article_url, source="", title="", text="")
    try:
        with conn.begin_nested():
            _record_match(conn, stub, article_id, match, now, RecordResult(article_id, True))
    except IntegrityError:
        return False
    return True


def _record_match(
    conn: Connection,
    article: ArticleRecord,
    article_id: int,
    match: MatchRecord,
    now: datetime,
    result: RecordResult,
) -> None:
    if match.hits:
        conn.execute(
            insert(hits),
            [
                {
                    "article_id": article_id,
                    "watch": match.watch,
                    "term": h.term,
                    "start": h.start,
                    "end": h.end,
                    "text": h.text,
                    "snippet": h.snippet,
                    "flags": ",".join(h.flags),
                }
                for h in match.hits
            ],
        )
    alert_id = new_id(
        conn.execute(
            insert(alerts).values(
                watch=match.watch,
                label=match.label,
                article_id=article_id,
                created_at=now,
            )
        )
    )
    result.alerts += 1
    result.watches.append(match.watch)
    for channel in dict.fromkeys(match.channels):
        conn.execute(
            insert(deliveries).values(
                alert_id=alert_id,
                channel=channel,
                status="pending",
                attempts=0,
                next_attempt=now,
                message_id=message_id_for(match.watch, article.url, channel),
                created_at=now,
            )
        )
        result.deliveries += 1
