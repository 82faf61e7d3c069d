"""``/api/v1``: the same data as the pages, as JSON; schema at ``/api/v1/openapi.json``.

Read-only (retrying a delivery is a page action behind the CSRF check). A bad cursor, date
or query is a 400 naming the parameter; a missing article a 404.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query

from crawler.web import queries, stats
from crawler.web.api.models import (
    AlertOut,
    AlertPage,
    ArticleDetail,
    ArticleOut,
    DeliveryOut,
    DeliveryPage,
    HitOut,
    SearchPage,
    SourceOut,
    VerdictOut,
    WatchOut,
    WatchRef,
)
from crawler.web.context import WebContext
from crawler.web.explain import explain_watches, title_length
from crawler.web.search import search_articles
from pipelines.deliver.render import DEFAULT_TIMEZONE, Hit, iso_time
from pipelines.errors import ConfigError
from pipelines.match.watch import Term, Watch
from pipelines.store.schema import utcnow

__all__ = ["api_app"]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a parameter is wrong; `detail` says which and why"},
    401: {"description": "NEWSWATCH_WEB_TOKEN is set: send Authorization: Bearer TOKEN"},
}
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)]


def _iso(value: Any) -> str | None:
    return iso_time(value, DEFAULT_TIMEZONE)


def _hits(found: tuple[Hit, ...] | list[Any]) -> list[HitOut]:
    return [HitOut(term=h.term, text=h.text, start=h.start, end=h.end) for h in found]


def _terms(terms: tuple[Term, ...]) -> list[str]:
    return [t.text for t in terms]


def _watch_out(w: Watch, per_day: list[int]) -> WatchOut:
    near = {"within": w.near.within, "any": _terms(w.near.any)} if w.near else None
    return WatchOut.model_validate(
        {
            "name": w.name,
            "label": w.label,
            "any": _terms(w.any_terms),
            "all": _terms(w.all_terms),
            "not": _terms(w.not_terms),
            "except_in": _terms(w.except_in),
            "near": near,
            "query": w.query,
            "notify": list(w.notify),
            "digest": w.digest,
            "alerts_per_day": per_day,
        }
    )


def api_app(ctx: WebContext) -> FastAPI:
    """The API sub-application (mounted at ``/api/v1``)."""
    api = FastAPI(
        title="newswatch API",
        version="1",
        description="Alerts, articles, sources and watches of a newswatch store.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=ERRORS,
    )

    @api.get("/alerts", response_model=AlertPage)
    def list_alerts(
        watch: str | None = None,
        source: str | None = None,
        channel: str | None = None,
        since: date | None = None,
        until: date | None = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> AlertPage:
        """Alerts, newest first, filtered by watch, source, channel and day (Vietnam time)."""
        flt = queries.AlertFilter(watch, source, channel, since, until)
        try:
            found = queries.list_alerts(ctx.store, flt, limit=limit, cursor=cursor)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        items = [
            AlertOut(
                id=a.id,
                created_at=_iso(a.created_at) or "",
                watch=WatchRef(name=a.watch, label=a.label),
                article=ArticleOut(
                    id=a.article_id,
                    url=a.url,
                    title=a.title,
                    source=a.source,
                    published=_iso(a.published),
                    snippet=a.snippet,
                    hits=_hits(a.hits),
                ),
                deliveries=dict(a.channels),
                also_in=list(a.also_in),
            )
            for a in found.items
        ]
        return AlertPage(items=items, next_cursor=found.next_cursor)

    @api.get("/articles/{article_id}", response_model=ArticleDetail, responses={404: {}})
    def get_article(article_id: int) -> ArticleDetail:
        """One article: its clean text and why each configured watch matches it or not."""
        row = queries.article(ctx.store, article_id) if 0 < article_id < 2**62 else None
        if row is None:
            raise HTTPException(404, f"no article {article_id}")
        verdicts = explain_watches(ctx.config().watches, row.text, title_length(row.text))
        return ArticleDetail(
            id=row.id,
            url=row.url,
            title=row.title,
            source=row.source,
            published=_iso(row.published),
            fetched_at=_iso(row.fetched_at) or "",
            author=row.author,
            text=row.text,
            watches=[
                VerdictOut(
                    name=v.name,
                    label=v.label,
                    matched=v.matched,
                    alerted=v.name in row.alerts,
                    reasons=list(v.reasons),
                    hits=_hits(list(v.hits)),
                )
                for v in verdicts
            ],
        )

    @api.get("/sources", response_model=list[SourceOut])
    def list_sources() -> list[SourceOut]:
        """Every source: last poll, result, errors, staleness, articles per day, lag."""
        config = ctx.config()
        stale_after = {s.name: s.stale_after for s in config.sources}
        now = utcnow()
        return [
            SourceOut(
                name=s.name,
                last_run=_iso(s.last_run_at),
                result=s.last_status,
                last_success=_iso(s.last_success_at),
                last_new_article=_iso(s.last_new_at),
                consecutive_failures=s.consecutive_failures,
                last_error=ctx.redact(s.last_error) if s.last_error else None,
                alarm=s.alarm,
                stale=stats.is_stale(s, stale_after.get(s.name, 86400.0), now),
                articles_24h=s.articles_day,
                articles_7d=s.articles_week,
                lag_seconds=s.lag.total_seconds() if s.lag is not None else None,
            )
            for s in stats.source_rows(ctx.store, list(stale_after), now)
        ]

    @api.get("/watches", response_model=list[WatchOut])
    def list_watches() -> list[WatchOut]:
        """Every configured watch, its rule and its alerts per day."""
        days = stats.watch_days(ctx.store)
        return [_watch_out(w, days.get(w.name, [0] * 14)) for w in ctx.config().watches]

    @api.get("/search", response_model=SearchPage)
    def search(
        q: Annotated[str, Query(min_length=1, description="a query in the watches' language")],
        cursor: Cursor = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> SearchPage:
        """Stored articles matching a query (``"…"``, AND, OR, NOT, NEAR/n), newest first."""
        try:
            found = search_articles(ctx.store, q, limit=limit, cursor=cursor)
        except ConfigError as exc:
            raise HTTPException(400, "q: " + "; ".join(p.message for p in exc.problems)) from exc
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        items = [
            ArticleOut(
                id=h.article_id,
                url=h.url,
                title=h.title,
                source=h.source,
                published=_iso(h.published),
                snippet=h.snippet,
                hits=_hits(list(h.hits)),
            )
            for h in found.items
        ]
        return SearchPage(items=items, next_cursor=found.next_cursor)

    @api.get("/deliveries", response_model=DeliveryPage)
    def list_deliveries(
        state: Annotated[str | None, Query(pattern="^(pending|retrying|dead)$")] = None,
        channel: str | None = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> DeliveryPage:
        """Deliveries waiting (pending, retrying) or given up on (dead), newest first."""
        states = (state,) if state else ("pending", "retrying", "dead")
        try:
            found = queries.deliveries_page(
                ctx.store, states, channel=channel, limit=limit, cursor=cursor
            )
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        items = [
            DeliveryOut(
                id=d.id,
                channel=d.channel,
                state=d.state,
                attempts=d.attempts,
                next_attempt=_iso(d.next_attempt) if d.state != "dead" else None,
                last_error=ctx.redact(d.last_error) if d.last_error else None,
                watch=d.watch,
                article_id=d.article_id,
                title=d.title,
            )
            for d in found.items
        ]
        return DeliveryPage(items=items, next_cursor=found.next_cursor)

    return api
