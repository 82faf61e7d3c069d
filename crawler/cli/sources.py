"""``newswatch sources list | add NAME``: the catalogue of outlets (config/catalogue.yaml)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.cli.common import command
from pipelines.errors import NewswatchError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    src = command(
        sub,
        "sources",
        cmd_sources,
        "the catalogue of outlets: list it, or add one to sources.yaml",
        "Outlets of config/catalogue.yaml are off until added to sources.yaml.",
    )
    src.add_argument("action", choices=["list", "add"])
    src.add_argument("name", nargs="?", metavar="NAME", help="the outlet to add")
    src.add_argument("--catalogue", type=Path, metavar="FILE", help="default CONFIG/catalogue.yaml")


def cmd_sources(args: argparse.Namespace) -> int:
    from crawler.catalogue import add_outlet, list_outlets

    catalogue = args.catalogue or args.config / "catalogue.yaml"
    sources_file = args.config / "sources.yaml"
    if args.action == "list":
        print(list_outlets(catalogue, sources_file))
        return 0
    if not args.name:
        print("newswatch: sources add needs the NAME of an outlet", file=sys.stderr)
        return 2
    try:
        outlet = add_outlet(args.name, catalogue, sources_file)
    except NewswatchError as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 2
    print(f"added {outlet.name} ({outlet.label}) to {sources_file}")
    if not outlet.checked:
        print(
            f"its feeds are unchecked: try `newswatch -v crawl --source {outlet.name}`; "
            "a running service picks it up on SIGHUP or restart"
        )
    return 0
