"""The store: SQLAlchemy Core schema, versioned migrations and the crawl-side queries.

SQLite under the data dir by default (WAL, busy timeout, foreign keys, short
transactions); the same code runs on PostgreSQL by changing the URL. Uniqueness lives in
the database, not in memory: ``alerts`` is unique on (watch, article) and ``deliveries``
on (alert, channel), so "never alert twice" survives restarts, crashes and two crawls of
one source racing each other.

Times are stored as naive UTC and handed out as aware UTC datetimes (:class:`UTCDateTime`),
because SQLite has no time zone type and PostgreSQL's would otherwise differ.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.types import TypeDecorator

from pipelines.errors import StoreError

__all__ = [
    "ArticleRecord",
    "HitRecord",
    "MatchRecord",
    "RecordResult",
    "Store",
    "UTCDateTime",
    "message_id_for",
    "metadata",
    "utcnow",
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
    # ok | failed | timeout | crashed | running
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

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
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
    UniqueConstraint("alert_id", "channel", name="uq_delivery_alert_channel"),
    Index("ix_deliveries_due", "status", "next_attempt"),
)

INITIAL_TABLES = [
    sources,
    http_cache,
    runs,
    articles,
    seen_urls,
    hits,
    alerts,
    deliveries,
]


def _migration_1(conn: Connection) -> None:
    metadata.create_all(conn, tables=INITIAL_TABLES)


# Append-only: a migration, once released, never changes. Each runs in its own transaction.
MIGRATIONS: list[Callable[[Connection], None]] = [_migration_1]


# -- delivery side (owned by the dispatcher, pipelines/outbox.py) -----------------------

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
    Column("channel", String(100), nullable=False),
    Column("status", String(20), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("message_id", String(80), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("notice_id", "channel", name="uq_notice_delivery_channel"),
    Index("ix_notice_deliveries_due", "status", "next_attempt"),
)

DELIVERY_TABLES = [
    delivery_attempts,
    channel_state,
    digests,
    digest_members,
    notices,
    notice_deliveries,
]


def _migration_2(conn: Connection) -> None:
    metadata.create_all(conn, tables=DELIVERY_TABLES)


MIGRATIONS.append(_migration_2)

# Which dispatcher owns a channel right now: one owner at a time, so "one send in flight per
# channel" and its rate limit hold across processes (the service and `newswatch dispatch`).
channel_leases = Table(
    "channel_leases",
    metadata,
    Column("channel", String(100), primary_key=True),
    Column("owner", String(80), nullable=False),
    Column("until", UTCDateTime, nullable=False),
)


def _migration_3(conn: Connection) -> None:
    metadata.create_all(conn, tables=[channel_leases])


MIGRATIONS.append(_migration_3)


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
            with self.engine.begin() as conn:
                schema_version.create(conn, checkfirst=True)
                current = conn.execute(select(func.max(schema_version.c.version))).scalar() or 0
            for version, step in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                with self.engine.begin() as conn:
                    step(conn)
                    conn.execute(
                        insert(schema_version).values(version=version, applied_at=utcnow())
                    )
        except OperationalError as exc:
            raise StoreError(f"cannot migrate database {self.url!r}: {exc.orig}") from exc
        return len(MIGRATIONS)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One short transaction."""
        with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
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
        now = utcnow()
        with self.engine.begin() as conn:
            existing = conn.execute(
                select(articles.c.id).where(articles.c.url == article.url)
            ).scalar()
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
        with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
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
