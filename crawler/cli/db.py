"""``newswatch db upgrade`` and ``newswatch db current``: the store's schema revision.

Every command upgrades the schema itself when it opens the store; ``db upgrade`` is for
doing it on purpose (before starting several workers, after installing a release), and
``db current`` for seeing where a database stands without changing it.
"""

from __future__ import annotations

import argparse

from sqlalchemy import inspect

from crawler.cli.common import command, store_of
from pipelines.store.migrations import HEAD

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub,
        "db",
        cmd_db,
        "the database's schema revision: upgrade it, or show it",
        "upgrade: bring the database to this release's schema (in place, nothing lost); "
        "current: show the revision it is at.",
    )
    p.add_argument("action", choices=["upgrade", "current"])


def cmd_db(args: argparse.Namespace) -> int:
    store = store_of(args, migrate=False)
    try:
        if args.action == "upgrade":
            before = store.revision()
            empty = before is None and not inspect(store.engine).get_table_names()
            after = store.migrate()
            if before == after:
                print(f"{store.safe_url}: already at {after} (the newest this release knows)")
            elif empty:
                print(f"{store.safe_url}: new database, schema created up to {after}")
            else:
                print(f"{store.safe_url}: upgraded from {before or 'newswatch 0.1'} to {after}")
            return 0
        at = store.revision()
    finally:
        store.close()
    if at is None:
        print(f"{store.safe_url}: no newswatch schema yet (newswatch db upgrade creates it)")
        return 0
    state = "newest" if at == HEAD else f"this release knows up to {HEAD}"
    print(f"{at} ({state})")
    return 0
