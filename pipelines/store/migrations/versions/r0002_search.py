"""The archive's full-text index (``newswatch search``), filled for the stored articles.

Revision ID: 0002_search
Revises: 0001_baseline

SQLite: an FTS5 table whose rowid is the article's id. PostgreSQL: a ``tsvector`` per
article (``simple`` configuration: no stemming, no stop words) under a GIN index, deleted
with its article. Both hold the text folded by the matcher (see
:mod:`pipelines.store.search`); if that folding ever changes, a new revision re-indexes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pipelines.store.search import write_index

revision = "0002_search"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.create_table(
            "article_index",
            sa.Column(
                "article_id",
                sa.Integer,
                sa.ForeignKey("articles.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("body", postgresql.TSVECTOR, nullable=False),
        )
        op.create_index("ix_article_index_body", "article_index", ["body"], postgresql_using="gin")
    else:
        # remove_diacritics 0: the text is folded already, and folding is ours to define.
        op.execute(
            "CREATE VIRTUAL TABLE article_index USING fts5(body, "
            "tokenize = 'unicode61 remove_diacritics 0')"
        )
    rows = bind.execute(sa.text("SELECT id, text FROM articles ORDER BY id"))
    for article_id, canonical in rows.fetchall():
        write_index(bind, article_id, canonical)


def downgrade() -> None:
    op.drop_table("article_index")
