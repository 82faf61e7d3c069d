"""Stories in the store, on SQLite and on the real PostgreSQL: copies of one news item from
other outlets join its story and alert nothing new; story state survives a restart and the
upgrade from a database made before stories."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from pipelines.store.articles import ArticleRecord, HitRecord, MatchRecord
from pipelines.store.database import Store
from pipelines.store.migrations import downgrade
from pipelines.store.schema import deliveries, stories, story_articles, story_bands, utcnow
from pipelines.stories.fingerprint import BANDS
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
