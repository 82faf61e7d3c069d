"""The schema of newswatch 0.1, and the take-over of a database made before Alembic.

Revision ID: 0001_baseline
Revises: (none)

The tables are written out here as they were in 0.1 (never imported from
:mod:`pipelines.store.schema`, which moves on). Only the missing ones are created, so a
database made by 0.1's own migrations (its history in ``schema_version``, at any of its
three versions) is completed and taken over in place, with every row kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

_time = sa.DateTime  # naive UTC, as pipelines.store.schema.UTCDateTime stores it


def _outbox() -> list[sa.Column[object]]:
    return [
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt", _time, nullable=False),
        sa.Column("lease_until", _time),
        sa.Column("last_error", sa.Text),
        sa.Column("message_id", sa.String(80), nullable=False, unique=True),
        sa.Column("created_at", _time, nullable=False),
        sa.Column("delivered_at", _time),
    ]


def _tables() -> sa.MetaData:
    m = sa.MetaData()
    sa.Table(
        "sources",
        m,
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("last_run_at", _time),
        sa.Column("last_status", sa.String(20)),
        sa.Column("last_success_at", _time),
        sa.Column("last_new_at", _time),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("alarm", sa.String(20)),
    )
    sa.Table(
        "http_cache",
        m,
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("body_hash", sa.String(64)),
        sa.Column("checked_at", _time, nullable=False),
    )
    sa.Table(
        "runs",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(100), nullable=False, index=True),
        sa.Column("started_at", _time, nullable=False),
        sa.Column("finished_at", _time),
        sa.Column("status", sa.String(20), nullable=False),
        *(
            sa.Column(name, sa.Integer, nullable=False)
            for name in ("requests", "fetched", "new_articles", "alerts", "errors", "bytes")
        ),
        sa.Column("detail", sa.Text),
    )
    sa.Table(
        "articles",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("source", sa.String(100), nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("published", _time),
        sa.Column("author", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False, index=True),
        sa.Column("fetched_at", _time, nullable=False),
        sa.Column("flags", sa.Text, nullable=False),
    )
    sa.Table(
        "seen_urls",
        m,
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="SET NULL")),
        sa.Column("seen_at", _time, nullable=False),
    )
    sa.Table(
        "hits",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "article_id",
            sa.Integer,
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("watch", sa.String(200), nullable=False),
        sa.Column("term", sa.Text, nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("snippet", sa.Text, nullable=False),
        sa.Column("flags", sa.Text, nullable=False),
        sa.Index("ix_hits_article_watch", "article_id", "watch"),
    )
    sa.Table(
        "alerts",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("watch", sa.String(200), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column(
            "article_id",
            sa.Integer,
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", _time, nullable=False),
        sa.UniqueConstraint("watch", "article_id", name="uq_alert_watch_article"),
    )
    sa.Table(
        "deliveries",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        *_outbox(),
        sa.UniqueConstraint("alert_id", "channel", name="uq_delivery_alert_channel"),
        sa.Index("ix_deliveries_due", "status", "next_attempt"),
    )
    sa.Table(
        "delivery_attempts",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(100), nullable=False, index=True),
        sa.Column("message_id", sa.String(80), nullable=False, index=True),
        sa.Column("started_at", _time, nullable=False),
        sa.Column("finished_at", _time, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("detail", sa.Text),
    )
    sa.Table(
        "channel_state",
        m,
        sa.Column("channel", sa.String(100), primary_key=True),
        sa.Column("disabled_at", _time),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("open_until", _time),
        sa.Column("cooldown", sa.Integer, nullable=False),
        sa.Column("paused_until", _time),
        sa.Column("last_success_at", _time),
        sa.Column("last_failure_at", _time),
        sa.Column("last_error", sa.Text),
    )
    sa.Table(
        "digests",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(80), nullable=False, unique=True),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("created_at", _time, nullable=False),
    )
    sa.Table(
        "digest_members",
        m,
        sa.Column(
            "delivery_id",
            sa.Integer,
            sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "digest_id",
            sa.Integer,
            sa.ForeignKey("digests.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
    )
    sa.Table(
        "notices",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", _time, nullable=False),
    )
    sa.Table(
        "notice_deliveries",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "notice_id",
            sa.Integer,
            sa.ForeignKey("notices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        *_outbox(),
        sa.UniqueConstraint("notice_id", "channel", name="uq_notice_delivery_channel"),
        sa.Index("ix_notice_deliveries_due", "status", "next_attempt"),
    )
    sa.Table(
        "channel_leases",
        m,
        sa.Column("channel", sa.String(100), primary_key=True),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("until", _time, nullable=False),
    )
    return m


def upgrade() -> None:
    bind = op.get_bind()
    _tables().create_all(bind, checkfirst=True)
    # 0.1 kept its own migration history; Alembic's alembic_version replaces it.
    if "schema_version" in sa.inspect(bind).get_table_names():
        op.drop_table("schema_version")


def downgrade() -> None:
    _tables().drop_all(op.get_bind())
