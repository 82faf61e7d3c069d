"""The store: opening the database, migrating it, and the crawl-side queries.

SQLite under the data dir by default (WAL, busy timeout, foreign keys, synchronous=FULL,
short transactions); the same code runs on PostgreSQL by changing the URL. The tables and
migrations are in :mod:`pipelines.schema`; delivery queries live with
the dispatcher (:mod:`pipelines.outbox`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError, OperationalError

from pipelines.errors import StoreError
from pipelines.schema import (
    MIGRATIONS,
    alerts,
    articles,
    deliveries,
    delivery_attempts,
    hits,
    http_cache,
    runs,
    schema_version,
    seen_urls,
    sources,
    utcnow,
)

__all__ = [
    "ArticleRecord",
    "HitRecord",
    "MatchRecord",
    "RecordResult",
    "Store",
    "message_id_for",
]


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
    """One watch that matched, with its hits and the channels it notifies."""

    watch: str
    label: str
    hits: Sequence[HitRecord]
    channels: Sequence[str]


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

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()


@dataclass
class RecordResult:
    """What :meth:`Store.record_article` did."""

    article_id: int | None
    stored: bool
    alerts: int = 0
    deliveries: int = 0
    duplicate_of: str | None = None
    watches: list[str] = field(default_factory=list)


def _new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT just created."""
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an integer key
        raise StoreError("the database returned no id for a new row")
    return int(key[0])


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    # FULL: a committed alert must survive a power cut, not only a killed process.
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()
    # Python's sqlite3 opens transactions itself, lazily, before the first INSERT, and a
    # RELEASE SAVEPOINT outside one commits: an article and its alerts would land in two
    # transactions. Transactions are begun by _sqlite_begin instead.
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    # A writer takes the write lock first (IMMEDIATE): a deferred transaction that read
    # before writing fails at once, without waiting, when another process wrote meanwhile.
    if conn.get_execution_options().get(_WRITE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


_WRITE = "newswatch_write"


class Store:
    """Open a database by URL; :meth:`for_data_dir` gives the default SQLite file."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True)
        except Exception as exc:  # bad URL, missing driver
            raise StoreError(f"cannot open database {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._writer = self.engine.execution_options(**{_WRITE: True})

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Store:
        """The default store: ``newswatch.db`` under the data dir (created if missing)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{(data_dir / 'newswatch.db').as_posix()}")

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ---------------------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the schema to the newest version; returns that version."""
        try:
            with self.begin() as conn:
                schema_version.create(conn, checkfirst=True)
                current = conn.execute(select(func.max(schema_version.c.version))).scalar() or 0
            for version, step in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                with self.begin() as conn:
                    step(conn)
                    conn.execute(
                        insert(schema_version).values(version=version, applied_at=utcnow())
                    )
        except OperationalError as exc:
            raise StoreError(f"cannot migrate database {self.url!r}: {exc.orig}") from exc
        return len(MIGRATIONS)

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
            self._mark_seen(conn, url, article_id)

    def _mark_seen(self, conn: Connection, url: str, article_id: int | None) -> None:
        exists = conn.execute(select(seen_urls.c.url).where(seen_urls.c.url == url)).first()
        if exists is None:
            conn.execute(insert(seen_urls).values(url=url, article_id=article_id, seen_at=utcnow()))
        elif article_id is not None:
            conn.execute(
                update(seen_urls).where(seen_urls.c.url == url).values(article_id=article_id)
            )

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
            return self._record(conn, article, matches, utcnow())

    def record_articles(
        self, batch: Sequence[tuple[ArticleRecord, Sequence[MatchRecord]]]
    ) -> list[RecordResult | Exception]:
        """:meth:`record_article` for many articles in one transaction (one disk flush
        instead of one per article). Each article is all-or-nothing on its own: one that
        fails is rolled back alone and its exception returned in its place."""
        out: list[RecordResult | Exception] = []
        now = utcnow()
        with self.begin() as conn:
            for article, matches in batch:
                try:
                    with conn.begin_nested():
                        out.append(self._record(conn, article, matches, now))
                except Exception as exc:  # this article only; the others still commit
                    out.append(exc)
        return out

    def _record(
        self,
        conn: Connection,
        article: ArticleRecord,
        matches: Sequence[MatchRecord],
        now: datetime,
    ) -> RecordResult:
        existing = conn.execute(select(articles.c.id).where(articles.c.url == article.url)).scalar()
        if existing is not None:
            if article.fetched_url and article.fetched_url != article.url:
                self._mark_seen(conn, article.fetched_url, existing)
            return RecordResult(article_id=existing, stored=False, duplicate_of=article.url)
        try:
            with conn.begin_nested():
                article_id = _new_id(
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
        self._mark_seen(conn, article.url, article_id)
        if article.fetched_url and article.fetched_url != article.url:
            self._mark_seen(conn, article.fetched_url, article_id)
        result = RecordResult(article_id=article_id, stored=True)
        for match in matches:
            self._record_match(conn, article, article_id, match, now, result)
        return result

    def _record_match(
        self,
        conn: Connection,
        article: ArticleRecord,
        article_id: int,
        match: MatchRecord,
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
        alert_id = _new_id(
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
        for channel in dict.fromkeys(match.channels):
            conn.execute(
                insert(deliveries).values(
                    alert_id=alert_id,
                    channel=channel,
                    status="pending",
                    attempts=0,
                    next_attempt=now,
                    message_id=message_id_for(match.watch, article.url, channel),
                    created_at=now,
                )
            )
            result.deliveries += 1

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, source: str) -> int:
        with self.begin() as conn:
            run_id: int = _new_id(
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
        """Close a run and update the source's state (failures in a row, last new article)."""
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
        else:
            values.update(consecutive_failures=row["consecutive_failures"] + 1, last_error=error)
        if new_articles:
            values["last_new_at"] = now
        conn.execute(update(sources).where(sources.c.name == name).values(**values))

    # -- housekeeping ---------------------------------------------------------------------

    def prune_history(self, keep_days: float = 90.0) -> dict[str, int]:
        """Delete run records, send attempts and not-kept seen URLs older than ``keep_days``.

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
            }
        return removed
