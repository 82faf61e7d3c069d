"""Stories in the store, on SQLite and on the real PostgreSQL: copies of one news item from
other outlets join its story and alert nothing new; story state survives a restart and the
upgrade from a database made before stories."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Connection, func, select, text

from pipelines.match.rules import parse_watch
from pipelines.store.articles import ArticleRecord, HitRecord, MatchRecord, record
from pipelines.store.backfill import BackfillReport, backfill
from pipelines.store.database import Store
from pipelines.store.migrations import downgrade
from pipelines.store.schema import (
    alerts,
    articles,
    deliveries,
    stories,
    story_articles,
    story_bands,
    utcnow,
)
from pipelines.store.stories import lock_stories
from pipelines.stories.decide import JOIN_AT, similarity
from pipelines.stories.fingerprint import BANDS, fingerprint
from pipelines.stories.memory import MemoryIndex
from tests.databases import postgres_database
from tests.stories_set import LabelledArticle, load

SET = {a.id: a for a in load()}
PHONG = "Nguyễn Văn Phong"


def _store(url: str) -> Store:
    store = Store(url)
    store.migrate()
    return store


def _record(article: LabelledArticle, outlet: str | None = None) -> ArticleRecord:
    return ArticleRecord(
        url=f"https://{outlet or article.outlet}.example/{article.id}.html",
        source=outlet or article.outlet,
        title=article.title,
        text=article.text,
        published=article.at,
    )


def _phong(article: LabelledArticle, updates: tuple[str, ...] = ()) -> list[MatchRecord]:
    start = article.text.index(PHONG)
    hit = HitRecord(PHONG, start, start + len(PHONG), PHONG, article.text[start : start + 60])
    return [MatchRecord("phong", "Ông Nguyễn Văn Phong", [hit], ["local", "newsroom"], updates)]


def test_copies_join_the_story_and_alert_once_across_a_restart(database_url: str) -> None:
    store = _store(database_url)
    first = store.record_article(_record(SET["s01-a"]), _phong(SET["s01-a"]))
    copy = store.record_article(_record(SET["s01-b"]), _phong(SET["s01-b"]))
    store.close()
    store = _store(database_url)  # a restart: the story is found in the store
    rewrite = store.record_article(_record(SET["s01-c"]), _phong(SET["s01-c"]))
    other_day = store.record_article(_record(SET["s02-a"]), _phong(SET["s02-a"]))

    assert (first.alerts, first.deliveries) == (1, 2)
    assert first.story_reason == "new story: no similar article within 72 h"
    assert copy.story == rewrite.story == first.story
    assert copy.alerts == rewrite.alerts == 0 and copy.grouped == rewrite.grouped == ["phong"]
    assert rewrite.story_reason.startswith("joined: 0.")
    assert other_day.story != first.story and other_day.alerts == 1  # another meeting
    with store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 4
        row = conn.execute(select(stories).where(stories.c.key == first.story)).one()
    assert row.articles == 3
    assert row.first_seen == SET["s01-a"].at and row.last_seen == SET["s01-c"].at
    store.close()


def test_a_new_outlet_sends_one_update_to_the_channels_that_ask(database_url: str) -> None:
    store = _store(database_url)
    a, b, c = SET["s03-a"], SET["s03-b"], SET["s03-c"]
    watch = "bach-mai"

    def match(article: LabelledArticle) -> list[MatchRecord]:
        start = article.text.index("Bạch Mai")
        hit = HitRecord("Bạch Mai", start, start + 8, "Bạch Mai", "…")
        return [MatchRecord(watch, "Bạch Mai", [hit], ["local", "newsroom"], ["newsroom"])]

    first = store.record_article(_record(a), match(a))
    update = store.record_article(_record(b), match(b))  # another outlet
    same_outlet = store.record_article(_record(c, outlet=b.outlet), match(c))
    assert (first.alerts, first.deliveries) == (1, 2)
    assert (update.alerts, update.deliveries) == (1, 1)  # story.updated, to newsroom only
    assert (same_outlet.alerts, same_outlet.deliveries) == (0, 0)
    assert first.story == update.story == same_outlet.story
    store.close()


def test_the_window_closes_a_story(database_url: str) -> None:
    store = _store(database_url)
    a = SET["s07-a"]
    first = store.record_article(_record(a), [])
    late = ArticleRecord(
        url="https://ben-tau.example/nhac-lai.html",
        source="ben-tau",
        title=a.title,
        text=a.text,
        published=a.at + timedelta(hours=80),
    )
    again = store.record_article(late, [])
    assert again.story != first.story
    assert again.story_reason == "new story: no similar article within 72 h"
    store.close()


def test_upgrading_a_database_made_before_stories_groups_what_it_holds(
    database_url: str,
) -> None:
    store = _store(database_url)
    for article_id in ("s01-a", "s01-b", "s02-a"):
        store.record_article(_record(SET[article_id]), _phong(SET[article_id]))
    downgrade(store.begin, "0003_watch_versions")  # as if made by the release before stories
    store.migrate()
    with store.begin() as conn:
        placed = conn.execute(
            select(story_articles.c.story_id).order_by(story_articles.c.article_id)
        ).scalars()
        first, copy, other = list(placed)
    assert first == copy != other
    # The copy's alert was sent before the upgrade; a third outlet's copy adds nothing.
    rewrite = store.record_article(_record(SET["s01-c"]), _phong(SET["s01-c"]))
    assert rewrite.alerts == 0 and rewrite.grouped == ["phong"]
    store.close()


def test_pruning_forgets_old_band_keys_and_keeps_the_stories(database_url: str) -> None:
    store = _store(database_url)
    old = replace(_record(SET["s07-a"]), published=utcnow() - timedelta(days=10))
    recent = replace(_record(SET["s08-a"]), published=utcnow() - timedelta(hours=1))
    kept, fresh = store.record_article(old, []), store.record_article(recent, [])
    removed = store.prune_history()
    assert removed["story_bands"] == BANDS
    with store.begin() as conn:
        left = set(conn.execute(select(story_bands.c.article_id)).scalars())
        keys = set(conn.execute(select(stories.c.key)).scalars())
    assert left == {fresh.article_id}
    assert keys == {kept.story, fresh.story}
    store.close()


def _normalised(reason: str, names: dict[int, str]) -> str:
    """A decision's wording with article ids replaced by the labelled set's names."""
    return re.sub(r"article (\d+)", lambda m: f"article {names[int(m.group(1))]}", reason)


def test_the_store_decides_as_a_comparison_with_every_candidate(database_url: str) -> None:
    # The store builds only the candidates the decision can pick; the in-memory index
    # compares every one. Over the labelled set (copies, trimmed rewrites, template
    # columns whose figures differ, hard negatives) both must decide alike, article by
    # article: same story or not, same nearest article, same similarity, same words.
    articles = load()
    store, index = _store(database_url), MemoryIndex()
    names: dict[int, str] = {}
    remembered = {}
    for n, article in enumerate(articles):
        result = store.record_article(_record(article), [])
        assert result.article_id is not None
        names[result.article_id] = names[n + 100_000] = article.id
        remembered[article.id] = index.assign(
            n + 100_000, article.outlet, article.at, fingerprint(article.title, article.text)
        )
    with store.begin() as conn:
        rows = conn.execute(select(story_articles).order_by(story_articles.c.article_id)).all()
    store.close()
    assert len(rows) == len(articles)
    joined = 0
    for row in rows:
        expected = remembered[names[row.article_id]]
        nearest = names[expected.nearest.article] if expected.nearest else None
        assert (names.get(row.nearest_article_id), row.similarity) == (
            nearest,
            pytest.approx(expected.similarity) if nearest else None,
        ), names[row.article_id]
        assert _normalised(row.reason, names) == _normalised(expected.reason, names)
        joined += expected.story is not None
    assert joined >= 20  # the set has stories of several outlets: most copies join


def test_a_closer_article_with_other_figures_is_passed_over_for_one_that_agrees(
    database_url: str,
) -> None:
    # Monday's gold price column, Tuesday's (other figures, one sentence reworded), and a
    # copy of Tuesday's written with Monday's wording: its nearest article is Monday's,
    # but the figures say it is Tuesday's news.
    def column(figures: tuple[str, str, str], lead: str, ending: str) -> str:
        buy, sell, change = figures
        return (
            f"{lead} giá vàng miếng trong nước được các doanh nghiệp niêm yết mua vào {buy} "
            f"triệu đồng một lượng và bán ra {sell} triệu đồng một lượng. So với phiên trước, "
            f"giá vàng tăng {change} nghìn đồng mỗi lượng ở cả hai chiều mua và bán. Giới "
            "phân tích cho rằng nhu cầu mua tích trữ cuối năm và giá vàng thế giới đi lên là "
            f"nguyên nhân chính. {ending}"
        )

    warning = "Người dân được khuyến cáo cân nhắc kỹ trước khi đầu tư."
    monday = column(("84,5", "86,5", "300"), "Sáng nay,", warning)
    tuesday = column(
        ("85,1", "87,2", "600"),
        "Mở cửa phiên giao dịch đầu tuần,",
        "Các cửa hàng vàng bạc trên phố Hàng Bạc đông khách từ sớm.",
    )
    copy = column(("85,1", "87,2", "600"), "Sáng nay,", warning)
    store = _store(database_url)
    recorded = [
        store.record_article(
            ArticleRecord(
                url=f"https://{outlet}.example/gia-vang-{n}.html",
                source=outlet,
                title="Giá vàng hôm nay",
                text=f"Giá vàng hôm nay\n{text}",
                published=SET["s01-a"].at + timedelta(hours=n),
            ),
            [],
        )
        for n, (outlet, text) in enumerate(
            [("song-hong", monday), ("ben-tau", tuesday), ("pho-co", copy)]
        )
    ]
    store.close()
    first, second, third = recorded
    assert first.story != second.story  # the figures keep the two days apart
    monday_score, tuesday_score = (
        similarity(fingerprint("Giá vàng hôm nay", copy), fingerprint("Giá vàng hôm nay", text))
        for text in (monday, tuesday)
    )
    assert monday_score > tuesday_score >= JOIN_AT  # Monday's is the nearest
    assert third.story == second.story
    assert third.story_reason.startswith("joined: ") and f"article {second.article_id}" in (
        third.story_reason
    )


def test_two_crawls_recording_copies_at_once_make_one_story(database_url: str) -> None:
    # One crawl has recorded the first copy and not committed yet when another records a
    # second copy: the second waits, then joins the first's story (without the wait, on
    # PostgreSQL, it would see no story and start its own: two alerts for one news item).
    store, other = _store(database_url), _store(database_url)
    recorded, second = threading.Event(), {}

    def record_copy() -> None:
        assert recorded.wait(timeout=30)
        second["result"] = other.record_article(_record(SET["s01-b"]), _phong(SET["s01-b"]))

    racer = threading.Thread(target=record_copy, daemon=True)
    racer.start()
    with store.begin() as conn:
        first = record(conn, _record(SET["s01-a"]), _phong(SET["s01-a"]), utcnow())
        recorded.set()
        racer.join(timeout=1.0)
        assert racer.is_alive()  # the copy waits for this transaction to end
    racer.join(timeout=30)
    result = second["result"]
    assert result.story == first.story and result.alerts == 0
    store.close()
    other.close()


def test_a_backfill_alerts_each_story_once_on_its_earliest_copy(database_url: str) -> None:
    # Three outlets' copies of one meeting and another day's meeting, stored before the
    # watch existed: the backfill lists one alert per story, on its earliest copy, and the
    # other copies as grouped with it -- as the crawl would have alerted them.
    store = _store(database_url)
    for name in ("s01-c", "s01-a", "s01-b", "s02-a"):  # not in publication order
        store.record_article(_record(SET[name]), [])
    watch = parse_watch("phong", {"any": [PHONG]})
    notify = {"phong": ("local",)}

    def states(report: BackfillReport) -> dict[str, str]:
        return {
            f.url.rsplit("/", 1)[1].removesuffix(".html"): (
                "exists" if f.exists else "grouped" if f.grouped else "alerts"
            )
            for f in report.found
        }

    dry = backfill(store, [watch], notify)
    assert states(dry) == {
        "s01-a": "alerts",
        "s01-b": "grouped",
        "s01-c": "grouped",
        "s02-a": "alerts",
    }
    assert len(dry.new) == 2 and dry.grouped == 2
    sent = backfill(store, [watch], notify, send=True)
    assert len(sent.new) == 2
    with store.begin() as conn:
        alerted = conn.execute(select(articles.c.url).join(alerts)).scalars().all()
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 2
    assert sorted(u.rsplit("/", 1)[1] for u in alerted) == ["s01-a.html", "s02-a.html"]
    again = backfill(store, [watch], notify, send=True)
    assert states(again) == {
        "s01-a": "exists",
        "s01-b": "grouped",
        "s01-c": "grouped",
        "s02-a": "exists",
    }
    assert again.new == []
    store.close()


def test_a_batch_holds_the_story_lock_even_after_a_savepoint_rolls_back() -> None:
    # A batch records each article in a savepoint; the first one failing must not leave
    # the rest of the batch placing articles without the lock (PostgreSQL only: SQLite
    # has one writer at a time).
    def held(conn: Connection) -> int:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted"
                )
            ).scalar_one()
        )

    with postgres_database() as url:
        store = _store(url)
        try:
            with store.begin() as conn:
                with pytest.raises(RuntimeError), conn.begin_nested():
                    lock_stories(conn)
                    assert held(conn) == 1
                    raise RuntimeError("the first article of the batch fails")
                assert held(conn) == 0  # released with its savepoint: taken again
                lock_stories(conn)
                assert held(conn) == 1
        finally:
            store.close()
