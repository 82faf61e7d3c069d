"""The outbox queries: claim due work under a lease, record outcomes, digests, notices.

Every function is one short transaction; nothing here does network I/O, so the SQLite
write lock is never held while a receiver is slow.

A *job* is one message to send on one channel: a single alert delivery, a digest (several
delivery rows of one channel that share a stable id and are updated together) or an
operator notice. Rows are ``pending`` (never tried), ``retrying``, ``delivered`` or
``dead``. A claimed row keeps its status and gets ``lease_until``; a finish only applies
while that exact lease is still held, so a dispatcher that outlived its lease cannot
overwrite the outcome of the one that took over. Attempts are counted when an outcome is
recorded, not at claim time: a send interrupted by a crash is retried when its lease
expires without spending a step of the retry schedule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Table, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from pipelines.deliver.render import Hit, Item, Message, StoryRef
from pipelines.store.database import Store
from pipelines.store.schema import (
    alerts,
    articles,
    deliveries,
    delivery_attempts,
    digest_members,
    digests,
    hits,
    notice_deliveries,
    notices,
)
from pipelines.store.search import title_length
from pipelines.store.story_queries import alert_story

__all__ = [
    "ACTIVE",
    "MAX_INTERRUPTED",
    "Job",
    "claim",
    "due_by_channel",
    "enqueue_notice",
    "finish",
    "lease_free",
    "load_message",
]

ACTIVE = ("pending", "retrying")
MAX_INTERRUPTED = 10
Source = Literal["delivery", "notice"]


@dataclass(frozen=True)
class Job:
    """One claimed message: the rows it covers and the lease that holds them."""

    source: Source
    ids: tuple[int, ...]
    channel: str
    message_id: str
    attempts: int
    lease_until: datetime
    digest_reason: str = ""

    @property
    def kind(self) -> Literal["alert", "digest", "notice"]:
        if self.source == "notice":
            return "notice"
        return "digest" if self.digest_reason else "alert"


def _table(source: Source) -> Table:
    return deliveries if source == "delivery" else notice_deliveries


def lease_free(table: Table, now: datetime) -> Any:
    return or_(table.c.lease_until.is_(None), table.c.lease_until <= now)


def _due(table: Table, now: datetime) -> Any:
    return and_(table.c.status.in_(ACTIVE), table.c.next_attempt <= now, lease_free(table, now))


# -- reading what is due ---------------------------------------------------------------------


def due_by_channel(store: Store, now: datetime) -> dict[str, int]:
    """How many rows (deliveries and notices) are due now, per channel."""
    counts: dict[str, int] = {}
    with store.engine.connect() as conn:
        for table in (deliveries, notice_deliveries):
            rows = conn.execute(
                select(table.c.channel, func.count())
                .where(_due(table, now))
                .group_by(table.c.channel)
            )
            for channel, n in rows:
                counts[channel] = counts.get(channel, 0) + int(n)
    return counts


def claim(
    store: Store,
    channel: str,
    limit: int,
    now: datetime,
    lease: float,
    *,
    exclude: set[str] | None = None,
    held: Sequence[str] = (),
) -> list[Job]:
    """Claim up to ``limit`` due jobs of one channel (notices first, then oldest due).

    ``exclude``: message ids already tried in this round; ``held``: watches sent as
    scheduled digests, whose alerts are only ever claimed inside a digest.
    """
    exclude = set() if exclude is None else exclude
    lease_until = now + timedelta(seconds=lease)
    jobs: list[Job] = []
    sources: tuple[Source, ...] = ("notice", "delivery")
    with store.begin() as conn:
        for source in sources:
            table = _table(source)
            query = (
                select(table.c.id, table.c.message_id, table.c.attempts, table.c.lease_until)
                .where(_due(table, now), table.c.channel == channel)
                .order_by(table.c.next_attempt, table.c.id)
                .limit(limit * 4 + len(exclude))
            )
            if source == "delivery" and held:
                query = query.join(alerts, alerts.c.id == deliveries.c.alert_id).where(
                    or_(
                        alerts.c.watch.not_in(list(held)),
                        deliveries.c.id.in_(select(digest_members.c.delivery_id)),
                    )
                )
            if conn.dialect.name == "postgresql":
                # Rows another dispatcher is claiming right now are skipped, not waited
                # for: several dispatchers on several machines never claim the same one.
                query = query.with_for_update(skip_locked=True, of=table)
            for row_id, message_id, attempts, expired in conn.execute(query).all():
                if len(jobs) >= limit:
                    return jobs
                job = _claim_one(
                    conn, source, row_id, message_id, attempts, channel, now, lease_until, exclude
                )
                if (
                    job is not None
                    and expired is not None
                    and _interrupted_too_often(conn, job, now)
                ):
                    continue
                if job is not None:
                    jobs.append(job)
                    exclude.add(job.message_id)
    return jobs


def _claim_one(
    conn: Connection,
    source: Source,
    row_id: int,
    message_id: str,
    attempts: int,
    channel: str,
    now: datetime,
    lease_until: datetime,
    exclude: set[str],
) -> Job | None:
    table = _table(source)
    ids: tuple[int, ...] = (row_id,)
    reason = ""
    if source == "delivery":
        digest = conn.execute(
            select(digests.c.id, digests.c.message_id, digests.c.reason)
            .join(digest_members, digest_members.c.digest_id == digests.c.id)
            .where(digest_members.c.delivery_id == row_id)
        ).first()
        if digest is not None:
            message_id, reason = digest.message_id, digest.reason
            ids = tuple(
                conn.execute(
                    select(digest_members.c.delivery_id)
                    .where(digest_members.c.digest_id == digest.id)
                    .order_by(digest_members.c.delivery_id)
                ).scalars()
            )
    if message_id in exclude:
        return None
    claimed = conn.execute(
        update(table)
        .where(table.c.id.in_(ids), lease_free(table, now), table.c.status.in_(ACTIVE))
        .values(lease_until=lease_until)
    ).rowcount
    if claimed != len(ids):
        # Someone else holds part of it: give back what we took, try again next round.
        conn.execute(
            update(table)
            .where(table.c.id.in_(ids), table.c.lease_until == lease_until)
            .values(lease_until=None)
        )
        return None
    return Job(source, ids, channel, message_id, attempts, lease_until, reason)


def _interrupted_too_often(conn: Connection, job: Job, now: datetime) -> bool:
    """Log a send interrupted by a crash (its lease expired); after MAX_INTERRUPTED in a row
    the job is dead, so a message that crashes the dispatcher cannot block its channel."""
    conn.execute(
        insert(delivery_attempts).values(
            channel=job.channel,
            message_id=job.message_id,
            started_at=now,
            finished_at=now,
            outcome="interrupted",
            detail="the previous send was interrupted (lease expired)",
        )
    )
    recent = (
        conn.execute(
            select(delivery_attempts.c.outcome)
            .where(delivery_attempts.c.message_id == job.message_id)
            .order_by(delivery_attempts.c.id.desc())
            .limit(MAX_INTERRUPTED)
        )
        .scalars()
        .all()
    )
    if len(recent) < MAX_INTERRUPTED or any(o != "interrupted" for o in recent):
        return False
    table = _table(job.source)
    conn.execute(
        update(table)
        .where(table.c.id.in_(job.ids))
        .values(
            status="dead",
            lease_until=None,
            last_error=f"the send was interrupted {MAX_INTERRUPTED} times in a row "
            "(the dispatcher died while sending it; see its log)",
        )
    )
    return True


# -- recording an outcome --------------------------------------------------------------------


def finish(
    store: Store,
    job: Job,
    *,
    outcome: Literal["delivered", "retrying", "dead"],
    now: datetime,
    started: datetime,
    next_attempt: datetime | None = None,
    status: int | None = None,
    detail: str = "",
) -> bool:
    """Record one attempt and move the job's rows on; False if the lease was lost meanwhile."""
    table = _table(job.source)
    values: dict[str, Any] = {"status": outcome, "attempts": job.attempts + 1, "lease_until": None}
    if outcome == "delivered":
        values.update(delivered_at=now, last_error=None)
    else:
        values["last_error"] = detail[:500] or None
    if outcome == "retrying" and next_attempt is not None:
        values["next_attempt"] = next_attempt
    with store.begin() as conn:
        updated = conn.execute(
            update(table)
            .where(table.c.id.in_(job.ids), table.c.lease_until == job.lease_until)
            .values(**values)
        ).rowcount
        conn.execute(
            insert(delivery_attempts).values(
                channel=job.channel,
                message_id=job.message_id,
                started_at=started,
                finished_at=now,
                outcome=outcome if updated else "lost-lease",
                status=status,
                detail=detail[:500] or None,
            )
        )
    return bool(updated)


