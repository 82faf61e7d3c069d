"""Subjects and display names arrive exactly as written: the bytes an SMTP server received,
parsed the way a mail client does (``email.policy.default``), give back every space, quote,
bracket and emoji of long Vietnamese subjects, senders and recipients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.headerregistry import AddressHeader
from email.policy import default
from pathlib import Path

import pytest

from pipelines.deliver.channels.email import EmailChannel
from pipelines.deliver.channels.registry import build_channel
from pipelines.deliver.render import Item, Message, email_message
from tests.servers.smtp import SMTPServer

LABEL = "Quận Hai Bà Trưng (và các phường kế thừa từ 1/7/2025)"
TITLES = [
    # The two the issue quotes: a space lost before "kế" and inside "Tuổi Trẻ".
    "Hà Nội sắp xếp các phường kế thừa quận Hai Bà Trưng: người dân được hướng dẫn thủ tục",
    "Báo Tuổi Trẻ Thủ đô: “Phó Chủ tịch UBND thành phố” kiểm tra [phường Bạch Mai] 🎉 hôm nay",
    # An ASCII word between non-ASCII ones, where the folder also dropped the space.
    "Trao giải UEFA trong tuần này ở Sân vận động Mỹ Đình và các phường kế thừa quận Hai Bà Trưng",
    "'Ngôi nhà' (A) — [B] {C} <D> \"E\" ; , : ? ! 😀👍 Thành uỷ Hà Nội chỉ đạo "
    "về giải phóng mặt bằng",
    "Short ASCII subject",
    "A long subject written in English only, with no accents at all, to check that plain folding "
    "keeps its spaces too",
]
SENTENCE = "Phó Chủ tịch UBND thành phố Hà Nội kiểm tra “các phường” kế thừa [quận] 🎉 ok"
SENDER = "Bản tin Tuổi Trẻ Thủ đô và các phường kế thừa quận Hai Bà Trưng <newswatch@example.vn>"
RECIPIENTS = [
    "Ban Biên tập Báo Tuổi trẻ Thủ đô (phòng Thời sự) <bientap@example.vn>",
    "Đỗ Thị Hoà <hoa@example.vn>",
    "plain@example.vn",
    '"Nguyen, Van A" <a@example.vn>',
]


def alert(title: str) -> Message:
    item = Item(
        watch="quan-hai-ba-trung",
        label=LABEL,
        url="https://tuoitrethudo.vn/a-1.html",
        title=title,
        source="tuoitrethudo",
        published=datetime(2026, 11, 26, 2, 30, tzinfo=UTC),
        snippet="UBND quận Hai Bà Trưng họp với dân",
    )
    return Message("alert", "nw_1", items=(item,))


def names(header: object) -> list[tuple[str, str]]:
    assert isinstance(header, AddressHeader)
    return [(a.display_name, a.addr_spec) for a in header.addresses]


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer(security="none") as server:
        yield server


def test_subjects_and_names_survive_the_wire(smtp: SMTPServer, tmp_path: Path) -> None:
    channel = build_channel(
        "editors",
        {
            "kind": "email",
            "to": RECIPIENTS,
            "from": SENDER,
            "smtp": {"host": smtp.host, "port": smtp.port, "security": "none"},
        },
        data_dir=tmp_path,
    )
    assert isinstance(channel, EmailChannel)
    for title in TITLES:
        channel.send(alert(title))
    # The server parsed the bytes it received with email.policy.default.
    assert [str(m["Subject"]) for m in smtp.messages] == [f"[{LABEL}] {t}" for t in TITLES]
    for message in smtp.messages:
        assert names(message["From"]) == [(SENDER.split(" <")[0], "newswatch@example.vn")]
        assert names(message["To"]) == [
            ("Ban Biên tập Báo Tuổi trẻ Thủ đô (phòng Thời sự)", "bientap@example.vn"),
            ("Đỗ Thị Hoà", "hoa@example.vn"),
            ("", "plain@example.vn"),
            ("Nguyen, Van A", "a@example.vn"),
        ]


@pytest.mark.parametrize("length", range(20, 120, 3))  # the subject stays under its cap
def test_every_fold_point_keeps_its_spaces(length: int) -> None:
    """Whatever the length, wherever the folding falls, the text comes back whole."""
    words = SENTENCE.split()
    title = " ".join(words[i % len(words)] for i in range(length))[:length].rstrip()
    sent = email_message(
        alert(title), sender=SENDER, to=RECIPIENTS[:2], now=datetime.now(UTC)
    ).as_bytes()
    assert all(len(line) <= 998 for line in sent.split(b"\r\n"))
    parsed = message_from_bytes(sent, policy=default)
    assert str(parsed["Subject"]) == f"[{LABEL}] {title}"
    assert names(parsed["To"])[1] == ("Đỗ Thị Hoà", "hoa@example.vn")
