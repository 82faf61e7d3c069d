"""The pages: Alerts, Article, Search, Sources, Watches (with the tester), Deliveries, and
the login form. Server-rendered; forms are plain GET filters or POSTs with a CSRF token.
"""

from __future__ import annotations

import hmac
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from crawler.web import queries, stats
from crawler.web.context import WebContext
from crawler.web.explain import explain_watches, paragraphs, title_length
from crawler.web.render import page
from crawler.web.search import SearchPage, search_articles
from crawler.web.security import SESSION_COOKIE, csrf_ok, session_value
from crawler.web.tester import run_tester
from pipelines.deliver.alertqueue import retry_delivery
from pipelines.errors import ConfigError
from pipelines.store.schema import utcnow

__all__ = ["pages_router"]

STATES = ("pending", "retrying", "dead")


def _day(value: str | None, errors: list[str], name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}: expected a date such as 2026-01-31, got {value!r}")
        return None


def _next(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = {k: v for k, v in request.query_params.items() if k != "cursor"}
    return f"{request.url.path}?{urlencode({**params, 'cursor': cursor})}"


def pages_router(ctx: WebContext) -> APIRouter:
    """The routes of the pages over ``ctx``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def alerts_page(
        request: Request,
        watch: str | None = None,
        source: str | None = None,
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
        cursor: str | None = None,
    ) -> Response:
        config = ctx.config()
        errors: list[str] = []
        flt = queries.AlertFilter(
            watch or None,
            source or None,
            channel or None,
            _day(since, errors, "since"),
            _day(until, errors, "until"),
        )
        try:
            found = queries.list_alerts(ctx.store, flt, cursor=cursor)
        except ValueError as exc:
            errors.append(str(exc))
            found = queries.list_alerts(ctx.store, flt)
        return page(
            request,
            "alerts.html",
            400 if errors else 200,
            alerts=found.items,
            next_url=_next(request, found.next_cursor),
            errors=errors,
            filters={"watch": watch, "source": source, "channel": channel},
            since=since or "",
            until=until or "",
            watches=[w.name for w in config.watches],
            sources=[s.name for s in config.sources],
            channels=[*config.channels, *config.disabled_channels],
        )

    @router.get("/articles/{article_id}")
    def article_page(request: Request, article_id: int) -> Response:
        row = queries.article(ctx.store, article_id) if 0 < article_id < 2**62 else None
        if row is None:
            return page(request, "missing.html", 404, what=f"article {article_id}")
        verdicts = explain_watches(ctx.config().watches, row.text, title_length(row.text))
        spans = [(h.start, h.end) for found in row.hits.values() for h in found]
        spans += [(h.start, h.end) for v in verdicts for h in v.hits]
        text = paragraphs(row.text, spans)
        return page(
            request,
            "article.html",
            article=row,
            title=text[0] if text else [],
            body=text[1:],
            verdicts=verdicts,
        )

    @router.get("/search")
    def search_page(request: Request, q: str = "", cursor: str | None = None) -> Response:
        results = SearchPage([], None)
        error = None
        if q.strip():
            try:
                results = search_articles(ctx.store, q, cursor=cursor)
            except (ConfigError, ValueError) as exc:
                error = _problem_text(exc)
        return page(
            request,
            "search.html",
            400 if error else 200,
            q=q,
            results=results.items,
            next_url=_next(request, results.next_cursor),
            error=error,
        )

    @router.get("/sources")
    def sources_page(request: Request) -> Response:
        config = ctx.config()
        now = utcnow()
        rows = stats.source_rows(ctx.store, [s.name for s in config.sources], now)
        after = {s.name: s.stale_after for s in config.sources}
        stale = {r.name: stats.is_stale(r, after.get(r.name, 86400.0), now) for r in rows}
        return page(request, "sources.html", sources=rows, stale=stale, redact=ctx.redact)

    def watches_view(request: Request, status: int = 200, **tested: Any) -> Response:
        config = ctx.config()
        return page(
            request,
            "watches.html",
            status,
            watches=config.watches,
            days=stats.watch_days(ctx.store),
            **tested,
        )

    @router.get("/watches")
    def watches_page(request: Request) -> Response:
        return watches_view(request)

    @router.post("/watches/test")
    def watches_test(
        request: Request,
        csrf: Annotated[str, Form()] = "",
        text: Annotated[str, Form()] = "",
        article: Annotated[str, Form()] = "",
        rule: Annotated[str, Form()] = "",
    ) -> Response:
        if not csrf_ok(request, csrf):
            return page(request, "refused.html", 403)
        result = run_tester(ctx, text=text, article=article, rule=rule)
        return watches_view(
            request, 400 if result.errors else 200, tested=result, form=(text, article, rule)
        )

    @router.get("/deliveries")
    def deliveries_page(
        request: Request,
        state: str | None = None,
        channel: str | None = None,
        cursor: str | None = None,
        retried: str | None = None,
    ) -> Response:
        states = (state,) if state in STATES else STATES
        try:
            found = queries.deliveries_page(ctx.store, states, channel=channel, cursor=cursor)
        except ValueError:
            found = queries.deliveries_page(ctx.store, states, channel=channel)
        return page(
            request,
            "deliveries.html",
            deliveries=found.items,
            next_url=_next(request, found.next_cursor),
            state=state or "",
            channel=channel or "",
            retried=retried,
            redact=ctx.redact,
        )

    @router.post("/deliveries/{delivery_id}/retry")
    def retry(request: Request, delivery_id: int, csrf: Annotated[str, Form()] = "") -> Response:
        if not csrf_ok(request, csrf):
            return page(request, "refused.html", 403)
        if not 0 < delivery_id < 2**62 or retry_delivery(ctx.store, delivery_id) is None:
            return page(request, "missing.html", 404, what=f"dead delivery {delivery_id}")
        return RedirectResponse(f"/deliveries?retried={delivery_id}", 303)

    @router.get("/login")
    def login_form(request: Request, next: str = "/") -> Response:
        return page(request, "login.html", next=_safe_next(next), wrong=False)

    @router.post("/login")
    def login(
        request: Request,
        csrf: Annotated[str, Form()] = "",
        token: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        if not csrf_ok(request, csrf):
            return page(request, "refused.html", 403)
        if ctx.token is None:
            return RedirectResponse(_safe_next(next), 303)
        if not _same(token, ctx.token):
            return page(request, "login.html", 401, next=_safe_next(next), wrong=True)
        response = RedirectResponse(_safe_next(next), 303)
        response.set_cookie(
            SESSION_COOKIE,
            session_value(ctx.token),
            httponly=True,
            samesite="strict",
            path="/",
            secure=request.url.scheme == "https",  # behind a TLS proxy: never sent in clear
        )
        return response

    return router


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _safe_next(target: str) -> str:
    """Only a path of this site (no ``//host`` or scheme): the login is no open redirect."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _problem_text(exc: Exception) -> str:
    if isinstance(exc, ConfigError):
        return "; ".join(p.message for p in exc.problems) or str(exc)
    return str(exc)
