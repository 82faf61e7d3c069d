"""Scratch PostgreSQL databases for the benchmarks that measure both engines."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

__all__ = ["scratch_databases"]


@contextmanager
def scratch_databases(
    admin_url: str, count: int, skipped: str = "\n== postgresql skipped: {} =="
) -> Iterator[list[str]]:
    """``count`` new databases on the server (dropped afterwards); none, with the
    ``skipped`` note printed (``{}``: why), when the server cannot be reached."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    names = [f"nwbench_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(skipped.format(str(exc).splitlines()[0]))
        admin.dispose()
        yield []
        return
    try:
        yield [admin.url.set(database=name).render_as_string(hide_password=False) for name in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
