"""Migrations by Alembic: a 0.1 database is upgraded in place with every row kept, the
revisions run on both engines, and a database newer than this release is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from pipelines.errors import StoreError
from pipelines.store import migrations
from pipelines.store.database import Store
from pipelines.store.search import search
from tests.conftest import run_cli

DUMP = Path(__file__).parent / "data" / "store_v0_1.sql"


def test_head_is_the_newest_revision_in_versions() -> None:
    assert migrations.head() == migrations.HEAD


def _rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    try:
        names = [
            n
            for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if n != "schema_version" and not n.startswith(("alembic", "article_index"))
        ]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for n in names}
    finally:
        conn.close()


def test_a_0_1_database_is_upgraded_in_place_with_every_row_kept(tmp_path: Path) -> None:
    db = tmp_path / "newswatch.db"
    conn = sqlite3.connect(db)
    conn.executescript(DUMP.read_text(encoding="utf-8"))
    conn.close()
    before = _rows(db)
    assert sum(map(len, before.values())) > 50 and before["articles"]

    store = Store(f"sqlite:///{db}")
    assert store.revision() is None
    assert store.migrate() == migrations.HEAD
    after = _rows(db)
    assert {k: after[k] for k in before} == before  # every row of every table, unchanged
    assert "schema_version" not in inspect(store.engine).get_table_names()

    # The archive is searchable at once (the index was filled for the old articles),
    # and the alert 0.1 left pending is still there to be sent.
    with store.engine.connect() as c:
        found = [f.url for f in search(c, '"Nguyễn Văn Phong"')]
        scanned = [f.url for f in search(c, '"Nguyễn Văn Phong"', use_index=False)]
        pending = c.execute(text("SELECT count(*) FROM deliveries WHERE status = 'pending'"))
        assert pending.scalar() == 1
    assert found == scanned and "http://127.0.0.1/pending-1.html" in found
    store.close()


def test_revisions_upgrade_and_downgrade_on_both_engines(database_url: str) -> None:
    store = Store(database_url)
    assert store.revision() is None
    store.migrate()
    assert store.revision() == migrations.HEAD
    tables = set(inspect(store.engine).get_table_names())
    assert {"articles", "alerts", "deliveries", "article_index", "alembic_version"} <= tables
    migrations.downgrade(store.begin, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    store.migrate()
    assert store.revision() == migrations.HEAD
    store.close()


def _from_the_future(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()


def test_a_database_newer_than_this_release_is_refused_with_one_line(
    database_url: str, tmp_path: Path
) -> None:
    store = Store(database_url)
    store.migrate()
    store.close()
    _from_the_future(database_url)
    refused = Store(database_url)
    with pytest.raises(StoreError, match=r"0099_from_the_future.*newer release"):
        refused.migrate()
    refused.close()
    result = run_cli("--database", database_url, "--data", tmp_path, "status")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not know" in lines[0] and "Traceback" not in result.stderr
    current = run_cli("db", "current", "--database", database_url, "--data", tmp_path)
    assert current.returncode == 0 and "0099_from_the_future" in current.stdout


def test_db_upgrade_and_db_current(database_url: str, tmp_path: Path) -> None:
    args = ("--database", database_url, "--data", tmp_path)
    empty = run_cli("db", "current", *args)
    assert empty.returncode == 0 and "no newswatch schema yet" in empty.stdout
    up = run_cli("db", "upgrade", *args)
    assert up.returncode == 0 and f"to {migrations.HEAD}" in up.stdout
    again = run_cli(*args, "db", "upgrade")  # the options before the command work too
    assert again.returncode == 0 and "already at" in again.stdout
    now = run_cli("db", "current", *args)
    assert now.stdout.strip() == f"{migrations.HEAD} (newest)"


@pytest.mark.parametrize(
    ("url", "code", "shown"),
    [
        ("mysql://reader:s3cret-pw@127.0.0.1/news", 2, "unsupported database mysql://reader:***@"),
        ("postgresql://reader:s3cret-pw@127.0.0.1", 2, "names no database"),
        ("not a url", 2, "not a database URL"),
        (
            "postgresql+psycopg://reader:s3cret-pw@127.0.0.1:1/news",
            1,
            "cannot use database postgresql+psycopg://reader:***@127.0.0.1:1/news",
        ),
    ],
)
def test_a_bad_database_url_is_one_line_without_the_password(
    url: str, code: int, shown: str, tmp_path: Path
) -> None:
    result = run_cli("status", "--data", tmp_path, env={"NEWSWATCH_DATABASE_URL": url})
    assert result.returncode == code
    assert result.stderr.count("\n") == 1 and shown in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout
