"""``newswatch`` — the command line, and the composition root of the app.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad configuration. At default
verbosity a failure is one clear line; tracebacks appear only with ``-v``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from crawler.config import Config, load_config, load_watches_file
from crawler.service.logs import secrets_from_config, setup_logging
from pipelines.errors import ConfigError, NewswatchError
from pipelines.store.database import Store

logger = logging.getLogger("newswatch")

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="newswatch",
        description="Watch Vietnamese news sites and alert when an article mentions what "
        "you watch.",
    )
    p.add_argument(
        "--config",
        type=Path,
        metavar="DIR",
        default=Path(os.environ.get("NEWSWATCH_CONFIG", "config")),
        help="configuration folder (env NEWSWATCH_CONFIG, default ./config)",
    )
    p.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        default=Path(os.environ.get("NEWSWATCH_DATA", "var")),
        help="data folder: database, lock file, logs (env NEWSWATCH_DATA, default ./var)",
    )
    level = p.add_mutually_exclusive_group()
    level.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail, tracebacks on errors"
    )
    level.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser(
        "check-config",
        help="validate and lint the configuration",
        description="Validate the three YAML files; errors as FILE:LINE: PATH: message, exit 2.",
    )
    c = sub.add_parser(
        "crawl",
        help="one crawl round now",
        description="Crawl every source (or the named ones) once.",
    )
    c.add_argument(
        "--source", action="append", metavar="NAME", help="only this source (repeatable)"
    )
    c.add_argument("--json", action="store_true", help="print JSON summary lines")
    sub.add_parser("dispatch", help="deliver every due alert once, then exit")
    r = sub.add_parser("run", help="the service, until SIGTERM/SIGINT")
    r.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve the web interface, /api/v1, /healthz and /metrics here (e.g. "
        "127.0.0.1:9410; another address than loopback needs NEWSWATCH_WEB_TOKEN)",
    )
    r.add_argument("--log-format", choices=["text", "json"], default="text")
    m = sub.add_parser("match", help="match a text or a saved page against watches")
    m.add_argument("--watches", type=Path, required=True, metavar="FILE")
    m.add_argument("--html", action="store_true", help="the input is an HTML page: clean it")
    m.add_argument("--url", help="the page's URL (with --html)")
    m.add_argument("--json", action="store_true")
    m.add_argument("path", nargs="?", default="-", metavar="PATH|-")
    e = sub.add_parser("extract", help="what the cleaner keeps from a saved page")
    e.add_argument("path", metavar="PATH")
    e.add_argument("--url", help="the page's URL (default: file://PATH)")
    e.add_argument("--json", action="store_true")
    s = sub.add_parser("status", help="sources, last runs, errors, alert queue")
    s.add_argument("--json", action="store_true")
    t = sub.add_parser("test-alert", help="send a sample alert through one channel")
    t.add_argument("channel", metavar="CHANNEL")
    d = sub.add_parser("demo", help="the whole pipeline offline, on a bundled local site")
    d.add_argument("--keep", action="store_true", help="keep the demo's temporary folder")
    disc = sub.add_parser("discover", help="print a sources.yaml entry for a site")
    disc.add_argument("url", metavar="URL")
    disc.add_argument("--name", help="the source name to print (default: from the host)")
    w = sub.add_parser("web", help="the web interface and /api/v1 alone")
    w.add_argument(
        "--http",
        metavar="HOST:PORT",
        default="127.0.0.1:9410",
        help="where to listen (default 127.0.0.1:9410; another address than loopback needs "
        "NEWSWATCH_WEB_TOKEN)",
    )
    a = sub.add_parser("alerts", help="list pending, retrying and dead deliveries")
    a.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    a.add_argument("--channel", help="only this channel")
    a.add_argument("--json", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newswatch`` command."""
    args = _parser().parse_args(argv)
    verbosity = -1 if args.quiet else args.verbose
    args.verbosity = verbosity
    fmt = getattr(args, "log_format", "text")
    setup_logging(verbosity, fmt)
    handler: Handler = COMMANDS[args.command]
    try:
        return handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        errors = sum(1 for p in exc.problems if p.severity == "error")
        print(f"newswatch: configuration has {errors} error(s)", file=sys.stderr)
        return 2
    except NewswatchError as exc:
        logger.debug("failure", exc_info=True)
        print(f"newswatch: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if verbosity > 0:
            raise
        print(
            f"newswatch: {args.command} failed: {type(exc).__name__}: {exc} "
            "(run with -v for details)",
            file=sys.stderr,
        )
        return 1


def _config(args: argparse.Namespace) -> Config:
    from crawler.service.logs import add_secrets

    add_secrets(secrets_from_config(args.config))
    return load_config(args.config, args.data)


def _store(args: argparse.Namespace) -> Store:
    store = Store.for_data_dir(args.data)
    store.migrate()
    return store


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _config(args)
    for problem in config.warnings:
        print(problem.render(), file=sys.stderr)
    enabled = ", ".join(config.channels) or "none"
    print(
        f"{args.config}: OK — {len(config.sources)} sources, {len(config.watches)} watches, "
        f"channels enabled: {enabled}"
    )
    for name, why in config.disabled_channels.items():
        print(f"  channel {name} disabled: {why}")
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.crawl import crawl_in_process, summary_json
    from crawler.service.rounds import crawl_in_children

    config = _config(args)
    store = _store(args)
    try:
        names = args.source or [s.name for s in config.sources if s.enabled]
        try:
            chosen = [config.source(n) for n in names]
        except KeyError as exc:
            print(f"newswatch: {exc.args[0]}", file=sys.stderr)
            return 2
        if len(chosen) == 1:
            level = "DEBUG" if args.verbosity > 1 else "WARNING"
            summaries = [crawl_in_process(config, chosen[0], store, log_level=level)]
        else:
            summaries = crawl_in_children(config, chosen, store, verbosity=args.verbosity)
    finally:
        store.close()
    for summary in summaries:
        print(summary_json(summary) if args.json else summary.line(), flush=True)
    return 1 if any(s.status != "ok" for s in summaries) else 0


def cmd_dispatch(args: argparse.Namespace) -> int:
    from pipelines.deliver.dispatch import Dispatcher

    config = _config(args)
    store = _store(args)
    try:
        digests = {w.name: w.digest for w in config.watches}
        summary = Dispatcher(store, config.channels, digests=digests, ops=config.ops).run_once()
    finally:
        store.close()
    for line in summary.errors:
        print(line, file=sys.stderr)
    print(
        f"sent {summary.sent}, failed {summary.failed} (will retry), dead {summary.dead}, "
        f"waiting {summary.skipped}"
    )
    return 1 if summary.failed or summary.dead else 0


def cmd_run(args: argparse.Namespace) -> int:
    from crawler.service.main import run_service

    return run_service(
        args.config, args.data, http=args.http, log_format=args.log_format, verbosity=args.verbosity
    )


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def cmd_match(args: argparse.Namespace) -> int:
    from pipelines.match.matcher import Matcher, explain, matches_to_json
    from pipelines.match.text import canonicalize, document_text

    watches, warnings = load_watches_file(args.watches)
    for problem in warnings:
        print(problem.render(), file=sys.stderr)
    raw = _read_input(args.path)
    title_length = 0
    if args.html:
        from pipelines.clean.extract import decode_html, extract

        url = args.url or "http://localhost/page.html"
        page = extract(raw, url)
        if page is None:
            print(f"newswatch: {args.path}: no article text found in this page", file=sys.stderr)
            text = canonicalize(decode_html(raw))
        else:
            text, title_length = document_text(page.title, page.text)
    else:
        text = canonicalize(raw.decode("utf-8", errors="replace"))
    matches = Matcher.compile(watches).match(text, title_length=title_length)
    if args.json:
        print(json.dumps(matches_to_json(matches), ensure_ascii=False, indent=1))
    else:
        print(explain(matches) if matches else "no watch matched")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from pipelines.clean.extract import extract, extract_to_json

    path = Path(args.path)
    url = args.url or path.resolve().as_uri()
    page = extract(_read_input(args.path), url)
    if page is None:
        print(f"newswatch: {args.path}: no article text found in this page", file=sys.stderr)
        return 1
    data = extract_to_json(page)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print(
            f"# {data['title']}\n{data['url']}\npublished: {data['published'] or '?'}"
            f"   author: {data['author'] or '?'}\n\n{data['text']}"
        )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from crawler.service.status import render_status

    config = _config(args)
    store = _store(args)
    try:
        print(render_status(config, store, as_json=args.json))
    finally:
        store.close()
    return 0


def cmd_test_alert(args: argparse.Namespace) -> int:
    from pipelines.deliver.dispatch import send_test_alert

    config = _config(args)
    channel = config.channels.get(args.channel)
    if channel is None:
        why = config.disabled_channels.get(args.channel)
        if why:
            print(f"newswatch: channel {args.channel} is disabled: {why}", file=sys.stderr)
        else:
            known = ", ".join([*config.channels, *config.disabled_channels])
            print(
                f"newswatch: no channel named {args.channel!r} (channels: {known})", file=sys.stderr
            )
        return 2
    answer = send_test_alert(channel)
    print(f"{args.channel}: sent; receiver answered: {answer}")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from pipelines.deliver.alertqueue import format_deliveries, list_deliveries, retry_dead

    store = _store(args)
    try:
        if args.action == "retry":
            count = retry_dead(store, args.channel)
            print(f"re-queued {count} dead deliveries")
            return 0
        rows = list_deliveries(store)
        if args.channel:
            rows = [r for r in rows if r.get("channel") == args.channel]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        else:
            print(format_deliveries(rows) if rows else "no pending, retrying or dead alerts")
    finally:
        store.close()
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from crawler.service.logs import redact
    from crawler.service.metrics import Metrics
    from crawler.service.status import channel_counts
    from crawler.web.app import build_app
    from crawler.web.context import WebContext, allowed_hosts, check_bind, token_from_env
    from crawler.web.server import WebServer

    token = token_from_env()
    try:
        host, port = check_bind(args.http, token)
    except ValueError as exc:  # a malformed address, or no token for a network bind
        print(f"newswatch: {exc}", file=sys.stderr)
        return 2
    config = _config(args)
    store = _store(args)

    def store_check() -> str | None:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None

    context = WebContext(
        store,
        lambda: config,
        registry=Metrics(store, channel_counts).registry,
        checks={"store": store_check},
        token=token,
        redact=redact,
        allowed_hosts=allowed_hosts(host, token),
    )
    server = WebServer(build_app(context), host, port)
    try:
        server.serve(ready=lambda url: print(f"serving {url}/", flush=True))
    except OSError as exc:
        print(f"newswatch: cannot listen on {args.http}: {exc.strerror}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.demo.run import run_demo

    return run_demo(keep=args.keep, verbosity=args.verbosity)


def cmd_discover(args: argparse.Namespace) -> int:
    from crawler.onboard import discover_source

    print(discover_source(args.url, name=args.name))
    return 0


COMMANDS: dict[str, Handler] = {
    "check-config": cmd_check_config,
    "crawl": cmd_crawl,
    "dispatch": cmd_dispatch,
    "run": cmd_run,
    "match": cmd_match,
    "extract": cmd_extract,
    "status": cmd_status,
    "test-alert": cmd_test_alert,
    "demo": cmd_demo,
    "discover": cmd_discover,
    "alerts": cmd_alerts,
    "web": cmd_web,
}

if __name__ == "__main__":
    sys.exit(main())
