"""What a receiver gets for a story: one watch.matched carrying the story, then, on channels
with `stories: updates`, one story.updated per new outlet, spaced out; email updates reply
to the first alert; digests say where else the story ran."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.deliver.channels.registry import build_channel
from pipelines.deliver.dispatch import Dispatcher
from pipelines.deliver.render import (
    Item,
    Message,
    StoryRef,
    email_message,
    plain_text,
    webhook_payload,
)
from pipelines.store.articles import HitRecord, MatchRecord
from pipelines.store.database import Store
from tests.servers.seed import Clock, new_store
from tests.servers.webhook_receiver import WebhookReceiver
from tests.stories_set import LabelledArticle
from tests.test_store_stories import SET, _record

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = new_store(tmp_path)
    yield store
    store.close()


def _bach_mai(article: LabelledArticle) -> list[MatchRecord]:
    start = article.text.index("Bạch Mai")
    hit = HitRecord("Bạch Mai", start, start + 8, "Bạch Mai", article.text[start : start + 40])
    return [MatchRecord("bach-mai", "Phường Bạch Mai", [hit], ["newsroom", "local"], ["newsroom"])]


def test_one_alert_then_one_update_per_new_outlet(store: Store, tmp_path: Path) -> None:
    for article_id in ("s03-a", "s03-b", "s03-c", "s03-d"):
        store.record_article(_record(SET[article_id]), _bach_mai(SET[article_id]))
    again = SET["s03-d"]  # the same outlet as s03-b, a second time: nothing more
    store.record_article(_record(again, outlet=SET["s03-b"].outlet), _bach_mai(again))
    clock = Clock()
    with WebhookReceiver(secret=SECRET) as hook:
        channels = {
            "newsroom": build_channel(
                "newsroom",
                {
                    "kind": "webhook",
                    "url": hook.url,
                    "secret": SECRET,
                    "burst": 0,
                    "stories": "updates",
                },
                data_dir=tmp_path,
            ),
            "local": build_channel(
                "local", {"kind": "file", "path": "alerts.jsonl"}, data_dir=tmp_path
            ),
        }
        dispatcher = Dispatcher(store, channels, clock=clock)
        assert dispatcher.run_once().sent == 2  # the story's alert, on both channels
        for _ in range(4):  # the three updates come one per 10 minutes
            clock.advance(10 * 60 + 1)
            dispatcher.run_once()
        received = [r.json for r in hook.received]
    assert all(r.verified for r in hook.received)
    first, *updates = received
    assert first["type"] == "watch.matched"
    assert first["story"]["first_seen"] == "2026-11-02T23:10:00+07:00"
    assert first["story"]["id"].startswith("st_") and first["story"]["articles"] == 5
    assert [u["type"] for u in updates] == ["story.updated"] * 3
    assert [u["article"]["source"] for u in updates] == ["song-hong", "ben-tau", "tin-thu-do"]
    assert {u["story"]["id"] for u in updates} == {first["story"]["id"]}
    lines = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["watch.matched"]


def _item(source: str, story: StoryRef, message_id: str = "nw_2") -> Item:
    return Item(
        watch="bach-mai",
        label="Phường Bạch Mai",
        url=f"https://{source}.example/a.html",
        title="Cháy nhà ở phố Bạch Mai",
        source=source,
        published=datetime(2026, 11, 2, 16, 10, tzinfo=UTC),
        snippet="phố Bạch Mai",
        message_id=message_id,
        story=story,
    )


def test_an_email_update_replies_to_the_stories_first_alert() -> None:
    story = StoryRef("st_1", datetime(2026, 11, 2, 16, 10, tzinfo=UTC), 2, ("a", "b"), True, "nw_1")
    message = Message("alert", "nw_2", items=(_item("b", story),))
    email = email_message(
        message, sender="nw@example.vn", to=["x@example.vn"], now=datetime.now(UTC)
    )
    assert email["In-Reply-To"] == "<nw_1@example.vn>"
    assert "<nw_1@example.vn>" in email["References"]
    assert "Cập nhật (b)" in email["Subject"]
    assert webhook_payload(message)["type"] == "story.updated"


def test_a_digest_says_where_else_the_story_ran() -> None:
    outlets = ("hanoimoi", "kinhtedothi", "tuoitrethudo", "vnexpress", "dantri", "laodong")
    story = StoryRef("st_1", datetime(2026, 11, 2, 16, 10, tzinfo=UTC), 6, outlets)
    digest = Message("digest", "nw_d", items=(_item("tuoitrethudo", story),), reason="hourly")
    assert "Cũng có ở: hanoimoi, kinhtedothi, vnexpress, +2" in plain_text(digest)
    english = Message("digest", "nw_d", items=digest.items, reason="hourly", language="en")
    assert "Also in: hanoimoi, kinhtedothi, vnexpress, +2" in plain_text(english)
    [entry] = webhook_payload(digest)["articles"]
    assert entry["story"] == {
        "id": "st_1",
        "first_seen": "2026-11-02T23:10:00+07:00",
        "articles": 6,
    }
    assert entry["also_in"] == ["hanoimoi", "kinhtedothi", "vnexpress", "dantri", "laodong"]