# -- building the message --------------------------------------------------------------------


def load_message(store: Store, job: Job, timezone: str, language: str = "vi") -> Message:
    """The message a job sends, read fresh from the store (titles, hits, snippets)."""
    with store.engine.connect() as conn:
        if job.source == "notice":
            row = conn.execute(
                select(notices.c.title, notices.c.text)
                .join(notice_deliveries, notice_deliveries.c.notice_id == notices.c.id)
                .where(notice_deliveries.c.id == job.ids[0])
            ).one()
            return Message(
                "notice",
                job.message_id,
                title=row.title,
                text=row.text,
                timezone=timezone,
                language=language,
            )
        items = _items(conn, job.ids)
    kind: Literal["alert", "digest"] = "digest" if job.digest_reason else "alert"
    return Message(
        kind,
        job.message_id,
        items=items,
        reason=job.digest_reason,
        timezone=timezone,
        language=language,
    )


def _items(conn: Connection, delivery_ids: Sequence[int]) -> tuple[Item, ...]:
    rows = conn.execute(
        select(
            deliveries.c.message_id,
            deliveries.c.channel,
            alerts.c.id.label("alert_id"),
            alerts.c.watch,
            alerts.c.label,
            alerts.c.article_id,
            articles.c.url,
            articles.c.title,
            articles.c.source,
            articles.c.published,
            # the stored text starts with the headline's line (hit offsets count from it)
            func.substr(articles.c.text, 1, 1000).label("head"),
        )
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .join(articles, articles.c.id == alerts.c.article_id)
        .where(deliveries.c.id.in_(delivery_ids))
        .order_by(alerts.c.created_at, deliveries.c.id)
    ).all()
    items = []
    for row in rows:
        hit_rows = conn.execute(
            select(hits.c.term, hits.c.text, hits.c.start, hits.c.end, hits.c.snippet)
            .where(hits.c.article_id == row.article_id, hits.c.watch == row.watch)
            .order_by(hits.c.start)
        ).all()
        snippet = _snippet(hit_rows, title_length(row.title, row.head))
        story = alert_story(conn, row.alert_id, row.channel)
        items.append(
            Item(
                watch=row.watch,
                label=row.label,
                url=row.url,
                title=row.title,
                source=row.source,
                published=row.published,
                snippet=snippet,
                message_id=row.message_id,
                hits=tuple(Hit(h.term, h.text, h.start, h.end) for h in hit_rows),
                story=StoryRef(
                    story.key,
                    story.first_seen,
                    story.articles,
                    story.outlets,
                    story.update,
                    story.first_message_id,
                )
                if story
                else None,
            )
        )
    return tuple(items)


# -- notices -------------------------------------------------------------------------------


def enqueue_notice(
    store: Store, key: str, title: str, text: str, channels: Sequence[str], now: datetime
) -> bool:
    """Queue an operator notice once per ``key``; False when that key was already queued."""
    try:
        with store.begin() as conn:
            notice_id = conn.execute(
                insert(notices).values(key=key, title=title, text=text, created_at=now)
            ).inserted_primary_key
            assert notice_id is not None
            for channel in dict.fromkeys(channels):
                digest = hashlib.sha256(f"notice\n{key}\n{channel}".encode()).hexdigest()
                conn.execute(
                    insert(notice_deliveries).values(
                        notice_id=notice_id[0],
                        channel=channel,
                        status="pending",
                        attempts=0,
                        next_attempt=now,
                        message_id=f"nw_{digest[:32]}",
                        created_at=now,
                    )
                )
    except IntegrityError:
        return False
    return True


def _snippet(hit_rows: Sequence[Any], title_length: int) -> str:
    """The passage an alert quotes: around its first hit after the headline when there is
    one (the message shows the headline already), else around the first hit."""
    for row in hit_rows:
        if row.start >= title_length:
            return str(row.snippet)
    return str(hit_rows[0].snippet) if hit_rows else ""
