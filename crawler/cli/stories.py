"""``newswatch stories``, and the story line of ``match`` and ``extract``: which story an
article joined (or would join) and why."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from typing import Any

from crawler.cli.common import command, span, store_of
from pipelines.deliver.render import DEFAULT_TIMEZONE, local_time
from pipelines.errors import NewswatchError
from pipelines.store.schema import utcnow

__all__ = ["register", "story_of_text"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = command(
        sub,
        "stories",
        cmd_stories,
        "stories: one event covered by several outlets",
        "List the stories seen in the last SPAN (newest first), with their outlets, first and "
        "last times and the watches they alerted; --json adds every article with the "
        "similarity that made it join.",
    )
    s.add_argument(
        "--since", type=span, default=timedelta(hours=24), metavar="SPAN", help="default 24h"
    )
    s.add_argument("--watch", action="append", default=[], metavar="NAME", help="repeatable")
    s.add_argument("--json", action="store_true", help="print one JSON array")


def _when(value: datetime) -> str:
    shown = local_time(value, DEFAULT_TIMEZONE)
    return shown.strftime("%d/%m %H:%M") if shown else "?"


def cmd_stories(args: argparse.Namespace) -> int:
    from pipelines.store.story_queries import list_stories

    store = store_of(args)
    try:
        with store.engine.connect() as conn:
            found = list_stories(conn, since=utcnow() - args.since, watches=args.watch)
    finally:
        store.close()
    if args.json:
        print(json.dumps([s.to_json() for s in found], ensure_ascii=False, indent=1))
        return 0
    if not found:
        print("no stories in that span")
        return 0
    for story in found:
        outlets = story.outlets
        alerted = f"  alerted: {', '.join(story.watches)}" if story.watches else ""
        print(
            f"{story.id}  {len(story.articles)} article(s), {len(outlets)} outlet(s)  "
            f"{_when(story.first_seen)} → {_when(story.last_seen)}{alerted}\n"
            f"  {story.articles[0].title if story.articles else ''}\n"
            f"  outlets: {', '.join(outlets)}"
        )
    return 0


def story_of_text(
    args: argparse.Namespace,
    title: str,
    text: str,
    url: str | None,
    published: datetime | None = None,
) -> dict[str, Any] | None:
    """The story a stored article joined (by URL), or the one this text would join if it
    were stored now (published at ``published``, default now); ``None`` when there is no
    store to ask (no database yet)."""
    from pipelines.store.story_queries import article_story, preview_story
    from pipelines.stories.fingerprint import fingerprint

    if not args.database and not (args.data / "newswatch.db").exists():
        return None
    try:
        store = store_of(args)
    except NewswatchError as exc:
        print(f"newswatch: story unknown: {exc}", file=sys.stderr)
        return None
    try:
        with store.engine.connect() as conn:
            stored = article_story(conn, url) if url else None
            if stored is not None:
                key, member = stored
                return {"id": key, "stored": True, **member.to_json()}
            decision = preview_story(conn, fingerprint(title, text), published or utcnow())
    finally:
        store.close()
    nearest = decision.nearest
    return {
        "id": decision.story,
        "stored": False,
        "similarity": round(decision.similarity, 3) if nearest else None,
        "nearest": nearest.article if nearest else None,
        "reason": decision.reason,
    }


def story_line(story: dict[str, Any]) -> str:
    """One line for the text output of ``match`` and ``extract``."""
    if story["stored"]:
        return f"story: {story['id']} — {story['reason']}"
    if story["id"]:
        return f"story: would join {story['id']} — {story['reason']}"
    return f"story: would start a new one — {story['reason'].removeprefix('new story: ')}"
