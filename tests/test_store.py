"""The store's own guarantees: one alert per watch and article, history pruning."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from pipelines.store import articles
from pipelines.store.articles import ArticleRecord, HitRecord, MatchRecord, mark_seen
from pipelines.store.database import Store
from pipelines.store.schema import deliveries, runs, seen_urls, utcnow


def _store(tmp_path: Path) -> Store:
    store = Store.for_data_dir(tmp_path)
    store.migrate()
    return store


def _article(url: str = "https://tuoitrethudo.vn/a-1.html") -> ArticleRecord:
    return ArticleRecord(url=url, source="tuoitrethudo", title="T", text="T\nquận Hai Bà Trưng")


def _match() -> MatchRecord:
    hit = HitRecord("quận Hai Bà Trưng", 2, 19, "quận Hai Bà Trưng", "… quận Hai Bà Trưng …")
    return MatchRecord("hbt", "Hai Bà Trưng", [hit], ["local", "newsroom"])


def test_an_article_alerts_once_even_when_recorded_again(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first = store.record_article(_article(), [_match()])
    again = store.record_article(_article(), [_match()])
    reopened = _store(tmp_path)  # a restart
    third = reopened.record_article(_article(), [_match()])
    assert (first.alerts, first.deliveries) == (1, 2)
    assert not again.stored and not third.stored and again.alerts == third.alerts == 0
    with reopened.begin() as conn:
        ids = conn.execute(select(deliveries.c.message_id)).scalars().all()
    assert len(ids) == 2 and len(set(ids)) == 2
    store.close()
    reopened.close()


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert store.migrate() == store.migrate()
    store.close()


def test_prune_history_keeps_recent_runs_and_articles(tmp_path: Path) -> None:
    store = _store(tmp_path)
    old, recent = store.start_run("s"), store.start_run("s")
    store.finish_run(old, "ok")
    store.finish_run(recent, "ok")
    store.mark_seen("https://tuoitrethudo.vn/not-news-2.html")
    store.record_article(_article(), [])
    long_ago = utcnow() - timedelta(days=200)
    with store.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == old).values(started_at=long_ago))
        conn.execute(update(seen_urls).values(seen_at=long_ago))
    removed = store.prune_history(90)
    assert removed["runs"] == 1 and removed["seen_urls"] == 1
    with store.begin() as conn:
        assert conn.execute(select(runs.c.id)).scalars().all() == [recent]
        kept = conn.execute(select(seen_urls.c.url)).scalars().all()
    assert kept == ["https://tuoitrethudo.vn/a-1.html"]  # the stored article stays "seen"
    store.close()


def test_an_article_and_its_alerts_commit_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A failure after the article row is written (here: recording its match) must leave
    # nothing behind: an article stored without its alert would never alert, because the
    # next round finds it already stored.
    store = _store(tmp_path)

    def broken(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(articles, "_record_match", broken)
    with pytest.raises(RuntimeError):
        store.record_article(_article(), [_match()])
    assert store.seen([_article().url]) == set()
    monkeypatch.undo()
    again = store.record_article(_article(), [_match()])
    assert again.stored and again.alerts == 1
    store.close()


def test_a_batch_stores_each_article_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    real = articles._record_match

    def failing_for_b(conn: Any, article: ArticleRecord, *rest: Any) -> None:
        if article.url.endswith("b-2.html"):
            raise RuntimeError("bad row")
        real(conn, article, *rest)

    monkeypatch.setattr(articles, "_record_match", failing_for_b)
    urls = [f"https://tuoitrethudo.vn/{n}.html" for n in ("a-1", "b-2", "c-3")]
    results = store.record_articles([(_article(u), [_match()]) for u in urls])
    assert isinstance(results[1], RuntimeError)
    assert [r.alerts for r in results if not isinstance(r, Exception)] == [1, 1]
    assert store.seen(urls) == {urls[0], urls[2]}
    with store.begin() as conn:
        assert len(conn.execute(select(deliveries.c.id)).all()) == 4
    store.close()


def test_writers_wait_for_each_other_instead_of_failing(tmp_path: Path) -> None:
    # Two processes (a crawl and the dispatcher) write the same file: a transaction that
    # reads before it writes must not fail with "database is locked" when the other one
    # wrote in between.
    store, other = _store(tmp_path), Store.for_data_dir(tmp_path)
    with store.begin() as conn:
        conn.execute(select(seen_urls.c.url)).all()
        done = threading.Event()

        def write_meanwhile() -> None:
            other.mark_seen("https://tuoitrethudo.vn/elsewhere-9.html")
            done.set()

        worker = threading.Thread(target=write_meanwhile)
        worker.start()
        assert not done.wait(0.3)  # it waits for this transaction
        mark_seen(conn, "https://tuoitrethudo.vn/here-8.html", None)
    worker.join(10)
    assert done.is_set()
    assert len(store.seen(["https://tuoitrethudo.vn/elsewhere-9.html"])) == 1
    store.close()
    other.close()
