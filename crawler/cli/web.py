"""``newswatch web``: the web interface and ``/api/v1`` alone (without crawling).

``newswatch run --http`` serves the same app beside the service (see
:mod:`crawler.service.core`).
"""

from __future__ import annotations

import argparse
import sys

from crawler.cli.common import command, config_of, store_of

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = command(
        sub,
        "web",
        cmd_web,
        "the web interface and /api/v1 alone",
        "Serve the pages (alerts, articles, search, sources, watches, deliveries), /api/v1, "
        "/healthz and /metrics over the store. Binds 127.0.0.1; any other address needs "
        "NEWSWATCH_WEB_TOKEN.",
    )
    w.add_argument(
        "--http",
        metavar="HOST:PORT",
        default="127.0.0.1:9410",
        help="where to listen (default 127.0.0.1:9410; another address than loopback needs "
        "NEWSWATCH_WEB_TOKEN)",
    )


def cmd_web(args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from crawler.service.logs import redact
    from crawler.service.metrics import Metrics
    from crawler.service.status import channel_counts
    from crawler.web.app import web_server
    from crawler.web.context import check_bind, token_from_env

    token = token_from_env()
    try:
        check_bind(args.http, token)  # before reading anything: one line, exit 2
    except ValueError as exc:  # a malformed address, or no token for a network bind
        print(f"newswatch: {exc}", file=sys.stderr)
        return 2
    config = config_of(args)
    store = store_of(args)

    def store_check() -> str | None:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None

    server = web_server(
        args.http,
        store,
        lambda: config,
        registry=Metrics(store, channel_counts).registry,
        checks={"store": store_check},
        token=token,
        redact=redact,
    )
    try:
        server.serve(ready=lambda url: print(f"serving {url}/", flush=True))
    except OSError as exc:
        print(f"newswatch: cannot listen on {args.http}: {exc.strerror}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
