"""Commands that set newswatch up: ``check-config`` and ``discover``."""

from __future__ import annotations

import argparse
import sys

from crawler.cli.common import command, config_of
from crawler.config import Config
from pipelines.errors import NewswatchError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command(
        sub,
        "check-config",
        cmd_check_config,
        "validate and lint the configuration",
        "Validate the three YAML files; errors as FILE:LINE: PATH: message, exit 2.",
    )
    disc = command(sub, "discover", cmd_discover, "print a sources.yaml entry for a site")
    disc.add_argument("url", metavar="URL")
    disc.add_argument("--name", help="the source name to print (default: from the host)")


def cmd_check_config(args: argparse.Namespace) -> int:
    config = config_of(args)
    for problem in config.warnings:
        print(problem.render(), file=sys.stderr)
    enabled = ", ".join(config.channels) or "none"
    print(
        f"{args.config}: OK — {len(config.sources)} sources, {len(config.watches)} watches, "
        f"channels enabled: {enabled}"
    )
    for name, why in config.disabled_channels.items():
        print(f"  channel {name} disabled: {why}")
    for line in _backfill_hints(args, config):
        print(f"  {line}")
    return 0


def _backfill_hints(args: argparse.Namespace, config: Config) -> list[str]:
    """Backfill hints for watches that are new or changed since the service last loaded
    them -- when there is a store to compare with (check-config never creates one)."""
    from pipelines.store.backfill import backfill_hint, watch_changes
    from pipelines.store.database import Store

    if not args.database and not (args.data / "newswatch.db").is_file():
        return []
    try:
        store = Store.open(args.database, args.data)
    except NewswatchError:
        return []
    try:
        changes = watch_changes(store, config.watches)
    except Exception:  # an unreachable or older database: nothing to compare with
        return []
    finally:
        store.close()
    return [backfill_hint(name, state) for name, state in changes.items()]


def cmd_discover(args: argparse.Namespace) -> int:
    from crawler.onboard import discover_source

    print(discover_source(args.url, name=args.name))
    return 0
