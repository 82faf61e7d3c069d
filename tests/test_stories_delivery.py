"""What a receiver gets for a story: one watch.matched carrying the story, then, on channels
with `stories: updates`, one story.updated per new outlet, spaced out; email updates reply
to the first alert; digests show each story once, with every watch that matched it and where
else it ran."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.deliver.channels.registry import build_channel
from pipelines.deliver.dispatch import Dispatcher
from pipelines.deliver.render import (
    Hit,
    Item,
    Message,
    StoryRef,
    email_message,
    plain_text,
    subject,
    webhook_payload,
)
from pipelines.deliver.render_chat import chat_html, discord_payload, slack_text
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


# -- a digest shows each story once ----------------------------------------------------------

FIRE_SEEN = datetime(2026, 11, 2, 15, 5, tzinfo=UTC)
FIRE = StoryRef("st_fire", FIRE_SEEN, 3, ("tuoitrethudo", "hanoimoi", "kinhtedothi"))
# vnexpress's alert was read later: by then the story had two more outlets
FIRE_LATER = StoryRef("st_fire", FIRE_SEEN, 5, (*FIRE.outlets, "vnexpress", "dantri"))
MARKET = StoryRef("st_market", FIRE_SEEN, 1, ("hanoimoi",))
FIRE_TITLE = "Cháy nhà ở phố Bạch Mai, hàng xóm phá cửa cứu người"
LABELS = {
    "bach-mai": "Phường Bạch Mai",
    "quan-hai-ba-trung": "Quận Hai Bà Trưng",
    "pccc": "Phòng cháy chữa cháy",
}
FIRE_LABELS = "Phường Bạch Mai, Quận Hai Bà Trưng, Phòng cháy chữa cháy"
FIRE_SNIPPETS = {  # what each watch matched in the fire story; [the matched words]
    "bach-mai": "Đám cháy bùng lên tại ngôi nhà số 12 phố [Bạch Mai] lúc 22 giờ",
    "quan-hai-ba-trung": "Công an [quận Hai Bà Trưng] phong tỏa hiện trường",
    "pccc": "Cảnh sát [phòng cháy chữa cháy] dập tắt đám cháy sau 30 phút",
}


def _alert(
    n: int, watch: str, source: str, story: StoryRef, title: str = FIRE_TITLE, marked: str = ""
) -> Item:
    """Alert ``nw_{n}``; its snippet is ``marked`` (default: the watch's fire snippet) without
    the brackets around the matched words."""
    marked = marked or FIRE_SNIPPETS[watch]
    word = marked[marked.index("[") + 1 : marked.index("]")]
    snippet = marked.replace("[", "").replace("]", "")
    start = snippet.index(word)
    return Item(
        watch=watch,
        label=LABELS[watch],
        url=f"https://{source}.example/tin-{n}.html",
        title=title,
        source=source,
        published=datetime(2026, 11, 2, 15, 5 + n, tzinfo=UTC),
        snippet=snippet,
        hits=(Hit(word, word, start, start + len(word)),),
        message_id=f"nw_{n}",
        story=story,
    )


# a burst: three watches matched the fire story (two in one article), one matched another story
BURST = (
    _alert(1, "bach-mai", "tuoitrethudo", FIRE),
    _alert(2, "quan-hai-ba-trung", "tuoitrethudo", FIRE),
    _alert(
        3,
        "quan-hai-ba-trung",
        "hanoimoi",
        MARKET,
        "Quận Hai Bà Trưng cải tạo chợ Mơ",
        "UBND [quận Hai Bà Trưng] khởi công cải tạo chợ Mơ",
    ),
    _alert(4, "pccc", "vnexpress", FIRE_LATER, "Hà Nội: cháy nhà trên phố Bạch Mai"),
)
SNIPPETS = [a.snippet for a in BURST]


def test_a_digest_shows_each_story_once_with_every_watch_that_matched_it() -> None:
    digest = Message("digest", "nwd_burst", items=BURST, reason="burst")
    email = email_message(digest, sender="nw@example.vn", to=["x@example.vn"], now=FIRE_SEEN)
    assert email["Subject"] == f"[{FIRE_LABELS}] 2 bài mới"
    text = plain_text(digest)
    entries = text.split("\n-- \n")[0].strip().split("\n\n")
    assert [e.splitlines()[0] for e in entries] == [
        f"[{FIRE_LABELS}] {FIRE_TITLE}",
        "[Quận Hai Bà Trưng] Quận Hai Bà Trưng cải tạo chợ Mơ",
    ]
    fire = entries[0]
    assert "Hà Nội: cháy nhà trên phố Bạch Mai" not in text  # vnexpress's headline: not shown
    assert "*Bạch Mai*" in fire and "[Quận Hai Bà Trưng] Công an *quận Hai Bà Trưng*" in fire
    # why the third watch fired, and where: another paper's article of the story
    assert "[Phòng cháy chữa cháy] Cảnh sát *phòng cháy chữa cháy* dập tắt" in fire
    assert fire.count("(vnexpress)") == 1
    for snippet in SNIPPETS:
        assert text.replace("*", "").count(snippet) == 1
    assert fire.endswith("Cũng có ở: hanoimoi, kinhtedothi, vnexpress, +1")

    html = email.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert html.count("<a href=") == 2 and html.count(">Cảnh báo · ") == 2
    assert f"Cảnh báo · {FIRE_LABELS}</div>" in html
    for snippet in SNIPPETS:
        assert re.sub("</?b>", "", html).count(snippet) == 1
    assert "Cũng có ở: hanoimoi, kinhtedothi, vnexpress, +1" in html

    english = Message("digest", "nwd_burst", items=BURST, reason="burst", language="en")
    assert plain_text(english).count(f"[{FIRE_LABELS}]") == 1
    assert "Also in: hanoimoi, kinhtedothi, vnexpress, +1" in plain_text(english)
    assert (
        email_message(english, sender="nw@example.vn", to=["x@example.vn"], now=FIRE_SEEN)[
            "Subject"
        ]
        == f"[{FIRE_LABELS}] 2 new articles"
    )

    # receivers group by story themselves: the JSON keeps one article per alert
    payload = webhook_payload(digest)
    assert payload["type"] == "watch.digest"
    assert [a["id"] for a in payload["articles"]] == ["nw_1", "nw_2", "nw_3", "nw_4"]
    assert [a["story"]["id"] for a in payload["articles"]] == ["st_fire"] * 2 + [
        "st_market",
        "st_fire",
    ]


def test_a_story_and_its_update_in_one_digest_are_one_entry() -> None:
    update = StoryRef("st_fire", FIRE_SEEN, 4, (*FIRE.outlets, "laodong"), True, "nw_1")
    first = BURST[0]
    later = _alert(5, "bach-mai", "laodong", update, "Cháy ở phố Bạch Mai", "Dân phố [Bạch Mai]")
    digest = Message("digest", "nwd_u", items=(first, later), reason="hourly")
    text = plain_text(digest)
    assert text.startswith(f"[Phường Bạch Mai] {FIRE_TITLE}\n")
    assert "Cháy ở phố Bạch Mai" not in text and "Dân phố" not in text
    assert "Cũng có ở: hanoimoi, kinhtedothi, laodong" in text
    assert subject(digest) == "[Phường Bạch Mai] 1 bài mới"
    assert len(webhook_payload(digest)["articles"]) == 2


def test_chat_digests_show_each_story_once() -> None:
    digest = Message("digest", "nwd_burst", items=BURST, reason="burst")
    for text, bell in ((chat_html(digest), "🔔"), (slack_text(digest), ":bell:")):
        assert text.startswith(("<b>2 bài mới</b>", "*2 bài mới*"))
        assert text.count(bell) == 2 and f"{bell} {FIRE_LABELS}\n" in text
        assert FIRE_TITLE in text and "Hà Nội: cháy nhà" not in text
        for snippet in SNIPPETS:
            assert re.sub(r"</?b>|\*", "", text).count(snippet) == 1
        assert "Phòng cháy chữa cháy: Cảnh sát " in text
        assert "Cũng có ở: hanoimoi, kinhtedothi, vnexpress, +1" in text
    discord = discord_payload(digest)
    fire, market = discord["embeds"]
    assert fire["footer"]["text"] == f"{FIRE_LABELS} · Nguồn: tuoitrethudo"
    assert market["footer"]["text"] == "Quận Hai Bà Trưng · Nguồn: hanoimoi"
    described = fire["description"].replace("**", "")
    assert [described.count(s) for s in SNIPPETS] == [1, 1, 0, 1]
