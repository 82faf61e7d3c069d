"""The store: opening the database, migrating it, and the crawl-side queries.

SQLite under the data dir by default; the same code runs on PostgreSQL by changing the URL
(which URLs, and each engine's settings: :mod:`pipelines.store.engine`). The tables are in
:mod:`pipelines.store.schema`, their migrations in :mod:`pipelines.store.migrations`;
delivery queries live with the dispatcher (:mod:`pipelines.deliver.outbox`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from pipelines.errors import StoreConfigError, StoreError
from pipelines.store import migrations
from pipelines.store.articles import (
    ArticleRecord,
    MatchRecord,
    RecordResult,
    mark_seen,
    new_id,
    record,
)
from pipelines.store.engine import WRITE, database_url, open_engine
from pipelines.store.schema import (
    alerts,
    articles,
    deliveries,
    delivery_attempts,
    http_cache,
    runs,
    seen_urls,
    sources,
    utcnow,
)
from pipelines.store.search import delete_index
from pipelines.store.stories import lock_stories, prune_bands

__all__ = ["Store"]

_PRUNE_SLICE = 500


class Store:
    """Open a database by URL; :meth:`open` picks the URL the options name, or the default
    SQLite file under the data dir."""

    def __init__(self, url: str) -> None:
        parsed = database_url(url)
        self.url = url
        #: the URL as it may be shown: the password replaced by ``***``
        self.safe_url = parsed.render_as_string(hide_password=True)
        try:
            self.engine: Engine = open_engine(parsed)
        except Exception as exc:  # a driver that is not installed, a bad option
            raise StoreConfigError(f"cannot open database {self.safe_url}: {exc}") from exc
        self._writer = self.engine.execution_options(**{WRITE: True})

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Store:
        """The default store: ``newswatch.db`` under the data dir (created if missing)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{(data_dir / 'newswatch.db').as_posix()}")

    @classmethod
    def open(cls, url: str | None, data_dir: Path) -> Store:
        """The store at ``url`` (``--database``/``NEWSWATCH_DATABASE_URL``), else the default."""
        return cls(url) if url else cls.for_data_dir(data_dir)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return str(self.engine.dialect.name)

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ---------------------------------------------------------------------------

    def migrate(self) -> str:
        """Bring the schema to the newest revision; returns that revision."""
        try:
            return migrations.upgrade(self.begin)
        except OperationalError as exc:
            raise self.unreachable(exc) from exc

    def revision(self) -> str | None:
        """The schema revision the database is at (``None``: empty, or made before Alembic)."""
        try:
            with self.engine.connect() as conn:
                return migrations.current(conn)
        except OperationalError as exc:
            raise self.unreachable(exc) from exc

    def unreachable(self, exc: OperationalError) -> StoreError:
        """One line for a database that cannot be reached: its URL without the password,
        and the first line of the driver's reason."""
        reason = str(exc.orig or exc).strip().splitlines()
        first = reason[0] if reason else type(exc).__name__
        return StoreError(f"cannot use database {self.safe_url}: {first}")

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One short write transaction (holding SQLite's write lock from its start)."""
        with self._writer.begin() as conn:
            yield conn

    # -- crawl side -----------------------------------------------------------------------

    def seen(self, urls: Iterable[str]) -> set[str]:
        """Which of these URLs were already requested or stored (checked before any request)."""
        wanted = list(dict.fromkeys(urls))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                found.update(
                    conn.execute(
                        select(seen_urls.c.url).where(seen_urls.c.url.in_(chunk))
                    ).scalars()
                )
                found.update(
                    conn.execute(select(articles.c.url).where(articles.c.url.in_(chunk))).scalars()
                )
        return found

    def mark_seen(self, url: str, article_id: int | None = None) -> None:
        """Remember a requested URL that was not kept as an article (not news, too short)."""
        with self.begin() as conn:
            mark_seen(conn, url, article_id)

    def validators(self, url: str) -> tuple[str | None, str | None, str | None]:
        """(ETag, Last-Modified, body hash) stored for a feed, sitemap or listing URL."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(http_cache.c.etag, http_cache.c.last_modified, http_cache.c.body_hash).where(
                    http_cache.c.url == url
                )
            ).first()
        if row is None:
            return None, None, None
        return row[0], row[1], row[2]

    def save_validators(
        self,
        url: str,
        source: str,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
    ) -> None:
        values = {
            "source": source,
            "etag": etag,
            "last_modified": last_modified,
            "body_hash": body_hash,
            "checked_at": utcnow(),
        }
        with self.begin() as conn:
            done = conn.execute(
                update(http_cache).where(http_cache.c.url == url).values(**values)
            ).rowcount
            if not done:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(http_cache).values(url=url, **values))
                except IntegrityError:
                    conn.execute(update(http_cache).where(http_cache.c.url == url).values(**values))

    def record_article(
        self, article: ArticleRecord, matches: Sequence[MatchRecord]
    ) -> RecordResult:
        """Store one article with its hits, alerts and deliveries in ONE transaction.

        An article whose canonical URL is already stored is not stored again (and alerts
        nothing): the unique constraint decides, so two racing crawls cannot both alert.
        """
        with self.begin() as conn:
            return record(conn, article, matches, utcnow())

    def record_articles(
        self, batch: Sequence[tuple[ArticleRecord, Sequence[MatchRecord]]]
    ) -> list[RecordResult | Exception]:
        """:meth:`record_article` for many articles in one transaction (one disk flush
        instead of one per article). Each article is all-or-nothing on its own: one that
        fails is rolled back alone and its exception returned in its place."""
        out: list[RecordResult | Exception] = []
        now = utcnow()
        with self.begin() as conn:
            lock_stories(conn)
            for article, matches in batch:
                try:
                    with conn.begin_nested():
                        out.append(record(conn, article, matches, now))
                except Exception as exc:  # this article only; the others still commit
                    out.append(exc)
        return out

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, source: str) -> int:
        with self.begin() as conn:
            run_id: int = new_id(
                conn.execute(
                    insert(runs).values(source=source, started_at=utcnow(), status="running")
                )
            )
        return run_id

    def finish_run(
        self,
        run_id: int,
        status: str,
        *,
        new_articles: int = 0,
        requests: int = 0,
        fetched: int = 0,
        alerts: int = 0,
        errors: int = 0,
        nbytes: int = 0,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Close a run and update the source's state (failures in a row, last new article).

        ``stopped`` (the service stopped the poll on purpose) is neither a success nor a
        failure: the failures in a row, the last success and the last error stay as they were.
        """
        now = utcnow()
        error_text = None
        if detail and status != "ok":
            error_text = str(detail.get("error") or "")[:1000] or None
        with self.begin() as conn:
            source = conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    finished_at=now,
                    status=status,
                    new_articles=new_articles,
                    requests=requests,
                    fetched=fetched,
                    alerts=alerts,
                    errors=errors,
                    bytes=nbytes,
                    detail=json.dumps(detail or {}, ensure_ascii=False),
                )
                .returning(runs.c.source)
            ).scalar_one()
            self._update_source(conn, source, status, new_articles, error_text, now)

    def _update_source(
        self,
        conn: Connection,
        name: str,
        status: str,
        new_articles: int,
        error: str | None,
        now: datetime,
    ) -> None:
        row = conn.execute(select(sources).where(sources.c.name == name)).mappings().first()
        if row is None:
            conn.execute(insert(sources).values(name=name, consecutive_failures=0))
            row = conn.execute(select(sources).where(sources.c.name == name)).mappings().one()
        values: dict[str, Any] = {"last_run_at": now, "last_status": status}
        if status == "ok":
            values.update(last_success_at=now, consecutive_failures=0, last_error=None)
        elif status != "stopped":
            values.update(consecutive_failures=row["consecutive_failures"] + 1, last_error=error)
        if new_articles:
            values["last_new_at"] = now
        conn.execute(update(sources).where(sources.c.name == name).values(**values))

    # -- housekeeping ---------------------------------------------------------------------

    def prune_history(self, keep_days: float = 90.0) -> dict[str, int]:
        """Delete run records, send attempts and not-kept seen URLs older than ``keep_days``,
        and the story band keys of articles too old for anything to join them.

        Articles, alerts and deliveries are the product's history and are kept; the source
        state (last run, failures in a row) lives in ``sources`` and is not affected.
        """
        cutoff = utcnow() - timedelta(days=keep_days)
        with self.begin() as conn:
            removed = {
                "runs": conn.execute(
                    delete(runs).where(runs.c.started_at < cutoff, runs.c.status != "running")
                ).rowcount,
                "delivery_attempts": conn.execute(
                    delete(delivery_attempts).where(delivery_attempts.c.finished_at < cutoff)
                ).rowcount,
                "seen_urls": conn.execute(
                    delete(seen_urls).where(
                        seen_urls.c.seen_at < cutoff, seen_urls.c.article_id.is_(None)
                    )
                ).rowcount,
                "story_bands": prune_bands(conn, utcnow()),
            }
        return removed

    def prune_articles(self, keep: Mapping[str, float], now: datetime | None = None) -> int:
        """Delete each source's articles stored more than ``keep[source]`` seconds ago
        (``0`` or absent: keep for ever), with their hits, alerts and sent deliveries.

        An article with a delivery still pending (or retrying) is kept until it is sent or
        dead: pruning never loses an alert. Its URL stays in ``seen_urls``, so the article
        is not fetched again while feeds still list it.
        """
        now = now or utcnow()
        removed = 0
        for source, seconds in keep.items():
            if seconds <= 0:
                continue
            cutoff = now - timedelta(seconds=seconds)
            pending = (
                select(alerts.c.article_id)
                .join(deliveries, deliveries.c.alert_id == alerts.c.id)
                .where(deliveries.c.status == "pending")
            )
            while True:  # in slices: one short write transaction at a time
                with self.begin() as conn:
                    ids = list(
                        conn.execute(
                            select(articles.c.id)
                            .where(
                                articles.c.source == source,
                                articles.c.fetched_at < cutoff,
                                articles.c.id.not_in(pending),
                            )
                            .limit(_PRUNE_SLICE)
                        ).scalars()
                    )
                    if not ids:
                        break
                    delete_index(conn, ids)
                    conn.execute(delete(articles).where(articles.c.id.in_(ids)))
                removed += len(ids)
        return removed
