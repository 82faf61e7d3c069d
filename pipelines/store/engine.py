"""Opening a database by URL: the URLs newswatch runs on, and each engine's settings.

SQLite: WAL, a busy timeout, foreign keys, synchronous=FULL, a 64 MiB page cache, and write
transactions that take the write lock first. PostgreSQL (psycopg 3): dead pooled
connections replaced before use, a connect timeout.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url

from pipelines.errors import StoreConfigError

__all__ = ["WRITE", "database_url", "open_engine", "without_password"]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: story band keys are read at random
    # FULL: a committed alert must survive a power cut, not only a killed process.
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()
    # Python's sqlite3 opens transactions itself, lazily, before the first INSERT, and a
    # RELEASE SAVEPOINT outside one commits: an article and its alerts would land in two
    # transactions. Transactions are begun by _sqlite_begin instead.
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    # A writer takes the write lock first (IMMEDIATE): a deferred transaction that read
    # before writing fails at once, without waiting, when another process wrote meanwhile.
    if conn.get_execution_options().get(WRITE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


#: the execution option of the store's write transactions (SQLite: BEGIN IMMEDIATE)
WRITE = "newswatch_write"

# The schemes newswatch runs on, and the driver each one uses.
_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def database_url(url: str) -> URL:
    """Parse and check a database URL; a wrong one is a :class:`StoreConfigError` that
    names it without its password. ``postgresql://`` and ``postgres://`` mean psycopg 3."""
    try:
        parsed = make_url(url)
    except Exception:
        raise StoreConfigError(
            f"not a database URL: {without_password(url)!r} "
            "(expected sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DB)"
        ) from None
    backend = "postgresql" if parsed.get_backend_name() == "postgres" else parsed.get_backend_name()
    driver = _DRIVERS.get(backend)
    if driver is None or (parsed.drivername not in (backend, driver, "postgres")):
        raise StoreConfigError(
            f"unsupported database {parsed.render_as_string(hide_password=True)}: newswatch "
            "runs on sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DB"
        )
    if backend == "postgresql" and not parsed.database:
        raise StoreConfigError(
            f"database URL {parsed.render_as_string(hide_password=True)} names no database "
            "(postgresql+psycopg://USER@HOST:PORT/DB)"
        )
    return parsed.set(drivername=driver)


def without_password(url: str) -> str:
    """A URL as it may be shown or logged: its password replaced by ``***`` (also when the
    URL cannot be parsed)."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def open_engine(url: URL) -> Engine:
    """The engine of a URL checked by :func:`database_url`, with its engine's settings."""
    if url.get_backend_name() == "postgresql":
        # pre_ping: a connection the server dropped (a restart) is replaced before use, so
        # the round after a restart succeeds instead of failing on a dead pooled socket.
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine
