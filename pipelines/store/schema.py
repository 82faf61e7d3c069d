"""The database schema: SQLAlchemy Core tables (migrated by :mod:`pipelines.store.migrations`).

Times are stored as naive UTC and handed out as aware UTC datetimes (:class:`UTCDateTime`),
because SQLite has no time zone type and PostgreSQL's would otherwise differ. Uniqueness
lives here, in the database: ``alerts`` is unique on (watch, article) and ``deliveries`` on
(alert, channel), so "never alert twice" survives restarts and crashes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = [
    "UTCDateTime",
    "alerts",
    "articles",
    "channel_leases",
    "channel_state",
    "deliveries",
    "delivery_attempts",
    "digest_members",
    "digests",
    "hits",
    "http_cache",
    "metadata",
    "notice_deliveries",
    "notices",
    "runs",
    "schema_version",
    "seen_urls",
    "sources",
    "stories",
    "story_alerts",
    "story_articles",
    "story_bands",
    "story_outlets",
    "utcnow",
    "watch_versions",
]


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", UTCDateTime, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("last_run_at", UTCDateTime),
    Column("last_status", String(20)),
    Column("last_success_at", UTCDateTime),
    Column("last_new_at", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    # Operator alarm currently raised for this source ("stale", "failing") or NULL.
    Column("alarm", String(20)),
)

# Conditional-GET validators per feed/sitemap/listing URL.
http_cache = Table(
    "http_cache",
    metadata,
    Column("url", Text, primary_key=True),
    Column("source", String(100), nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("checked_at", UTCDateTime, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False, index=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # ok | degraded | failed | timeout | crashed | stopped | running
    Column("status", String(20), nullable=False),
    Column("requests", Integer, nullable=False, default=0),
    Column("fetched", Integer, nullable=False, default=0),
    Column("new_articles", Integer, nullable=False, default=0),
    Column("alerts", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("bytes", Integer, nullable=False, default=0),
    Column("detail", Text),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False, unique=True),
    Column("source", String(100), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("published", UTCDateTime),
    Column("author", Text),
    Column("text", Text, nullable=False),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("flags", Text, nullable=False, default=""),
)

# Every article URL ever requested (before canonicalisation by <link rel=canonical>), so a
# later round skips it without a request; article_id is NULL for pages that were not kept.
seen_urls = Table(
    "seen_urls",
    metadata,
    Column("url", Text, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("seen_at", UTCDateTime, nullable=False),
)

hits = Table(
    "hits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("watch", String(200), nullable=False),
    Column("term", Text, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("snippet", Text, nullable=False),
    Column("flags", Text, nullable=False, default=""),
    Index("ix_hits_article_watch", "article_id", "watch"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("watch", String(200), nullable=False),
    Column("label", Text, nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("watch", "article_id", name="uq_alert_watch_article"),
)


# -- stories: the same news carried by several outlets (pipelines/stories) ------------------

stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # the public id (payloads, `newswatch stories`): st_ + a hash of the first article's URL
    Column("key", String(40), nullable=False, unique=True),
    Column("first_article_id", Integer, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False, index=True),
    Column("articles", Integer, nullable=False, default=1),
)

# Every stored article's place in a story, with its fingerprint (so the story index
# survives restarts and is shared by crawl processes) and why it joined.
story_articles = Table(
    "story_articles",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    # the clock of the time window: published, or fetched when the page gave no date
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("source", String(100), nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("numbers", Text, nullable=False, default=""),
    Column("nearest_article_id", Integer),
    Column("similarity", Float),
    Column("reason", Text, nullable=False),
    Index("ix_story_articles_story", "story_id", "at"),
)

# The LSH band keys of the articles inside the time window (older ones are pruned). One
# B-tree and nothing else: no rowid (SQLite), no foreign key and no index on article_id,
# because every stored article adds 64 rows and each extra tree would cost a write per row;
# pruning by article is a daily scan instead (pipelines/store/stories.py: prune_bands).
story_bands = Table(
    "story_bands",
    metadata,
    Column("band", BigInteger, primary_key=True, autoincrement=False),
    Column("article_id", Integer, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)

# The alert of a (watch, story): its primary key is what makes a story alert once per watch.
story_alerts = Table(
    "story_alerts",
    metadata,
    Column("watch", String(200), primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
)

# The outlets a watch has seen in a story; a new one may send a `story.updated` event
# (alert_id: that event's alert, NULL when no channel of the watch asked for updates).
story_outlets = Table(
    "story_outlets",
    metadata,
    Column("watch", String(200), primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(100), primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="SET NULL")),
)


def _outbox_columns() -> list[Column[Any]]:
    """The columns every outbox table shares: one message to one channel, its retries."""
    return [
        Column("channel", String(100), nullable=False),
        # pending (due at next_attempt) | delivered | dead
        Column("status", String(20), nullable=False, default="pending"),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt", UTCDateTime, nullable=False),
        Column("lease_until", UTCDateTime),
        Column("last_error", Text),
        Column("message_id", String(80), nullable=False, unique=True),
        Column("created_at", UTCDateTime, nullable=False),
        Column("delivered_at", UTCDateTime),
    ]


deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    *_outbox_columns(),
    UniqueConstraint("alert_id", "channel", name="uq_delivery_alert_channel"),
    Index("ix_deliveries_due", "status", "next_attempt"),
)

# -- delivery side (owned by the dispatcher: pipelines/deliver/outbox.py) -------------------

# One row per send attempt: when, which outcome, the HTTP status or SMTP code, and the error
# *class* or a redacted reason -- never a URL, token or password.
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(100), nullable=False, index=True),
    # the stable id sent (a delivery's, a digest's or a notice's message_id)
    Column("message_id", String(80), nullable=False, index=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    # delivered | retry | dead | disabled
    Column("outcome", String(20), nullable=False),
    Column("status", Integer),
    Column("detail", Text),
)

# Per-channel state that must survive a restart: disabled (HTTP 410), circuit breaker,
# a receiver-imposed pause (429 Retry-After), last success.
channel_state = Table(
    "channel_state",
    metadata,
    Column("channel", String(100), primary_key=True),
    Column("disabled_at", UTCDateTime),
    Column("disabled_reason", Text),
    Column("failures", Integer, nullable=False, default=0),
    Column("open_until", UTCDateTime),
    # the breaker's current cooldown, in milliseconds (doubles while the receiver stays down)
    Column("cooldown", Integer, nullable=False, default=0),
    Column("paused_until", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_failure_at", UTCDateTime),
    Column("last_error", Text),
)

# A digest groups deliveries of one channel into one message; membership is written before
# the first send so that every retry (and a resend after a crash) carries the same id.
digests = Table(
    "digests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(80), nullable=False, unique=True),
    Column("channel", String(100), nullable=False),
    # burst | hourly | daily@HH:MM
    Column("reason", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

digest_members = Table(
    "digest_members",
    metadata,
    Column(
        "delivery_id", Integer, ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "digest_id",
        Integer,
        ForeignKey("digests.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)

# Operator alarms (a source went stale, a channel was disabled), idempotent on `key`.
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

notice_deliveries = Table(
    "notice_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", Integer, ForeignKey("notices.id", ondelete="CASCADE"), nullable=False),
    *_outbox_columns(),
    UniqueConstraint("notice_id", "channel", name="uq_notice_delivery_channel"),
    Index("ix_notice_deliveries_due", "status", "next_attempt"),
)

# Which dispatcher owns a channel right now: one owner at a time, so "one send in flight per
# channel" and its rate limit hold across processes (the service and `newswatch dispatch`).
channel_leases = Table(
    "channel_leases",
    metadata,
    Column("channel", String(100), primary_key=True),
    Column("owner", String(80), nullable=False),
    Column("until", UTCDateTime, nullable=False),
)

# Each watch's rule as the service last loaded it (a fingerprint of its terms and options):
# a watch that is new or changed since then only sees articles from then on, and the
# service says how to backfill it.
watch_versions = Table(
    "watch_versions",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)
