"""The store's own guarantees, on SQLite and on the real PostgreSQL: one alert per watch and
article, all-or-nothing articles, group commit, history and archive pruning."""

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
from tests.databases import postgres_database


def _store(url: str) -> Store:
    store = Store(url)
    store.migrate()
    return store


def _article(url: str = "https://tuoitrethudo.vn/a-1.html") -> ArticleRecord:
    return ArticleRecord(url=url, source="tuoitrethudo", title="T", text="T\nquận Hai Bà Trưng")


def _match() -> MatchRecord:
    hit = HitRecord("quận Hai Bà Trưng", 2, 19, "quận Hai Bà Trưng", "… quận Hai Bà Trưng …")
    return MatchRecord("hbt", "Hai Bà Trưng", [hit], ["local", "newsroom"])


def test_an_article_alerts_once_even_when_recorded_again(database_url: str) -> None:
    store = _store(database_url)
    first = store.record_article(_article(), [_match()])
    again = store.record_article(_article(), [_match()])
    reopened = _store(database_url)  # a restart
    third = reopened.record_article(_article(), [_match()])
    assert (first.alerts, first.deliveries) == (1, 2)
    assert not again.stored and not third.stored and again.alerts == third.alerts == 0
    with reopened.begin() as conn:
        ids = conn.execute(select(deliveries.c.message_id)).scalars().all()
    assert len(ids) == 2 and len(set(ids)) == 2
    store.close()
    reopened.close()


def test_migrate_is_idempotent(database_url: str) -> None:
    store = _store(database_url)
    assert store.migrate() == store.migrate()
    store.close()


def test_prune_history_keeps_recent_runs_and_articles(database_url: str) -> None:
    store = _store(database_url)
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
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A failure after the article row is written (here: recording its match) must leave
    # nothing behind: an article stored without its alert would never alert, because the
    # next round finds it already stored.
    store = _store(database_url)

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
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(database_url)
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
    # (SQLite only: PostgreSQL locks rows, not the whole database.)
    store, other = _store(f"sqlite:///{tmp_path}/nw.db"), Store(f"sqlite:///{tmp_path}/nw.db")
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


def test_two_dispatchers_never_claim_the_same_delivery(database_url: str) -> None:
    # Several dispatchers (on several machines) claim at once: each delivery goes to one.
    from pipelines.deliver.outbox import claim

    store = _store(database_url)
    for n in range(60):
        store.record_article(_article(f"https://tuoitrethudo.vn/a-{n}.html"), [_match()])
    claimed: list[list[str]] = [[], [], []]
    start = threading.Barrier(3)

    def dispatcher(slot: int) -> None:
        mine = Store(database_url)
        start.wait()
        for _ in range(20):
            jobs = claim(mine, "local", 5, utcnow(), lease=60)
            claimed[slot].extend(j.message_id for j in jobs)
        mine.close()

    threads = [threading.Thread(target=dispatcher, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = [m for slot in claimed for m in slot]
    assert len(everything) == 60 and len(set(everything)) == 60
    store.close()


def test_pruning_keeps_articles_whose_alert_is_pending(database_url: str) -> None:
    from pipelines.store.search import search

    store = _store(database_url)
    sent, pending, recent = (
        _article(f"https://tuoitrethudo.vn/{n}.html") for n in ("sent-1", "pending-2", "new-3")
    )
    for article in (sent, pending, recent):
        store.record_article(article, [_match()])
    long_ago = utcnow() - timedelta(days=100)
    with store.begin() as conn:
        conn.execute(
            update(articles.articles)
            .where(articles.articles.c.url != recent.url)
            .values(fetched_at=long_ago)
        )
        sent_alert = (
            select(articles.alerts.c.id)
            .join(articles.articles)
            .where(articles.articles.c.url == sent.url)
        )
        conn.execute(
            update(deliveries)
            .where(deliveries.c.alert_id.in_(sent_alert))
            .values(status="delivered")
        )
    assert store.prune_articles({"tuoitrethudo": 90 * 86400}) == 1
    assert store.prune_articles({"other-source": 1}) == 0
    assert store.seen([sent.url, pending.url, recent.url]) == {sent.url, pending.url, recent.url}
    with store.engine.connect() as conn:
        left = {f.url for f in search(conn, '"quận Hai Bà Trưng"')}
        kept = set(conn.execute(select(articles.articles.c.url)).scalars())
    assert kept == left == {pending.url, recent.url}  # the index forgot the pruned one
    store.close()


def test_a_dropped_connection_fails_one_transaction_and_the_next_succeeds() -> None:
    # What a PostgreSQL restart looks like to newswatch: the server ends every session.
    # The transaction in flight fails cleanly; the next one reconnects; nothing committed
    # is lost and the interrupted article alerts exactly once when recorded again.
    with postgres_database() as url:
        _survive_a_dropped_connection(url)


def _survive_a_dropped_connection(database_url: str) -> None:
    from sqlalchemy import create_engine, func, text

    store = _store(database_url)
    before = store.record_article(_article("https://tuoitrethudo.vn/before-1.html"), [_match()])
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    interrupted = _article("https://tuoitrethudo.vn/during-2.html")
    with pytest.raises(Exception) as failure, store.begin() as conn:
        articles.record(conn, interrupted, [_match()], utcnow())
        with admin.connect() as killer:
            killer.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        conn.execute(select(func.count()).select_from(articles.articles)).scalar()
    assert "terminat" in str(failure.value).lower() or "closed" in str(failure.value).lower()
    again = store.record_article(interrupted, [_match()])
    assert before.stored and again.stored and again.alerts == 1
    assert store.seen(["https://tuoitrethudo.vn/before-1.html"])
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 4
    admin.dispose()
    store.close()


def test_new_and_changed_watches_are_named_once_with_how_to_backfill(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from pipelines.match.rules import parse_watch
    from pipelines.store.backfill import note_watch_changes, watch_changes

    store = _store(database_url)
    hbt = parse_watch("hbt", {"any": ["quận Hai Bà Trưng"]})
    phong = parse_watch("phong", {"any": ["Nguyễn Văn Phong"]})
    note_watch_changes(store, [hbt, phong])  # the first start: nothing to compare with
    assert "backfill" not in caplog.text
    relabelled = parse_watch("hbt", {"any": ["quận Hai Bà Trưng"], "label": "HBT"})
    widened = parse_watch("phong", {"any": ["Nguyễn Văn Phong", "ông Phong"]})
    added = parse_watch("bach-mai", {"any": ["phường Bạch Mai"]})
    assert watch_changes(store, [relabelled, widened, added]) == {
        "phong": "changed",
        "bach-mai": "new",
    }
    with caplog.at_level("INFO"):
        note_watch_changes(store, [relabelled, widened, added])
    assert "newswatch backfill --watch phong --since 30d" in caplog.text
    assert "watch bach-mai is new" in caplog.text and "watch hbt" not in caplog.text
    assert watch_changes(store, [relabelled, widened, added]) == {}  # said once
    store.close()
