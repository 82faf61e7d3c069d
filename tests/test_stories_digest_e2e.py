"""A story digest end to end, on SQLite and on the real PostgreSQL: articles of the labelled
story set matched by the real matcher and recorded by the store, a burst of alerts sent by
the real dispatcher to a real SMTP server and a real webhook receiver. The reader gets one
email that shows each story once, headed by every watch that matched it, with each watch's
words highlighted and the story's other outlets; the webhook JSON keeps one article per
alert, grouped by ``story.id``."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from pipelines.deliver.channels.registry import build_channel
from pipelines.deliver.dispatch import Dispatcher
from pipelines.match.matcher import Matcher
from pipelines.match.rules import parse_watch
from pipelines.store.articles import MatchRecord, RecordResult
from pipelines.store.database import Store
from tests.servers.smtp import SMTPServer
from tests.servers.webhook_receiver import WebhookReceiver
from tests.test_store_stories import PHONG, SET, _record, _store

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CHANNELS = ("editors", "newsroom")
BURST = 3  # on both channels: four alerts due at once are one digest

HBT = ("quan-hai-ba-trung", "Quận Hai Bà Trưng", ["quận Hai Bà Trưng", "Quận ủy Hai Bà Trưng"])
ONG_PHONG = ("phong", "Ông Nguyễn Văn Phong", [PHONG])
PCCC = ("pccc", "Phòng cháy chữa cháy", ["phòng cháy chữa cháy"])
# only the pho-hoi rewrite of the meeting (s01-c) says this, in its new last paragraph
MAT_BANG = ("mat-bang", "Vướng mắc mặt bằng", ["vướng mắc về mặt bằng"])

MEETING, SCHOOLS = SET["s01-a"], SET["s02-a"]  # Mr Phong at two meetings: two stories


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = _store(database_url)
    yield store
    store.close()


def _matcher(*watches: tuple[str, str, list[str]]) -> Matcher:
    return Matcher.compile(
        [parse_watch(n, {"label": label, "any": terms}) for n, label, terms in watches]
    )


def _matches(matcher: Matcher, article_id: str) -> list[MatchRecord]:
    """What the crawl's matcher finds in an article of the set, notifying both channels."""
    article = SET[article_id]
    found = matcher.match(article.text, title_length=article.title_length)
    return [MatchRecord.of(m, CHANNELS) for m in found]


def _deliver(store: Store, tmp_path: Path) -> tuple[EmailMessage, str, dict[str, Any]]:
    """One dispatcher round to a real SMTP server and a real webhook receiver; the one email
    (and its text part) and the one webhook body each received."""
    with SMTPServer() as smtp, WebhookReceiver(secret=SECRET) as hook:
        smtp_settings = {
            "host": smtp.host,
            "port": smtp.port,
            "security": smtp.security,
            "ca_file": smtp.ca_file,
        }
        editors = {
            "kind": "email",
            "to": ["bientap@example.vn"],
            "from": "Newswatch <newswatch@example.vn>",
            "smtp": smtp_settings,
            "burst": BURST,
        }
        newsroom = {"kind": "webhook", "url": hook.url, "secret": SECRET, "burst": BURST}
        channels = {
            "editors": build_channel("editors", editors, data_dir=tmp_path),
            "newsroom": build_channel("newsroom", newsroom, data_dir=tmp_path),
        }
        summary = Dispatcher(store, channels).run_once()
        assert (summary.sent, summary.failed, summary.errors) == (8, 0, [])
        [email] = smtp.messages
        [request] = hook.received
    assert request.verified
    plain = email.get_body(("plain",))
    assert plain is not None
    # the text as sent (SMTP carries CRLF line ends)
    return email, plain.get_content().replace("\r\n", "\n"), request.json


def _entries(text: str) -> list[str]:
    """The entries of a digest's text part (the footer left out)."""
    return text.split("\n-- \n")[0].strip().split("\n\n")


def _story_ids(payload: dict[str, Any]) -> list[str]:
    return [a["story"]["id"] for a in payload["articles"]]


