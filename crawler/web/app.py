"""The one ASGI app: pages, ``/api/v1`` (its own OpenAPI schema), ``/healthz``, ``/metrics``.

FastAPI for the typed API and its schema, Starlette's Jinja2 templates for the pages; the
interactive docs pages are off (they load scripts from a CDN). Handlers are plain ``def``
functions: the store is synchronous SQLAlchemy, so they run in the worker threads and never
block the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, PlainTextResponse, Response

from crawler.web.api.routes import api_app
from crawler.web.context import Check, WebContext, allowed_hosts, check_bind
from crawler.web.pages import pages_router
from crawler.web.security import guard
from crawler.web.server import WebServer

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from crawler.config import Config
    from pipelines.store.database import Store

__all__ = ["build_app", "web_server"]

HERE = Path(__file__).resolve().parent


def build_app(ctx: WebContext) -> FastAPI:
    """The whole web interface over ``ctx``."""
    app = FastAPI(
        title="newswatch", openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False
    )
    app.middleware("http")(guard(ctx))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/api/v1", api_app(ctx))
    app.include_router(pages_router(ctx))

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        results: dict[str, str] = {}
        for name, check in ctx.checks.items():
            try:
                problem = check()
            except Exception as exc:  # a check that raises is a failing check
                problem = f"{type(exc).__name__}: {exc}"
            results[name] = ctx.redact(problem) if problem else "ok"
        healthy = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ok" if healthy else "failing", "checks": results},
            200 if healthy else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        if ctx.registry is None:
            return PlainTextResponse("no metrics here\n", 404)
        return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def web_server(
    address: str,
    store: Store,
    config: Callable[[], Config],
    *,
    registry: CollectorRegistry | None,
    checks: Mapping[str, Check],
    token: str | None,
    redact: Callable[[str], str],
) -> WebServer:
    """The app on ``address``, not started yet; :class:`~crawler.web.context.BindRefused`
    for a network address without a token, ValueError for a malformed one."""
    host, port = check_bind(address, token)
    context = WebContext(
        store,
        config,
        registry=registry,
        checks=checks,
        token=token,
        redact=redact,
        allowed_hosts=allowed_hosts(host, token),
    )
    return WebServer(build_app(context), host, port)
