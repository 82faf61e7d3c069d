"""Versioned migrations of the store's schema, applied in order by :func:`upgrade`.

Append-only: a migration, once released, never changes. Each runs in its own transaction
and records its number in ``schema_version``, so an interrupted upgrade resumes where it
stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import Connection, func, insert, select

from pipelines.store.schema import (
    alerts,
    articles,
    channel_leases,
    channel_state,
    deliveries,
    delivery_attempts,
    digest_members,
    digests,
    hits,
    http_cache,
    metadata,
    notice_deliveries,
    notices,
    runs,
    schema_version,
    seen_urls,
    sources,
    stories,
    story_alerts,
    story_articles,
    story_bands,
    story_outlets,
    utcnow,
)

__all__ = ["MIGRATIONS", "upgrade"]


def _crawl_tables(conn: Connection) -> None:
    metadata.create_all(
        conn,
        tables=[sources, http_cache, runs, articles, seen_urls, hits, alerts, deliveries],
    )


def _delivery_tables(conn: Connection) -> None:
    tables = [delivery_attempts, channel_state, digests, digest_members, notices]
    metadata.create_all(conn, tables=[*tables, notice_deliveries])


def _channel_leases(conn: Connection) -> None:
    metadata.create_all(conn, tables=[channel_leases])


def _stories(conn: Connection) -> None:
    tables = [stories, story_articles, story_bands, story_alerts, story_outlets]
    metadata.create_all(conn, tables=tables)


# Append-only: version N is MIGRATIONS[N - 1]; a released one never changes.
MIGRATIONS: list[Callable[[Connection], None]] = [
    _crawl_tables,
    _delivery_tables,
    _channel_leases,
    _stories,
]


def upgrade(begin: Callable[[], AbstractContextManager[Connection]]) -> int:
    """Apply every migration the database lacks, each in a transaction from ``begin``;
    returns the newest version."""
    with begin() as conn:
        schema_version.create(conn, checkfirst=True)
        current = conn.execute(select(func.max(schema_version.c.version))).scalar() or 0
    for version, step in enumerate(MIGRATIONS, start=1):
        if version <= current:
            continue
        with begin() as conn:
            step(conn)
            conn.execute(insert(schema_version).values(version=version, applied_at=utcnow()))
    return len(MIGRATIONS)
