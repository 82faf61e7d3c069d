"""The store's schema migrations, run by Alembic (``newswatch db upgrade`` / ``db current``).

The revisions are in ``versions/``; a released one never changes. :func:`upgrade` runs
them on one of the store's transactions: on PostgreSQL it first takes an advisory lock, so
several workers starting at once migrate one after the other; on SQLite the write lock that
:meth:`~pipelines.store.database.Store.begin` takes does the same. A database made before
Alembic (its history in a ``schema_version`` table) is taken over by the first revision in
place, with nothing lost. A database at a revision this release does not know was upgraded
by a newer release: it is refused with one line, never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, inspect, select

from pipelines.errors import StoreError

__all__ = ["HEAD", "NewerDatabase", "current", "head", "upgrade"]

#: The newest revision this release knows; a test checks it against ``versions/``. Kept
#: here so that the common case -- a database already up to date -- costs one SELECT.
HEAD = "0004_stories"

# pg_advisory_xact_lock key: "newswatch" in ASCII, truncated to fit a bigint.
_LOCK_KEY = 0x6E65777377617463

_HERE = Path(__file__).resolve().parent

log = logging.getLogger(__name__)
# Alembic narrates every start ("Context impl SQLiteImpl"); newswatch says what changed.
logging.getLogger("alembic").setLevel(logging.WARNING)

Begin = Callable[[], AbstractContextManager[Connection]]


class NewerDatabase(StoreError):
    """The database was upgraded by a newer release of newswatch."""


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.set_main_option("path_separator", "os")
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def head() -> str:
    """The newest revision in ``versions/`` (loads every revision module)."""
    found = ScriptDirectory.from_config(_config()).get_current_head()
    if found is None:  # pragma: no cover - versions/ is never empty
        raise StoreError("no migrations found")
    return found


def current(conn: Connection) -> str | None:
    """The revision the database is at; ``None`` for an empty (or pre-Alembic) database."""
    return MigrationContext.configure(conn).get_current_revision()


def _check_known(revision: str | None) -> None:
    if revision is None or revision == HEAD:
        return
    script = ScriptDirectory.from_config(_config())
    try:
        script.get_revision(revision)
    except Exception:
        raise NewerDatabase(
            f"the database is at schema revision {revision}, which this newswatch does not "
            f"know (it knows up to {HEAD}): it was upgraded by a newer release; run that "
            "release, or restore a backup"
        ) from None


def upgrade(begin: Begin) -> str:
    """Bring the schema to :data:`HEAD` in one transaction from ``begin``; returns HEAD."""
    with begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
        tables = set(inspect(conn).get_table_names())
        at = current(conn) if "alembic_version" in tables else None
        if at == HEAD:
            return HEAD
        _check_known(at)
        command.upgrade(_config(conn), "head")
    if at is None and not tables:
        log.info("database schema created (%s)", HEAD)
    else:
        log.info("database schema upgraded from %s to %s", at or "newswatch 0.1", HEAD)
    return HEAD


def downgrade(begin: Begin, revision: str) -> None:
    """Go back to ``revision`` (for tests and for undoing a failed release)."""
    with begin() as conn:
        command.downgrade(_config(conn), revision)
