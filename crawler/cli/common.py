"""What every command shares: the global options, the configuration and the store.

``--config``, ``--data`` and ``--database`` are accepted before the command and after it
(``newswatch --database URL status`` and ``newswatch status --database URL``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from crawler.config import Config, load_config, parse_duration
from crawler.service.logs import add_secrets, secrets_from_config
from pipelines.store.database import Store

__all__ = [
    "Handler",
    "add_global_options",
    "command",
    "config_of",
    "read_input",
    "span",
    "store_of",
]

Handler = Callable[[argparse.Namespace], int]


def _location_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    # On a command's own parser the defaults are SUPPRESS, so an option given before the
    # command is not overwritten by the command parser's default.
    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    p.add_argument(
        "--config",
        type=Path,
        metavar="DIR",
        default=default(Path(os.environ.get("NEWSWATCH_CONFIG", "config"))),
        help="configuration folder (env NEWSWATCH_CONFIG, default ./config)",
    )
    p.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        default=default(Path(os.environ.get("NEWSWATCH_DATA", "var"))),
        help="data folder: database, lock file, logs (env NEWSWATCH_DATA, default ./var)",
    )
    p.add_argument(
        "--database",
        metavar="URL",
        default=default(os.environ.get("NEWSWATCH_DATABASE_URL") or None),
        help="database URL, sqlite:///FILE or postgresql+psycopg://USER@HOST/DB "
        "(env NEWSWATCH_DATABASE_URL, default: SQLite file DATA/newswatch.db)",
    )


def add_global_options(p: argparse.ArgumentParser) -> None:
    """The options of every command, on the top-level parser."""
    _location_options(p, top=True)
    level = p.add_mutually_exclusive_group()
    level.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail, tracebacks on errors"
    )
    level.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")


def command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Handler,
    help: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """Add one command: its parser knows the location options and calls ``handler``."""
    p = sub.add_parser(name, help=help, description=description or help)
    _location_options(p, top=False)
    p.set_defaults(handler=handler)
    return p


def config_of(args: argparse.Namespace) -> Config:
    """Load and validate the configuration (secrets are registered for log scrubbing first)."""
    add_secrets(secrets_from_config(args.config))
    return load_config(args.config, args.data)


def store_of(args: argparse.Namespace, *, migrate: bool = True) -> Store:
    """Open the store the options name, migrated to this release's schema."""
    store = Store.open(args.database, args.data)
    if store.engine.url.password:
        add_secrets([str(store.engine.url.password)])
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store


def read_input(path: str) -> bytes:
    """The bytes of a file, or of standard input for ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def span(value: str) -> timedelta:
    """An argparse type for ``--since 7d``: a duration as sources.yaml writes them."""
    try:
        return timedelta(seconds=parse_duration(value))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
