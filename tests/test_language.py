"""Alert texts speak the reader's language: Vietnamese by default (labels, day-first dates
such as 14/01/2022 10:30), English when ``channels.yaml`` says ``language: en`` — in the
email that arrives, in chat messages, in ``test-alert``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.config import load_config
from pipelines.deliver.dispatch import send_test_alert
from pipelines.deliver.render import Hit, Item, Message, html_body, plain_text, subject
from pipelines.deliver.render_chat import chat_html, discord_payload, slack_text
from pipelines.errors import ConfigError
from tests.conftest import REPO
from tests.servers.smtp import SMTPServer

ICT = timezone(timedelta(hours=7))
ENGLISH = ("Alert", "Source", "Published", "new articles", "Watches", "Test alert")


def item(n: int = 0) -> Item:
    return Item(
        watch="quan-hai-ba-trung",
        label="Quận Hai Bà Trưng",
        url=f"https://tuoitrethudo.vn/a-{n}.html",
        title=f"Quận Hai Bà Trưng tổng kết năm {n}",
        source="tuoitrethudo",
        published=datetime(2022, 1, 14, 10, 30, tzinfo=ICT),
        snippet="UBND quận Hai Bà Trưng họp với dân",
        hits=(Hit("quận Hai Bà Trưng", "quận Hai Bà Trưng", 5, 22),),
    )


def every_text(message: Message) -> str:
    discord = discord_payload(message)
    return "\n".join(
        [
            subject(message),
            plain_text(message),
            html_body(message),
            chat_html(message),
            slack_text(message),
            str(discord.get("content")),
            *(str(e["footer"]) for e in discord.get("embeds", [])),
        ]
    )


def test_vietnamese_is_the_default_everywhere() -> None:
    for message in (
        Message("alert", "nw_1", items=(item(),)),
        Message("digest", "nwd_1", items=(item(1), item(2))),
    ):
        text = every_text(message)
        assert "Nguồn: tuoitrethudo" in text and "14/01/2022 10:30" in text
        assert not [w for w in ENGLISH if w in text], text
    assert "Cảnh báo · Quận Hai Bà Trưng" in html_body(Message("alert", "nw_1", items=(item(),)))
    assert subject(Message("digest", "d", items=(item(1), item(2)))).endswith("] 2 bài mới")


def test_english_when_asked() -> None:
    text = every_text(Message("digest", "nwd_1", items=(item(1), item(2)), language="en"))
    assert "Source: tuoitrethudo" in text and "14 Jan 2022, 10:30" in text
    assert "2 new articles" in text and "Alert · Quận Hai Bà Trưng" in text
    assert not [w for w in ("Nguồn", "Đăng lúc", "bài mới", "Cảnh báo") if w in text]


@pytest.fixture
def cfg_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer(security="none") as server:
        yield server


def write_channels(cfg_dir: Path, smtp: SMTPServer, defaults: str, own: str = "") -> None:
    (cfg_dir / "channels.yaml").write_text(
        f"{defaults}"
        "channels:\n"
        "  local: {kind: file, path: alerts.jsonl}\n"
        "  newsroom: {kind: file, path: newsroom.jsonl}\n"
        "  editors:\n"
        "    kind: email\n"
        "    to: [bientap@example.vn]\n"
        "    from: newswatch@example.vn\n"
        f"    smtp: {{host: {smtp.host}, port: {smtp.port}, security: none}}\n"
        f"{own}"
    )


@pytest.mark.parametrize(
    ("defaults", "own", "words"),
    [
        ("", "", ("Tin thử nghiệm", "Nguồn: example.vn", "Đăng lúc: ")),
        ("defaults: {language: en}\n", "", ("Test alert", "Source: example.vn", "Published: ")),
        ("defaults: {language: en}\n", "    language: vi\n", ("Tin thử nghiệm", "Nguồn:")),
    ],
)
def test_the_configured_language_reaches_the_mailbox(
    cfg_dir: Path,
    tmp_path: Path,
    smtp: SMTPServer,
    defaults: str,
    own: str,
    words: tuple[str, ...],
) -> None:
    write_channels(cfg_dir, smtp, defaults, own)
    config = load_config(cfg_dir, tmp_path)
    assert send_test_alert(config.channels["editors"]).startswith("250 ")
    received = smtp.messages[0]
    plain = received.get_body(("plain",))
    assert plain is not None
    text = f"{received['Subject']}\n{plain.get_content()}"
    assert all(w in text for w in words), text


@pytest.mark.parametrize(
    ("defaults", "own", "where"),
    [
        ("defaults: {language: fr}\n", "", "channels.yaml:1: defaults.language"),
        ("defaults: {lang: en}\n", "", "channels.yaml:1: defaults.lang: unknown key"),
        ("", "    language: english\n", "channels.yaml:9: channels.editors.language"),
    ],
)
def test_a_wrong_language_is_located(
    cfg_dir: Path, tmp_path: Path, smtp: SMTPServer, defaults: str, own: str, where: str
) -> None:
    write_channels(cfg_dir, smtp, defaults, own)
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir, tmp_path)
    errors = [p.render() for p in info.value.problems if p.severity == "error"]
    assert len(errors) == 1 and errors[0].startswith(where), errors


def test_the_demo_shows_alerts_in_its_language() -> None:
    from crawler.demo.run import _show

    payload = {
        "watch": {"name": "w", "label": "Quận Hai Bà Trưng"},
        "article": {
            "url": "http://127.0.0.1/a-1.html",
            "title": "Tiêu đề",
            "source": "tintudo-demo",
            "published": "2022-01-14T10:30:00+07:00",
            "snippet": "quận Hai Bà Trưng",
            "hits": [],
        },
    }
    shown = _show(payload, "vi")
    assert "Cảnh báo · Quận Hai Bà Trưng" in shown
    assert "Nguồn: tintudo-demo · Đăng lúc: 14/01/2022 10:30" in shown
    assert "Source: tintudo-demo · Published: 14 Jan 2022, 10:30" in _show(payload, "en")
