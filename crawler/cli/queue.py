"""Commands on the alert queue: ``alerts [list|retry]``."""

from __future__ import annotations

import argparse
import json

from crawler.cli.common import command, store_of

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    a = command(sub, "alerts", cmd_alerts, "list pending, retrying and dead deliveries")
    a.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    a.add_argument("--channel", help="only this channel")
    a.add_argument("--json", action="store_true")


def cmd_alerts(args: argparse.Namespace) -> int:
    from pipelines.deliver.alertqueue import format_deliveries, list_deliveries, retry_dead

    store = store_of(args)
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
