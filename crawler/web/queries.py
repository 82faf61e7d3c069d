"""What the pages and the API read from the store: SQLAlchemy Core, the same on SQLite and
PostgreSQL (no dialect-specific date arithmetic: days are bucketed in Python).

Lists are paged by a cursor, the last id of the page before (ids grow with time, so "newest
first" is "id descending" and a page costs an index range, however deep it is).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, select

from pipelines.deliver.render import DEFAULT_TIMEZONE, Hit
from pipelines.store.database import Store
from pipelines.store.schema import alerts, articles, deliveries, hits, story_articles

__all__ = [
    "ZONE",
    "AlertFilter",
    "AlertRow",
    "ArticleRow",
    "DeliveryRow",
    "Page",
    "article",
    "day_start",
    "deliveries_page",
    "list_alerts",
    "parse_cursor",
]

ZONE = ZoneInfo(DEFAULT_TIMEZONE)
T = TypeVar("T")
MAX_LIMIT = 200


@dataclass(frozen=True)
class AlertFilter:
    """Filters of the alerts list; ``since``/``until`` are days in Asia/Ho_Chi_Minh."""

    watch: str | None = None
    source: str | None = None
    channel: str | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class AlertRow:
    """One alert with its article, its hits and each channel's delivery state."""

    id: int
    watch: str
    label: str
    created_at: datetime
    article_id: int
    url: str
    title: str
    source: str
    published: datetime | None
    snippet: str
    hits: tuple[Hit, ...]
    channels: Mapping[str, str]
    #: the other outlets of the article's story, first seen first
    also_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def day_start(day: date, *, after: bool = False) -> datetime:
    """Midnight in Vietnam that starts ``day`` (or, ``after``, the next day), in UTC;
    clamped at the ends of the calendar (``since=0001-01-01`` is a valid filter)."""
    try:
        return datetime.combine(day + timedelta(days=after), time(0), ZONE).astimezone(UTC)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC) if after else datetime.min.replace(tzinfo=UTC)


def parse_cursor(value: str | None) -> int | None:
    """The id a cursor stands for; ValueError (the caller's 400) when it is not one."""
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValueError("cursor: use the next_cursor value of the previous page")
    return int(value)


def _clamp(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


def _alert_ids(flt: AlertFilter) -> Select[Any]:
    """The ids of the alerts the filter keeps. Ids first, the rows after: with a watch
    filter SQLite would otherwise join and sort every alert of that watch for one page,
    where the ids alone come from the (watch, article) index."""
    query = select(alerts.c.id)
    if flt.source:
        query = query.join(articles, articles.c.id == alerts.c.article_id).where(
            articles.c.source == flt.source
        )
    if flt.watch:
        query = query.where(alerts.c.watch == flt.watch)
    if flt.channel:
        query = query.where(
            exists().where(
                and_(deliveries.c.alert_id == alerts.c.id, deliveries.c.channel == flt.channel)
            )
        )
    if flt.since:
        query = query.where(alerts.c.created_at >= day_start(flt.since))
    if flt.until:
        query = query.where(alerts.c.created_at < day_start(flt.until, after=True))
    return query


def list_alerts(
    store: Store, flt: AlertFilter, *, limit: int = 50, cursor: str | None = None
) -> Page[AlertRow]:
    """Alerts newest first, with hits and delivery states; ValueError for a bad cursor."""
    before, limit = parse_cursor(cursor), _clamp(limit)
    ids_query = _alert_ids(flt)
    if before is not None:
        ids_query = ids_query.where(alerts.c.id < before)
    ids_query = ids_query.order_by(alerts.c.id.desc()).limit(limit + 1)
    query = (
        select(
            alerts.c.id,
            alerts.c.watch,
            alerts.c.label,
            alerts.c.created_at,
            articles.c.id.label("article_id"),
            articles.c.url,
            articles.c.title,
            articles.c.source,
            articles.c.published,
        )
        .join(articles, articles.c.id == alerts.c.article_id)
        .order_by(alerts.c.id.desc())
    )
    with store.engine.connect() as conn:
        wanted = list(conn.execute(ids_query).scalars())
        rows = conn.execute(query.where(alerts.c.id.in_(wanted))).mappings().all()
        more = len(rows) > limit
        rows = rows[:limit]
        found = _hits_of(conn, [(r["article_id"], r["watch"]) for r in rows])
        others = _story_outlets(conn, {r["article_id"]: r["source"] for r in rows})
        states: dict[int, dict[str, str]] = defaultdict(dict)
        ids = [r["id"] for r in rows]
        if ids:
            for alert_id, channel, status, attempts in conn.execute(
                select(
                    deliveries.c.alert_id,
                    deliveries.c.channel,
                    deliveries.c.status,
                    deliveries.c.attempts,
                ).where(deliveries.c.alert_id.in_(ids))
            ):
                states[alert_id][channel] = _state(status, attempts)
    items = []
    for r in rows:
        hit_rows = found.get((r["article_id"], r["watch"]), [])
        items.append(
            AlertRow(
                id=r["id"],
                watch=r["watch"],
                label=r["label"],
                created_at=r["created_at"],
                article_id=r["article_id"],
                url=r["url"],
                title=r["title"],
                source=r["source"],
                published=r["published"],
                snippet=hit_rows[0][1] if hit_rows else "",
                hits=tuple(h for h, _ in hit_rows),
                channels=dict(sorted(states[r["id"]].items())),
                also_in=others.get(r["article_id"], ()),
            )
        )
    return Page(items, str(rows[-1]["id"]) if more and rows else None)


def _story_outlets(conn: Any, sources: Mapping[int, str]) -> dict[int, tuple[str, ...]]:
    """For each article, the other outlets that carried its story, first seen first."""
    if not sources:
        return {}
    story_of: dict[int, int] = {
        article_id: story_id
        for article_id, story_id in conn.execute(
            select(story_articles.c.article_id, story_articles.c.story_id).where(
                story_articles.c.article_id.in_(list(sources))
            )
        )
    }
    if not story_of:
        return {}
    first = func.min(story_articles.c.at)
    outlets: dict[int, list[str]] = defaultdict(list)
    for story_id, source, _ in conn.execute(
        select(story_articles.c.story_id, story_articles.c.source, first)
        .where(story_articles.c.story_id.in_(set(story_of.values())))
        .group_by(story_articles.c.story_id, story_articles.c.source)
        .order_by(first)
    ):
        outlets[story_id].append(source)
    return {
        article_id: tuple(o for o in outlets[story_id] if o != sources[article_id])
        for article_id, story_id in story_of.items()
    }


def _state(status: str, attempts: int) -> str:
    """pending | retrying | delivered | dead (a pending row that failed once is retrying)."""
    return "retrying" if status == "pending" and attempts else status


def _hits_of(conn: Any, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], list[Any]]:
    wanted = set(keys)
    out: dict[tuple[int, str], list[Any]] = defaultdict(list)
    article_ids = sorted({a for a, _ in wanted})
    if not article_ids:
        return out
    query = (
        select(hits.c.article_id, hits.c.watch, hits.c.term, hits.c.text, hits.c.start)
        .add_columns(hits.c.end, hits.c.snippet)
        .where(hits.c.article_id.in_(article_ids))
        .order_by(hits.c.article_id, hits.c.start)
    )
    for row in conn.execute(query):
        if (row.article_id, row.watch) in wanted:
            hit = Hit(term=row.term, text=row.text, start=row.start, end=row.end)
            out[(row.article_id, row.watch)].append((hit, row.snippet))
    return out


@dataclass(frozen=True)
class ArticleRow:
    """One stored article with the hits and alerts the crawl recorded for it."""

    id: int
    url: str
    source: str
    title: str
    published: datetime | None
    fetched_at: datetime
    author: str | None
    text: str
    hits: Mapping[str, tuple[Hit, ...]] = field(default_factory=dict)
    alerts: Mapping[str, int] = field(default_factory=dict)


def article(store: Store, article_id: int) -> ArticleRow | None:
    """The article with this id, or None."""
    with store.engine.connect() as conn:
        row = conn.execute(select(articles).where(articles.c.id == article_id)).mappings().first()
        if row is None:
            return None
        found: dict[str, list[Hit]] = defaultdict(list)
        for h in conn.execute(
            select(hits).where(hits.c.article_id == article_id).order_by(hits.c.start)
        ).mappings():
            found[h["watch"]].append(Hit(h["term"], h["text"], h["start"], h["end"]))
        made = {
            watch: alert_id
            for alert_id, watch in conn.execute(
                select(alerts.c.id, alerts.c.watch).where(alerts.c.article_id == article_id)
            )
        }
    return ArticleRow(
        id=row["id"],
        url=row["url"],
        source=row["source"],
        title=row["title"],
        published=row["published"],
        fetched_at=row["fetched_at"],
        author=row["author"],
        text=row["text"],
        hits={w: tuple(h) for w, h in found.items()},
        alerts=made,
    )


@dataclass(frozen=True)
class DeliveryRow:
    """One alert on one channel that is not delivered yet (or is dead)."""

    id: int
    channel: str
    state: str
    attempts: int
    next_attempt: datetime
    last_error: str | None
    watch: str
    article_id: int
    title: str


def deliveries_page(
    store: Store,
    states: Sequence[str] = ("pending", "retrying", "dead"),
    *,
    channel: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[DeliveryRow]:
    """Deliveries in these states (``retrying``: pending after a failure), newest first."""
    before, limit = parse_cursor(cursor), _clamp(limit)
    stored = {"retrying": "pending"}
    query = (
        select(
            deliveries.c.id,
            deliveries.c.channel,
            deliveries.c.status,
            deliveries.c.attempts,
            deliveries.c.next_attempt,
            deliveries.c.last_error,
            alerts.c.watch,
            articles.c.id.label("article_id"),
            articles.c.title,
        )
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .join(articles, articles.c.id == alerts.c.article_id)
        .where(deliveries.c.status.in_({stored.get(s, s) for s in states}))
        .order_by(deliveries.c.id.desc())
        .limit(limit + 1)
    )
    if channel:
        query = query.where(deliveries.c.channel == channel)
    if before is not None:
        query = query.where(deliveries.c.id < before)
    if "pending" not in states and "retrying" in states:
        query = query.where(deliveries.c.attempts > 0)
    if "retrying" not in states and "pending" in states:
        query = query.where((deliveries.c.status != "pending") | (deliveries.c.attempts == 0))
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    more = len(rows) > limit
    items = [
        DeliveryRow(
            id=r["id"],
            channel=r["channel"],
            state=_state(r["status"], r["attempts"]),
            attempts=r["attempts"],
            next_attempt=r["next_attempt"],
            last_error=r["last_error"],
            watch=r["watch"],
            article_id=r["article_id"],
            title=r["title"],
        )
        for r in rows[:limit]
    ]
    return Page(items, str(items[-1].id) if more and items else None)
