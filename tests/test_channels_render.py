"""How messages look on chat channels when they are long: digests are cut cleanly."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pipelines.deliver.render import Item, Message, StoryRef
from pipelines.deliver.render_chat import chat_html, discord_payload, slack_text


def digest(count: int, watches: int = 1) -> Message:
    """``count`` stories, each matched by ``watches`` watches (one alert per watch)."""
    items = tuple(
        Item(
            watch=f"quan-{w}",
            label=f"Quận {w}",
            url=f"https://tuoitrethudo.vn/bai-{n}.html",
            title=f"Bài số {n} " + "chữ " * 60,
            source="tuoitrethudo",
            published=datetime(2026, 11, 26, 2, 30, tzinfo=UTC),
            snippet="Tin & <tức> " * 30,
            message_id=f"nw_{n}_{w}",
            story=StoryRef(f"st_{n}", datetime(2026, 11, 26, 2, 30, tzinfo=UTC), 1),
        )
        for n in range(count)
        for w in range(watches)
    )
    return Message("digest", "nwd_x", items=items, reason="burst")


def test_a_long_digest_is_cut_with_the_number_left_out() -> None:
    for render, limit in ((chat_html, 4000), (slack_text, 3500)):
        text = render(digest(30))
        assert len(text) <= limit + 20
        shown = len(re.findall(r"Bài số \d+", text))
        more = int(re.search(r"… \(\+(\d+)\)", text).group(1))  # type: ignore[union-attr]
        assert 0 < shown < 30 and shown + more == 30


def test_discord_caps_embeds_and_counts_the_rest() -> None:
    body = discord_payload(digest(14))
    assert len(body["embeds"]) == 10
    assert body["content"].endswith("\\(+4\\)")


def test_counts_and_cuts_count_stories_not_alerts() -> None:
    for render, count in ((chat_html, "<b>30 bài mới</b>"), (slack_text, "*30 bài mới*")):
        text = render(digest(30, watches=3))  # 90 alerts, 30 stories
        assert text.startswith(count + "\n")
        shown = re.findall(r"Bài số (\d+)", text)
        assert len(shown) == len(set(shown))  # each story once
        assert text.count("Quận 0, Quận 1, Quận 2") == len(shown)
        more = int(re.search(r"… \(\+(\d+)\)", text).group(1))  # type: ignore[union-attr]
        assert 0 < len(shown) < 30 and len(shown) + more == 30
    body = discord_payload(digest(14, watches=2))
    assert len(body["embeds"]) == 10
    assert body["content"].endswith("\\(+4\\)")


def test_a_long_notice_never_cuts_an_entity() -> None:
    notice = Message("notice", "nw_n", title="Nguồn <hanoimoi> ngừng", text="a & b " * 2000)
    html = chat_html(notice)
    assert html.startswith("<b>Nguồn &lt;hanoimoi&gt; ngừng</b>\n")
    assert re.search(r"&(?!amp;|lt;|gt;|quot;|#x27;)", html) is None
