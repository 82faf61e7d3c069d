"""The store's own guarantees: one alert per watch and article, history pruning."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from pipelines.schema import deliveries, runs, seen_urls, utcnow
from pipelines.store import ArticleRecord, HitRecord, MatchRecord, Store


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
