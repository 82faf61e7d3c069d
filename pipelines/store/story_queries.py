"""Reading stories back: the stories of a period (``newswatch stories``), which story an
article joined and why (``newswatch match`` / ``extract``), and the story of an alert as
the dispatcher renders it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from pipelines.store.schema import (
    alerts,
    articles,
    deliveries,
    stories,
    story_alerts,
    story_articles,
)
from pipelines.store.stories import candidates
from pipelines.stories.decide import Decision, decide
from pipelines.stories.fingerprint import Fingerprint

__all__ = [
    "AlertStory",
    "StoryArticle",
    "StorySummary",
    "alert_story",
    "article_story",
    "list_stories",
    "preview_story",
]


@dataclass(frozen=True)
class StoryArticle:
    """One article of a story, and why it is there."""

    article_id: int
    url: str
    title: str
    source: str
    at: datetime
    similarity: float | None
    nearest_url: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "title": self.title,
            "source": self.source,
            "at": self.at.isoformat(),
            "similarity": None if self.similarity is None else round(self.similarity, 3),
            "nearest": self.nearest_url,
            "reason": self.reason,
        }


@dataclass
class StorySummary:
    """A story with its outlets, first and last times, and the watches it alerted."""

    id: str
    first_seen: datetime
    last_seen: datetime
    articles: list[StoryArticle] = field(default_factory=list)
    watches: list[str] = field(default_factory=list)

    @property
    def outlets(self) -> list[str]:
        return list(dict.fromkeys(a.source for a in self.articles))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "outlets": self.outlets,
            "watches": self.watches,
            "articles": [a.to_json() for a in self.articles],
        }


def _members(conn: Connection, story_ids: list[int]) -> dict[int, list[StoryArticle]]:
    nearest = articles.alias("nearest")
    rows = conn.execute(
        select(
            story_articles.c.story_id,
            story_articles.c.article_id,
            articles.c.url,
            articles.c.title,
            story_articles.c.source,
            story_articles.c.at,
            story_articles.c.similarity,
            nearest.c.url.label("nearest_url"),
            story_articles.c.reason,
        )
        .join(articles, articles.c.id == story_articles.c.article_id)
        .outerjoin(nearest, nearest.c.id == story_articles.c.nearest_article_id)
        .where(story_articles.c.story_id.in_(story_ids))
        .order_by(story_articles.c.at, story_articles.c.article_id)
    ).all()
    out: dict[int, list[StoryArticle]] = {i: [] for i in story_ids}
    for row in rows:
        out[row.story_id].append(
            StoryArticle(
                row.article_id,
                row.url,
                row.title,
                row.source,
                row.at,
                row.similarity,
                row.nearest_url,
                row.reason,
            )
        )
    return out


def list_stories(
    conn: Connection,
    since: datetime | None = None,
    watches: list[str] | None = None,
    limit: int = 200,
) -> list[StorySummary]:
    """Stories seen since ``since`` (newest activity first); only those that alerted one
    of ``watches`` when given."""
    query = select(stories.c.id, stories.c.key, stories.c.first_seen, stories.c.last_seen)
    if since is not None:
        query = query.where(stories.c.last_seen >= since)
    if watches:
        alerted = select(story_alerts.c.story_id).where(story_alerts.c.watch.in_(watches))
        query = query.where(stories.c.id.in_(alerted))
    rows = conn.execute(query.order_by(stories.c.last_seen.desc()).limit(limit)).all()
    ids = [row.id for row in rows]
    members = _members(conn, ids)
    alerted_by: dict[int, list[str]] = {i: [] for i in ids}
    for alert in conn.execute(
        select(story_alerts.c.story_id, story_alerts.c.watch)
        .where(story_alerts.c.story_id.in_(ids))
        .order_by(story_alerts.c.watch)
    ):
        alerted_by[alert.story_id].append(alert.watch)
    return [
        StorySummary(row.key, row.first_seen, row.last_seen, members[row.id], alerted_by[row.id])
        for row in rows
    ]


def article_story(conn: Connection, url: str) -> tuple[str, StoryArticle] | None:
    """The story a stored article (by canonical URL) joined, and why; ``None`` if unknown."""
    row = conn.execute(
        select(story_articles.c.story_id, stories.c.key)
        .join(articles, articles.c.id == story_articles.c.article_id)
        .join(stories, stories.c.id == story_articles.c.story_id)
        .where(articles.c.url == url)
    ).first()
    if row is None:
        return None
    member = next(a for a in _members(conn, [row.story_id])[row.story_id] if a.url == url)
    return row.key, member


def preview_story(conn: Connection, fingerprint: Fingerprint, at: datetime) -> Decision:
    """Which story an article not stored yet would join now, and why (writes nothing)."""
    return decide(fingerprint, at, candidates(conn, fingerprint, at))


@dataclass(frozen=True)
class AlertStory:
    """The story of an alert as the dispatcher renders it."""

    key: str
    first_seen: datetime
    articles: int
    outlets: tuple[str, ...]
    update: bool  # a story.updated event rather than the story's first alert
    first_message_id: str  # the first alert's message id on the same channel, if any


def alert_story(conn: Connection, alert_id: int, channel: str) -> AlertStory | None:
    """The story of an alert's article (``None`` for articles stored before stories)."""
    row = conn.execute(
        select(
            stories.c.id,
            stories.c.key,
            stories.c.first_seen,
            stories.c.articles,
            alerts.c.watch,
        )
        .select_from(alerts)
        .join(story_articles, story_articles.c.article_id == alerts.c.article_id)
        .join(stories, stories.c.id == story_articles.c.story_id)
        .where(alerts.c.id == alert_id)
    ).first()
    if row is None:
        return None
    outlets = conn.execute(
        select(story_articles.c.source)
        .where(story_articles.c.story_id == row.id)
        .order_by(story_articles.c.at, story_articles.c.article_id)
    ).scalars()
    first = conn.execute(
        select(story_alerts.c.alert_id).where(
            story_alerts.c.watch == row.watch, story_alerts.c.story_id == row.id
        )
    ).scalar()
    first_message_id = ""
    if first is not None and first != alert_id:
        first_message_id = (
            conn.execute(
                select(deliveries.c.message_id).where(
                    deliveries.c.alert_id == first, deliveries.c.channel == channel
                )
            ).scalar()
            or ""
        )
    return AlertStory(
        row.key,
        row.first_seen,
        row.articles,
        tuple(dict.fromkeys(outlets)),
        first is not None and first != alert_id,
        first_message_id,
    )
