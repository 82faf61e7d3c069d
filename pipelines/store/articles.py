"""Recording a cleaned article: the article row, its story, its hits, one alert per
matching watch and story and one delivery per channel, on a connection inside the caller's
transaction (the :class:`~pipelines.store.database.Store` opens it, so a batch commits at
once).

The unique constraints decide what is new: an article whose canonical URL is stored, or an
alert that exists for the (watch, story), is never made twice, whichever of two racing
crawls comes first. A later article of an alerted story keeps its hits and alerts nothing,
except a ``story.updated`` event for a new outlet on the channels that want one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from pipelines.errors import StoreError
from pipelines.match.matcher import WatchMatch
from pipelines.store.schema import (
    alerts,
    articles,
    deliveries,
    hits,
    seen_urls,
    story_alerts,
    story_articles,
    story_outlets,
    utcnow,
)
from pipelines.store.search import write_index
from pipelines.store.stories import assign_story, lock_stories
from pipelines.stories.fingerprint import Fingerprint, fingerprint

__all__ = [
    "UPDATE_GAP",
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


#: The least time between two ``story.updated`` events of one (watch, story) on one channel.
UPDATE_GAP = timedelta(minutes=10)


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
    """One watch that matched, with its hits and the channels it notifies (``updates``:
    those of them that also want a ``story.updated`` event per new outlet of a story)."""

    watch: str
    label: str
    hits: Sequence[HitRecord]
    channels: Sequence[str]
    updates: Sequence[str] = ()

    @classmethod
    def of(
        cls, match: WatchMatch, channels: Sequence[str], updates: Sequence[str] = ()
    ) -> MatchRecord:
        """What the store keeps of one watch the matcher found in an article."""
        hits = [
            HitRecord(h.term, h.start, h.end, h.text, h.snippet, tuple(h.flags)) for h in match.hits
        ]
        return cls(match.watch.name, match.watch.label, hits, tuple(channels), tuple(updates))


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
    fingerprint: Fingerprint | None = None  # computed from title and text when not given

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
    story: str | None = None  # the story's public id
    story_reason: str = ""  # why the article joined it (or started it)
    grouped: list[str] = field(default_factory=list)  # watches already alerted for the story


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
    lock_stories(conn)
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
    place = assign_story(
        conn,
        article_id,
        article.url,
        article.source,
        article.published or now,
        article.fingerprint or fingerprint(article.title, article.text),
    )
    result = RecordResult(
        article_id=article_id, stored=True, story=place.key, story_reason=place.decision.reason
    )
    for match in matches:
        _record_match(conn, article, article_id, match, place.story_id, now, result)
    return result


def record_alert(
    conn: Connection, article_url: str, article_id: int, match: MatchRecord, now: datetime
) -> bool:
    """Alert a stored article for one more watch (a backfill); False if that alert exists.

    Its deliveries carry the ids a live alert would have had, so a receiver can never be
    sent the same alert twice, whichever path made it.
    """
    placed = conn.execute(
        select(story_articles.c.story_id, story_articles.c.source).where(
            story_articles.c.article_id == article_id
        )
    ).first()
    source = placed.source if placed else ""
    stub = ArticleRecord(url=article_url, source=source, title="", text="")
    story_id = placed.story_id if placed else None
    result = RecordResult(article_id, True)
    try:
        with conn.begin_nested():
            _record_match(conn, stub, article_id, match, story_id, now, result)
    except IntegrityError:
        return False
    return match.watch not in result.grouped


def _record_match(
    conn: Connection,
    article: ArticleRecord,
    article_id: int,
    match: MatchRecord,
    story_id: int | None,
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
    if story_id is None:  # an article stored before stories existed (a backfill)
        _alert(conn, article, article_id, match, match.channels, now, result)
        return
    first = conn.execute(
        select(story_alerts.c.alert_id).where(
            story_alerts.c.watch == match.watch, story_alerts.c.story_id == story_id
        )
    ).first()
    if first is None:
        alert_id = _alert(conn, article, article_id, match, match.channels, now, result)
        conn.execute(
            insert(story_alerts).values(watch=match.watch, story_id=story_id, alert_id=alert_id)
        )
        _outlet(conn, match.watch, story_id, article.source, alert_id)
        return
    # The story has alerted this watch already: the hits are kept (search, "why"), and only
    # a new outlet may send a story.updated event, to the channels that asked for one.
    result.grouped.append(match.watch)
    seen = conn.execute(
        select(story_outlets.c.alert_id).where(
            story_outlets.c.watch == match.watch,
            story_outlets.c.story_id == story_id,
            story_outlets.c.source == article.source,
        )
    ).first()
    if seen is not None:
        return
    update_id = None
    if match.updates:
        due = {c: _update_due(conn, match.watch, story_id, c, now) for c in match.updates}
        update_id = _alert(conn, article, article_id, match, match.updates, now, result, due)
    _outlet(conn, match.watch, story_id, article.source, update_id)


def _update_due(
    conn: Connection, watch: str, story_id: int, channel: str, now: datetime
) -> datetime:
    # A story picked up by ten outlets within minutes is one update every UPDATE_GAP per
    # channel, not ten pings at once: each waits for the previous one's slot (none is dropped).
    last = conn.execute(
        select(func.max(deliveries.c.next_attempt))
        .join(story_outlets, story_outlets.c.alert_id == deliveries.c.alert_id)
        .where(
            story_outlets.c.watch == watch,
            story_outlets.c.story_id == story_id,
            deliveries.c.channel == channel,
        )
    ).scalar()
    return max(now, last + UPDATE_GAP) if last is not None else now


def _outlet(conn: Connection, watch: str, story_id: int, source: str, alert_id: int | None) -> None:
    conn.execute(
        insert(story_outlets).values(
            watch=watch, story_id=story_id, source=source, alert_id=alert_id
        )
    )


def _alert(
    conn: Connection,
    article: ArticleRecord,
    article_id: int,
    match: MatchRecord,
    channels: Sequence[str],
    now: datetime,
    result: RecordResult,
    due: Mapping[str, datetime] | None = None,
) -> int:
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
    for channel in dict.fromkeys(channels):
        conn.execute(
            insert(deliveries).values(
                alert_id=alert_id,
                channel=channel,
                status="pending",
                attempts=0,
                next_attempt=due[channel] if due else now,
                message_id=message_id_for(match.watch, article.url, channel),
                created_at=now,
            )
        )
        result.deliveries += 1
    return alert_id