def test_a_burst_of_three_watches_on_one_story_is_one_entry(store: Store, tmp_path: Path) -> None:
    # One crawl round: the meeting matches three watches; the other meeting matches one;
    # three other outlets' copies of the first meeting join its story and alert nothing.
    batch = ("s01-a", "s02-a", "s01-b", "s01-c", "s01-d", "s02-b")
    matcher = _matcher(HBT, ONG_PHONG, PCCC)
    results = store.record_articles([(_record(SET[a]), _matches(matcher, a)) for a in batch])
    assert all(isinstance(r, RecordResult) for r in results)
    recorded = {a: r for a, r in zip(batch, results, strict=True) if isinstance(r, RecordResult)}
    assert [recorded[a].alerts for a in batch] == [3, 1, 0, 0, 0, 0]
    meeting = recorded["s01-a"].story
    assert {recorded[a].story for a in ("s01-b", "s01-c", "s01-d")} == {meeting}

    email, text, payload = _deliver(store, tmp_path)
    labels = "Quận Hai Bà Trưng, Ông Nguyễn Văn Phong, Phòng cháy chữa cháy"
    assert email["Subject"] == f"[{labels}] 2 bài mới"  # two stories, four alerts
    first, second = _entries(text)
    assert first.splitlines()[0] == f"[{labels}] {MEETING.title}"
    assert second.splitlines()[0] == f"[Ông Nguyễn Văn Phong] {SCHOOLS.title}"
    assert text.count("https://tin-thu-do.example/s01-a.html") == 1
    # each watch's matched words, highlighted: the first in the shown snippet -- a passage
    # of the body, not the headline again, although the headline matched too -- the others
    # on a line of their own
    quoted = first.splitlines()[3]
    assert "*Quận ủy Hai Bà Trưng*" in quoted and MEETING.title not in quoted
    assert "\n[Ông Nguyễn Văn Phong] Sáng 2/11, Bí thư Thành ủy Hà Nội *Nguyễn Văn Phong*" in first
    assert "\n[Phòng cháy chữa cháy] " in first and "an toàn *phòng cháy chữa cháy* tại" in first
    assert first.endswith("\nCũng có ở: song-hong, pho-hoi, nhip-song")
    assert second.endswith("\nCũng có ở: ben-tau")
    for copy in ("s01-b", "s01-c", "s01-d", "s02-b"):  # copies are named, never shown
        assert SET[copy].title not in text and f"/{copy}.html" not in text
    html = email.get_body(("html",))
    assert html is not None
    body = html.get_content()
    assert body.count("<a href=") == 2 and body.count(f"Cảnh báo · {labels}</div>") == 1
    for words in ("Quận ủy Hai Bà Trưng", "Nguyễn Văn Phong", "phòng cháy chữa cháy"):
        assert f"<b>{words}</b>" in body
    assert "Cũng có ở: song-hong, pho-hoi, nhip-song</div>" in body

    # the webhook: one digest, one article per alert, the meeting's three under one story
    assert (payload["type"], payload["reason"]) == ("watch.digest", "burst")
    assert [a["watch"]["name"] for a in payload["articles"]] == [
        "quan-hai-ba-trung",
        "phong",
        "pccc",
        "phong",
    ]
    assert _story_ids(payload) == [meeting] * 3 + [recorded["s02-a"].story]
    assert [a["url"] for a in payload["articles"]] == [
        *["https://tin-thu-do.example/s01-a.html"] * 3,
        "https://tin-thu-do.example/s02-a.html",
    ]
    assert {a["story"]["articles"] for a in payload["articles"][:3]} == {4}
    assert payload["articles"][0]["also_in"] == ["song-hong", "pho-hoi", "nhip-song"]


def test_a_watch_that_first_matched_another_outlets_copy_joins_the_entry(
    store: Store, tmp_path: Path
) -> None:
    # Crawled one article at a time: the meeting (two watches), the other meeting, then the
    # pho-hoi rewrite of the first, which alone matches a third watch: the story's alerts
    # are not next to each other in the queue, and the third is of another paper's article.
    matcher = _matcher(HBT, ONG_PHONG, MAT_BANG)
    recorded: dict[str, RecordResult] = {}
    for article in ("s01-a", "s02-a", "s01-c"):
        recorded[article] = store.record_article(_record(SET[article]), _matches(matcher, article))
    assert [recorded[a].watches for a in recorded] == [
        ["quan-hai-ba-trung", "phong"],
        ["phong"],
        ["mat-bang"],
    ]
    assert recorded["s01-c"].grouped == ["quan-hai-ba-trung", "phong"]

    email, text, payload = _deliver(store, tmp_path)
    labels = "Quận Hai Bà Trưng, Ông Nguyễn Văn Phong, Vướng mắc mặt bằng"
    assert email["Subject"] == f"[{labels}] 2 bài mới"
    first, second = _entries(text)
    assert first.splitlines()[0] == f"[{labels}] {MEETING.title}"
    assert second.splitlines()[0] == f"[Ông Nguyễn Văn Phong] {SCHOOLS.title}"
    # why the third watch fired, and where: the rewrite, named by its outlet
    assert "\n[Vướng mắc mặt bằng] " in first
    assert "tháo gỡ *vướng mắc về mặt bằng* cho quận. (pho-hoi)" in first
    assert first.endswith("\nCũng có ở: pho-hoi") and "Cũng có ở" not in second
    assert SET["s01-c"].title not in text

    stories = _story_ids(payload)
    assert stories == [stories[0]] * 2 + [recorded["s02-a"].story, stories[0]]
    assert stories[0] == recorded["s01-a"].story
    assert payload["articles"][3]["url"] == "https://pho-hoi.example/s01-c.html"
    assert payload["articles"][3]["also_in"] == ["tin-thu-do"]
