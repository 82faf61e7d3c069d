"""Stories: every article's story, its fingerprint and LSH band keys; alerts per story.

Revision ID: 0004_stories
Revises: 0003_watch_versions

The tables are written out here as they are at this revision. The articles already stored
are put into stories in the order they were published (or fetched), exactly as the crawl
would have done; the first alert of each (watch, story) becomes that story's alert, so a
copy crawled after the upgrade does not alert again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_stories"
down_revision = "0003_watch_versions"
branch_labels = None
depends_on = None

_time = sa.DateTime  # naive UTC, as pipelines.store.schema.UTCDateTime stores it


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column(
            "first_article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="SET NULL")
        ),
        sa.Column("first_seen", _time, nullable=False),
        sa.Column("last_seen", _time, nullable=False, index=True),
        sa.Column("articles", sa.Integer, nullable=False),
    )
    op.create_table(
        "story_articles",
        sa.Column(
            "article_id",
            sa.Integer,
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "story_id", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", _time, nullable=False, index=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("numbers", sa.Text, nullable=False),
        sa.Column("nearest_article_id", sa.Integer),
        sa.Column("similarity", sa.Float),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Index("ix_story_articles_story", "story_id", "at"),
    )
    op.create_table(
        "story_bands",
        sa.Column("band", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("article_id", sa.Integer, primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "story_alerts",
        sa.Column("watch", sa.String(200), primary_key=True),
        sa.Column(
            "story_id",
            sa.Integer,
            sa.ForeignKey("stories.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_table(
        "story_outlets",
        sa.Column("watch", sa.String(200), primary_key=True),
        sa.Column(
            "story_id",
            sa.Integer,
            sa.ForeignKey("stories.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="SET NULL")),
    )
    # Imported here, not at the top: only an upgrade that has stored articles needs them.
    from pipelines.store.stories import adopt_stored_articles

    adopt_stored_articles(op.get_bind())


def downgrade() -> None:
    for table in ("story_outlets", "story_alerts", "story_bands", "story_articles", "stories"):
        op.drop_table(table)
