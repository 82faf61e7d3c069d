"""Backfill: run watches over the stored articles, as if they had been there all along.

A new or changed watch only sees articles crawled from then on; a backfill shows what it
would have alerted in the archive, and with ``send`` queues those alerts through the
normal outbox. The alerts table's (watch, article) uniqueness still decides: an alert that
exists -- from a crawl or from an earlier backfill -- is never made again. Copies of one
story alert once per watch, as they do live: the story's earliest matching article would
alert, and its other copies are listed as grouped with it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import delete, func, insert, select

from pipelines.match.matcher import Matcher, WatchMatch
from pipelines.match.watch import Watch
from pipelines.store.articles import MatchRecord, record_alert
from pipelines.store.database import Store
from pipelines.store.schema import (
    alerts,
    articles,
    stories,
    story_alerts,
    story_articles,
    utcnow,
    watch_versions,
)
from pipelines.store.search import title_length

__all__ = [
    "BackfillReport",
    "Backfilled",
    "backfill",
    "backfill_hint",
    "note_watch_changes",
    "watch_changes",
]

log = logging.getLogger(__name__)

_BATCH = 200


@dataclass(frozen=True)
class Backfilled:
    """One (watch, stored article) pair that matches."""

    watch: str
    article_id: int
    url: str
    title: str
    source: str
    published: datetime | None
    snippet: str
    #: the alert existed before this backfill (nothing was or would be queued)
    exists: bool
    #: the public id of the article's story (``None`` for an article without one)
    story: str | None = None
    #: another article of its story has (or gets from this backfill) the watch's alert
    grouped: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "watch": self.watch,
            "url": self.url,
            "title": self.title,
            "source": self.source,
            "published": self.published.isoformat() if self.published else None,
            "snippet": self.snippet,
            "alert_exists": self.exists,
            "story": self.story,
            "grouped": self.grouped,
        }


@dataclass
class BackfillReport:
    """What a backfill found (newest first) and how many articles it read."""

    found: list[Backfilled] = field(default_factory=list)
    scanned: int = 0

    @property
    def new(self) -> list[Backfilled]:
        return [f for f in self.found if not f.exists and not f.grouped]

    @property
    def grouped(self) -> int:
        return sum(1 for f in self.found if f.grouped)

    @property
    def existing(self) -> int:
        return sum(1 for f in self.found if f.exists)


def backfill(
    store: Store,
    watches: Sequence[Watch],
    notify: Mapping[str, Sequence[str]],
    *,
    since: datetime | None = None,
    send: bool = False,
) -> BackfillReport:
    """Match ``watches`` against the articles stored since ``since``; with ``send``, alert
    the new matches on the channels ``notify`` names for each watch."""
    report = BackfillReport()
    if not watches:
        return report
    matcher = Matcher.compile(watches)
    names = [w.name for w in watches]
    when = func.coalesce(articles.c.published, articles.c.fetched_at)
    stmt = (
        select(
            articles.c.id,
            articles.c.url,
            articles.c.title,
            articles.c.source,
            articles.c.published,
            articles.c.text,
            story_articles.c.story_id,
            stories.c.key.label("story"),
        )
        .outerjoin(story_articles, story_articles.c.article_id == articles.c.id)
        .outerjoin(stories, stories.c.id == story_articles.c.story_id)
        # Articles kept for a reason (a legacy encoding, not news) never alert live either.
        .where(articles.c.flags == "")
        .order_by(when.desc(), articles.c.id.desc())
    )
    if since is not None:
        stmt = stmt.where(when >= since)
    matched: list[tuple[WatchMatch, int | None]] = []
    with store.engine.connect() as conn:
        existing: set[tuple[str, int]] = {
            (watch, article_id)
            for watch, article_id in conn.execute(
                select(alerts.c.watch, alerts.c.article_id).where(alerts.c.watch.in_(names))
            )
        }
        alerted: set[tuple[str, int]] = {
            (watch, story_id)
            for watch, story_id in conn.execute(
                select(story_alerts.c.watch, story_alerts.c.story_id).where(
                    story_alerts.c.watch.in_(names)
                )
            )
        }
        rows = conn.execution_options(yield_per=_BATCH).execute(stmt)
        for row in rows:
            report.scanned += 1
            for match in matcher.match(row.text, title_length=title_length(row.title, row.text)):
                report.found.append(
                    Backfilled(
                        watch=match.watch.name,
                        article_id=row.id,
                        url=row.url,
                        title=row.title,
                        source=row.source,
                        published=row.published,
                        snippet=match.hits[0].snippet if match.hits else "",
                        exists=(match.watch.name, row.id) in existing,
                        story=row.story,
                    )
                )
                matched.append((match, row.story_id))
    # Oldest first, as the crawl met them: a story's first matching article alerts.
    for n in reversed(range(len(report.found))):
        found, (match, story_id) = report.found[n], matched[n]
        if story_id is not None:
            if (found.watch, story_id) in alerted:
                if not found.exists:
                    report.found[n] = replace(found, grouped=True)
                continue
            alerted.add((found.watch, story_id))
        if send and not found.exists:
            record = MatchRecord.of(match, notify.get(found.watch, ()))
            with store.begin() as writer:
                made = record_alert(writer, found.url, found.article_id, record, utcnow())
            if not made:  # a crawl alerted it (or its story) meanwhile
                report.found[n] = replace(found, exists=True)
    return report


def watch_changes(store: Store, watches: Sequence[Watch]) -> dict[str, str]:
    """Watches that are ``new`` or ``changed`` since the service last loaded them (empty
    when it never ran on this database: then there is no "since")."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(watch_versions.c.name, watch_versions.c.fingerprint))
        known = {name: fingerprint for name, fingerprint in rows}
    if not known:
        return {}
    out: dict[str, str] = {}
    for watch in watches:
        before = known.get(watch.name)
        if before is None:
            out[watch.name] = "new"
        elif before != watch.fingerprint:
            out[watch.name] = "changed"
    return out


def backfill_hint(name: str, state: str) -> str:
    """How to backfill one new or changed watch, in one line."""
    return (
        f"watch {name} is {state}: it sees articles from now on; "
        f"`newswatch backfill --watch {name} --since 30d` lists what it would have alerted "
        "in the archive (add --send to alert them)"
    )


def note_watch_changes(store: Store, watches: Sequence[Watch]) -> None:
    """Log a backfill hint per new or changed watch, then remember the watches as loaded.
    Never raises: a hint is not worth stopping the service for."""
    try:
        for name, state in watch_changes(store, watches).items():
            log.info("%s", backfill_hint(name, state))
        now = utcnow()
        with store.begin() as conn:
            conn.execute(delete(watch_versions))
            if watches:
                conn.execute(
                    insert(watch_versions),
                    [
                        {"name": w.name, "fingerprint": w.fingerprint, "seen_at": now}
                        for w in watches
                    ],
                )
    except Exception:
        log.exception("could not compare the watches with the ones loaded last time")
