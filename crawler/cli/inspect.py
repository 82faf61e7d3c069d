"""Commands that show what one stage does: ``match``, ``extract``, ``test-alert``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from crawler.cli.common import command, config_of, read_input
from crawler.config import load_watches_file

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    m = command(sub, "match", cmd_match, "match a text or a saved page against watches")
    m.add_argument("--watches", type=Path, required=True, metavar="FILE")
    m.add_argument("--html", action="store_true", help="the input is an HTML page: clean it")
    m.add_argument("--url", help="the page's URL (with --html)")
    m.add_argument("--json", action="store_true")
    m.add_argument("path", nargs="?", default="-", metavar="PATH|-")
    e = command(sub, "extract", cmd_extract, "what the cleaner keeps from a saved page")
    e.add_argument("path", metavar="PATH")
    e.add_argument("--url", help="the page's URL (default: file://PATH)")
    e.add_argument("--json", action="store_true")
    t = command(sub, "test-alert", cmd_test_alert, "send a sample alert through one channel")
    t.add_argument("channel", metavar="CHANNEL")


def cmd_match(args: argparse.Namespace) -> int:
    from pipelines.match.matcher import Matcher, explain, matches_to_json
    from pipelines.match.text import article_document, canonicalize

    watches, warnings = load_watches_file(args.watches)
    for problem in warnings:
        print(problem.render(), file=sys.stderr)
    raw = read_input(args.path)
    title_length = 0
    captions_start: int | None = None
    if args.html:
        from pipelines.clean.extract import decode_html, extract

        url = args.url or "http://localhost/page.html"
        page = extract(raw, url)
        if page is None:
            print(f"newswatch: {args.path}: no article text found in this page", file=sys.stderr)
            text = canonicalize(decode_html(raw))
        else:
            text, title_length, captions_start = article_document(
                page.title, page.text, page.captions
            )
    else:
        text = canonicalize(raw.decode("utf-8", errors="replace"))
    matches = Matcher.compile(watches).match(
        text, title_length=title_length, captions_start=captions_start
    )
    if args.json:
        print(json.dumps(matches_to_json(matches), ensure_ascii=False, indent=1))
    else:
        print(explain(matches) if matches else "no watch matched")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from pipelines.clean.extract import extract, extract_to_json

    path = Path(args.path)
    url = args.url or path.resolve().as_uri()
    page = extract(read_input(args.path), url)
    if page is None:
        print(f"newswatch: {args.path}: no article text found in this page", file=sys.stderr)
        return 1
    data = extract_to_json(page)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        captions = "".join(f"\n- {c}" for c in data["captions"])
        print(
            f"# {data['title']}\n{data['url']}\npublished: {data['published'] or '?'}"
            f"   author: {data['author'] or '?'}\n\n{data['text']}"
            + (f"\n\ncaptions:{captions}" if captions else "")
        )
    return 0


def cmd_test_alert(args: argparse.Namespace) -> int:
    from pipelines.deliver.dispatch import send_test_alert

    config = config_of(args)
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
