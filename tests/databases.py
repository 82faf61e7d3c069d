"""Throw-away databases for tests that must hold on SQLite and on the real PostgreSQL.

Each PostgreSQL test gets a database of its own (``CREATE DATABASE nwtest_…``), dropped
afterwards, so tests never see each other's rows and can run in parallel. Where the server
is not reachable such tests skip with the reason -- except under ``CI=true``, where that is
a failure: CI must never pass by skipping the PostgreSQL half silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

__all__ = ["ENGINES", "POSTGRES_ADMIN", "database_url_for", "postgres_database", "require_postgres"]

ENGINES = ["sqlite", "postgresql"]

#: The server the PostgreSQL tests use (any database on it; new ones are created beside it).
POSTGRES_ADMIN = os.environ.get(
    "NEWSWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@lru_cache(maxsize=1)
def _unreachable() -> str | None:
    engine = create_engine(POSTGRES_ADMIN, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN} ({first})"
    finally:
        engine.dispose()
    return None


def require_postgres() -> None:
    """Skip (or, under ``CI=true``, fail) when the test server is not reachable."""
    reason = _unreachable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the PostgreSQL tests", pytrace=False)
    pytest.skip(reason)


def _admin_execute(sql: str) -> None:
    engine = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; its URL. Dropped afterwards."""
    require_postgres()
    name = f"nwtest_{uuid.uuid4().hex[:16]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield str(
            create_engine(POSTGRES_ADMIN)
            .url.set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database_url_for(engine: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the given engine (``sqlite`` or ``postgresql``)."""
    if engine == "sqlite":
        tmp_path.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{(tmp_path / 'newswatch.db').as_posix()}"
    else:
        with postgres_database() as url:
            yield url
