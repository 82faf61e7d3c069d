"""How the sources and the watches are doing, for the Sources and Watches pages and the
API: polls and errors from the store's source state, articles per day, lag, staleness, and
alerts per watch per day (days in Asia/Ho_Chi_Minh, bucketed in Python so that the same
queries run on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import func, select

from crawler.web.queries import ZONE, day_start
from pipelines.store.database import Store
from pipelines.store.schema import alerts, articles, sources, utcnow

__all__ = ["SourceRow", "is_stale", "source_rows", "watch_days"]


@dataclass(frozen=True)
class SourceRow:
    """How one source is doing, from the store."""

    name: str
    last_run_at: datetime | None
    last_status: str | None
    last_success_at: datetime | None
    last_new_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    alarm: str | None
    articles_day: int
    articles_week: int
    lag: timedelta | None


def source_rows(store: Store, names: Iterable[str], now: datetime | None = None) -> list[SourceRow]:
    """One row per source name (configured ones first, then any other the store knows).

    ``lag`` is the median time from publication to our fetch over its last 20 articles.
    """
    moment = now or utcnow()
    with store.engine.connect() as conn:
        state = {r["name"]: dict(r) for r in conn.execute(select(sources)).mappings()}
        day, week = Counter[str](), Counter[str]()
        recent = (
            select(articles.c.source, func.count())
            .where(articles.c.fetched_at >= moment - timedelta(days=1))
            .group_by(articles.c.source)
        )
        day.update({s: int(n) for s, n in conn.execute(recent)})
        recent = (
            select(articles.c.source, func.count())
            .where(articles.c.fetched_at >= moment - timedelta(days=7))
            .group_by(articles.c.source)
        )
        week.update({s: int(n) for s, n in conn.execute(recent)})
        wanted = list(dict.fromkeys([*names, *sorted(state)]))
        lags: dict[str, timedelta | None] = {}
        for name in wanted:
            pairs = conn.execute(
                select(articles.c.published, articles.c.fetched_at)
                .where(articles.c.source == name, articles.c.published.is_not(None))
                .order_by(articles.c.id.desc())
                .limit(20)
            ).all()
            delays = [f - p for p, f in pairs if f >= p]
            lags[name] = median(delays) if delays else None
    out = []
    for name in wanted:
        row = state.get(name, {})
        out.append(
            SourceRow(
                name=name,
                last_run_at=row.get("last_run_at"),
                last_status=row.get("last_status"),
                last_success_at=row.get("last_success_at"),
                last_new_at=row.get("last_new_at"),
                consecutive_failures=int(row.get("consecutive_failures") or 0),
                last_error=row.get("last_error"),
                alarm=row.get("alarm"),
                articles_day=day[name],
                articles_week=week[name],
                lag=lags.get(name),
            )
        )
    return out


def is_stale(row: SourceRow, stale_after: float, now: datetime) -> bool:
    """No new article for longer than the source's ``stale_after`` (or the service's alarm
    says so); a source that never brought one is not called stale here."""
    if row.alarm == "stale":
        return True
    return row.last_new_at is not None and (now - row.last_new_at).total_seconds() > stale_after


def watch_days(store: Store, days: int = 14, now: datetime | None = None) -> dict[str, list[int]]:
    """Alerts per watch per local day, oldest day first, over the last ``days`` days."""
    moment = (now or utcnow()).astimezone(ZONE)
    first = moment.date() - timedelta(days=days - 1)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(alerts.c.watch, alerts.c.created_at).where(
                alerts.c.created_at >= day_start(first)
            )
        )
        for watch, created in rows:
            index = (created.astimezone(ZONE).date() - first).days
            if 0 <= index < days:
                counts[watch][index] += 1
    return dict(counts)
