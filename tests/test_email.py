"""The email channel against aiosmtpd: STARTTLS/SSL with a verified test CA, and an email
that reads like a good alert (escaped, highlighted, threaded, deterministic ids)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from pipelines.deliver.channels.email import EmailChannel
from pipelines.deliver.channels.registry import build_channel
from pipelines.deliver.dispatch import Dispatcher, enqueue_notice, send_test_alert
from pipelines.deliver.render import Hit, Item, Message
from pipelines.errors import ConfigError, DeliveryError, PermanentDeliveryError
from tests.servers.seed import HOSTILE_TITLE, new_store, record_alerts
from tests.servers.smtp import SMTPServer


def email_channel(smtp: SMTPServer, tmp_path: Path, **smtp_extra: object) -> EmailChannel:
    settings = {
        "host": smtp.host,
        "port": smtp.port,
        "security": smtp.security,
        **({"ca_file": smtp.ca_file} if smtp.security != "none" else {}),
        **smtp_extra,
    }
    built = build_channel(
        "editors",
        {
            "kind": "email",
            "to": ["bientap@example.vn"],
            "from": "Newswatch <newswatch@example.vn>",
            "smtp": settings,
        },
        data_dir=tmp_path,
    )
    assert isinstance(built, EmailChannel)
    return built


def alert(title: str = HOSTILE_TITLE, message_id: str = "nw_feedface") -> Message:
    item = Item(
        watch="quan-hai-ba-trung",
        label="Quận Hai Bà Trưng",
        url="https://tuoitrethudo.vn/a-1.html?x=1&y=<2>",
        title=title,
        source="tuoitrethudo",
        published=datetime(2026, 11, 26, 2, 30, tzinfo=UTC),
        snippet="UBND quận Hai Bà Trưng <i>họp</i> với dân",
        hits=(Hit("quận Hai Bà Trưng", "quận Hai Bà Trưng", 5, 22),),
    )
    return Message("alert", message_id, items=(item,))


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


def test_starttls_with_the_test_ca_delivers_a_good_alert(smtp: SMTPServer, tmp_path: Path) -> None:
    answer = email_channel(smtp, tmp_path).send(alert())
    assert answer == "250 2.0.0 Ok: queued as NW00001"
    assert smtp.tls_used == [True]
    message = smtp.messages[0]
    assert message["Subject"].startswith("[Quận Hai Bà Trưng] <script>alert(1)</script>")
    assert message["Message-ID"] == "<nw_feedface@example.vn>"
    assert message["References"] == "<watch-quan-hai-ba-trung@example.vn>"
    assert message["In-Reply-To"] == "<watch-quan-hai-ba-trung@example.vn>"
    assert "<quan-hai-ba-trung.newswatch.example.vn>" in message["List-Id"]
    assert message["Auto-Submitted"] == "auto-generated"
    plain, html = parts(message)
    assert "https://tuoitrethudo.vn/a-1.html?x=1&y=<2>" in plain
    assert "*quận Hai Bà Trưng*" in plain
    assert "Nguồn: tuoitrethudo · Đăng lúc: 26/11/2026 09:30" in plain
    # Every piece of article text is escaped; only our own tags remain.
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;họp&lt;/i&gt;" in html
    assert '<a href="https://tuoitrethudo.vn/a-1.html?x=1&amp;y=&lt;2&gt;"' in html
    assert "<b>quận Hai Bà Trưng</b>" in html
    assert "&lt;b&gt;quận&lt;/b&gt;" in html  # the title's own <b> is text


def test_the_same_alert_resent_has_the_same_message_id(smtp: SMTPServer, tmp_path: Path) -> None:
    channel = email_channel(smtp, tmp_path)
    channel.send(alert())
    channel.send(alert())
    assert smtp.messages[0]["Message-ID"] == smtp.messages[1]["Message-ID"]


def test_an_untrusted_certificate_is_refused(
    smtp: SMTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    channel = email_channel(smtp, tmp_path, ca_file="")
    with pytest.raises(DeliveryError, match=r"TLS certificate not trusted .* smtp\.ca_file"):
        channel.send(alert())
    assert not smtp.messages


def test_ssl_cert_file_is_honoured_without_ca_file(
    smtp: SMTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", smtp.ca_file)
    email_channel(smtp, tmp_path, ca_file="").send(alert())
    assert len(smtp.messages) == 1


def test_implicit_ssl(tmp_path: Path) -> None:
    with SMTPServer(security="ssl") as smtp:
        email_channel(smtp, tmp_path).send(alert())
        assert len(smtp.messages) == 1


def test_plain_local_relay(tmp_path: Path) -> None:
    with SMTPServer(security="none") as smtp:
        email_channel(smtp, tmp_path).send(alert())
        assert len(smtp.messages) == 1


def test_login_after_starttls(tmp_path: Path) -> None:
    with SMTPServer(auth=("newswatch", "p@ss #1: {x}")) as smtp:
        email_channel(smtp, tmp_path, username="newswatch", password="p@ss #1: {x}").send(alert())
        assert len(smtp.messages) == 1
        with pytest.raises(DeliveryError, match="login refused") as info:
            email_channel(smtp, tmp_path, username="newswatch", password="wrong").send(alert())
        assert "wrong" not in str(info.value)


def test_every_recipient_refused_is_permanent(tmp_path: Path) -> None:
    with (
        SMTPServer(reject={"bientap@example.vn"}) as smtp,
        pytest.raises(PermanentDeliveryError, match="550"),
    ):
        email_channel(smtp, tmp_path).send(alert())


def test_temporary_smtp_failure_is_retried(smtp: SMTPServer, tmp_path: Path) -> None:
    smtp.flake(1.0)
    with pytest.raises(DeliveryError, match="451") as info:
        email_channel(smtp, tmp_path).send(alert())
    assert not isinstance(info.value, PermanentDeliveryError)


def test_connection_refused_names_the_server_not_the_password(tmp_path: Path) -> None:
    channel = build_channel(
        "editors",
        {
            "kind": "email",
            "to": "a@example.vn",
            "from": "n@example.vn",
            "smtp": {"host": "127.0.0.1", "port": 9, "username": "u", "password": "hunter2"},
        },
        data_dir=tmp_path,
    )
    with pytest.raises(DeliveryError, match=r"cannot connect to smtp 127\.0\.0\.1:9") as info:
        channel.send(alert())
    assert "hunter2" not in str(info.value)


def test_config_errors_are_located(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_channel(
            "editors",
            {
                "kind": "email",
                "to": ["not-an-address"],
                "from": "x@y.vn",
                "smtp": {"host": "h", "port": 99999, "securty": "ssl"},
            },
            data_dir=tmp_path,
        )
    paths = {p.path: p.message for p in info.value.problems}
    assert ("channels", "editors", "smtp", "port") in paths
    assert ("channels", "editors", "smtp", "securty") in paths
    assert "unknown key" in paths[("channels", "editors", "smtp", "securty")]
    assert ("channels", "editors", "to") in paths


def test_dispatcher_sends_alerts_digests_and_notices_by_email(
    smtp: SMTPServer, tmp_path: Path
) -> None:
    store = new_store(tmp_path)
    try:
        record_alerts(store, 1, channels=["editors"])
        enqueue_notice(
            store,
            "stale:hanoimoi",
            "Source hanoimoi is stale",
            "No new article for 6 hours.",
            ["editors"],
        )
        summary = Dispatcher(store, {"editors": email_channel(smtp, tmp_path)}).run_once()
        assert summary.sent == 2
        subjects = sorted(m["Subject"] for m in smtp.messages)
        assert subjects == [
            "[Quận Hai Bà Trưng] Quận Hai Bà Trưng khởi công dự án số 0",
            "[newswatch] Source hanoimoi is stale",
        ]
        record_alerts(store, 4, channels=["editors"], start=10)
        channel = email_channel(smtp, tmp_path)
        channel.burst = 3
        assert Dispatcher(store, {"editors": channel}).run_once().sent == 4
        digest = smtp.messages[-1]
        assert digest["Subject"] == "[Quận Hai Bà Trưng] 4 bài mới"
        assert digest["Message-ID"].startswith("<nwd_")
        assert parts(digest)[1].count("<a href=") == 4
    finally:
        store.close()


def test_send_test_alert_by_email(smtp: SMTPServer, tmp_path: Path) -> None:
    assert send_test_alert(email_channel(smtp, tmp_path)).startswith("250 ")
    assert "Hai Bà Trưng" in smtp.messages[0]["Subject"]
