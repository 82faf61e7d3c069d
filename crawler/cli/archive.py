"""Commands over the stored articles: ``search`` and ``backfill``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta

from crawler.cli.common import command, config_of, span, store_of
from pipelines.match.query import QuerySyntaxError
from pipelines.store.schema import utcnow
from pipelines.store.search import query_watch, search

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = command(
        sub,
        "search",
        cmd_search,
        "search the stored articles with the watches' query language",
        'Search stored articles, newest first: QUERY is a watch query ("…", AND, OR, NOT, '
        "parentheses, NEAR/n) with the same accents and case rules as the watches.",
    )
    s.add_argument("query", metavar="QUERY")
    s.add_argument("--since", type=span, metavar="SPAN", help="only the last SPAN (7d, 12h)")
    s.add_argument("--source", action="append", default=[], metavar="NAME", help="repeatable")
    s.add_argument("--limit", type=int, default=20, metavar="N", help="at most N (default 20)")
    s.add_argument("--json", action="store_true", help="print one JSON array")
    b = command(
        sub,
        "backfill",
        cmd_backfill,
        "run watches over stored articles: what would have alerted, or alert it now",
        "Run the configured watches (or the named ones) over the stored articles. By default "
        "only lists what would have alerted; --send queues those alerts through the outbox "
        "(an alert that exists is never made again).",
    )
    b.add_argument("--watch", action="append", default=[], metavar="NAME", help="repeatable")
    b.add_argument(
        "--since", type=span, default=timedelta(days=30), metavar="SPAN", help="default 30d"
    )
    mode = b.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="list only (the default)")
    mode.add_argument("--send", action="store_true", help="queue the alerts for delivery")
    b.add_argument("--json", action="store_true", help="print one JSON array")


def _cutoff(ago: timedelta | None) -> datetime | None:
    return utcnow() - ago if ago is not None else None


def cmd_search(args: argparse.Namespace) -> int:
    if args.limit < 1:
        print("newswatch: --limit must be at least 1", file=sys.stderr)
        return 2
    try:
        query_watch(args.query)  # a query that does not parse needs no database
    except QuerySyntaxError as exc:
        print(f"newswatch: search: {exc}", file=sys.stderr)
        print(f"  {args.query}\n  {' ' * (exc.column - 1)}^", file=sys.stderr)
        return 2
    store = store_of(args)
    try:
        with store.engine.connect() as conn:
            found = search(
                conn, args.query, since=_cutoff(args.since), sources=args.source, limit=args.limit
            )
    finally:
        store.close()
    if args.json:
        print(json.dumps([f.to_json() for f in found], ensure_ascii=False, indent=1))
        return 0
    if not found:
        print("no stored article matches")
    for f in found:
        when = (f.published or f.fetched_at).astimezone().strftime("%Y-%m-%d %H:%M")
        print(f"{when}  {f.source}  {f.title}\n  {f.url}\n  {f.snippet}\n")
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from pipelines.store.backfill import backfill

    config = config_of(args)
    known = {w.name for w in config.watches}
    unknown = [w for w in args.watch if w not in known]
    if unknown:
        print(
            f"newswatch: no watch named {', '.join(map(repr, unknown))} "
            f"(watches: {', '.join(sorted(known))})",
            file=sys.stderr,
        )
        return 2
    watches = [w for w in config.watches if not args.watch or w.name in args.watch]
    notify = {w.name: tuple(w.notify) for w in watches}
    store = store_of(args)
    try:
        report = backfill(store, watches, notify, since=_cutoff(args.since), send=args.send)
    finally:
        store.close()
    if args.json:
        print(json.dumps([f.to_json() for f in report.found], ensure_ascii=False, indent=1))
        return 0
    for f in report.found:
        if f.exists:
            state = "alert exists"
        elif f.grouped:
            state = f"grouped (story {f.story} alerts once)"
        else:
            state = "queued" if args.send else "would alert"
        print(f"{f.watch}  {state}  {f.title}\n  {f.url}")
    verb = "queued" if args.send else "would alert (run with --send to queue them)"
    grouped = ""
    if report.grouped:
        grouped = f", {report.grouped} copies grouped with their story's alert"
    print(
        f"{report.scanned} stored articles scanned, {len(report.new)} new alerts {verb}, "
        f"{report.existing} already alerted{grouped}"
    )
    return 0
