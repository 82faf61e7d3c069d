"""Channel kinds: the registry, configuration errors, and the chat kinds against a real
local receiver (escaping of hostile headlines, the services' error answers)."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.deliver.channels.base import Channel, redact_url
from pipelines.deliver.channels.registry import KINDS, build_channel
from pipelines.deliver.dispatch import send_test_alert
from pipelines.deliver.render import Hit, Item, Message
from pipelines.errors import ConfigError, DeliveryError, PermanentDeliveryError
from tests.servers.seed import HOSTILE_TITLE
from tests.servers.webhook_receiver import Answer, Request, WebhookReceiver

TOKEN = "123456789:AAHsecretTOKENsecret-xyz"


def hostile() -> Message:
    item = Item(
        watch="quan-hai-ba-trung",
        label="Quận Hai Bà Trưng",
        url="https://tuoitrethudo.vn/a-1.html",
        title=HOSTILE_TITLE,
        source="tuoitrethudo",
        published=datetime(2026, 11, 26, 2, 30, tzinfo=UTC),
        snippet="UBND quận Hai Bà Trưng @here <b>họp</b> *gấp*",
        hits=(Hit("quận Hai Bà Trưng", "quận Hai Bà Trưng", 5, 22),),
    )
    return Message("alert", "nw_hostile", items=(item,))


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


# -- registry and configuration ------------------------------------------------------------


@pytest.fixture
def fake_apprise(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A stand-in ``apprise`` module (the real one is an optional extra)."""
    calls: list[dict[str, Any]] = []

    class Apprise:
        def add(self, url: str) -> bool:
            calls.append({"url": url})
            return url.startswith("ntfys://")

        def notify(self, title: str, body: str) -> bool:
            calls[-1].update(title=title, body=body)
            return "fail" not in calls[-1]["url"]

    module = types.ModuleType("apprise")
    module.Apprise = Apprise  # type: ignore[attr-defined]
    module.__spec__ = types.SimpleNamespace(name="apprise")  # type: ignore[assignment]
    monkeypatch.setitem(sys.modules, "apprise", module)
    return calls


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_is_documented_and_its_example_builds(
    kind: str, tmp_path: Path, fake_apprise: list[Any]
) -> None:
    cls = KINDS[kind]
    doc = (cls.__doc__ or "").strip()
    assert doc and "\n" not in doc, f"{kind}: needs a one-line docstring"
    example = yaml.safe_load(cls.example)
    assert example["kind"] == kind
    channel = build_channel("example", example, data_dir=tmp_path)
    assert isinstance(channel, Channel) and channel.kind == kind
    assert channel.max_in_flight >= 1


def test_unknown_kind_and_unknown_keys_are_located_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_channel("newsroom", {"kind": "pager"}, data_dir=tmp_path)
    assert info.value.problems[0].path == ("channels", "newsroom", "kind")
    assert "webhook" in info.value.problems[0].message
    with pytest.raises(ConfigError) as info:
        build_channel(
            "newsroom",
            {"kind": "webhook", "url": "ftp://x", "retries": 3, "rate": "fast"},
            data_dir=tmp_path,
        )
    paths = {p.path[-1]: p.message for p in info.value.problems}
    assert set(paths) == {"url", "retries", "rate"}
    assert "unknown key" in paths["retries"]


def test_a_missing_url_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_channel("newsroom", {"kind": "webhook", "url": ""}, data_dir=tmp_path)
    assert info.value.problems[0].path == ("channels", "newsroom", "url")
    assert "environment variable" in info.value.problems[0].message


def test_file_channel_stays_inside_the_data_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="inside the data dir"):
        build_channel("local", {"kind": "file", "path": "../../etc/x"}, data_dir=tmp_path)


def test_apprise_without_the_extra_is_a_clear_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'newswatch\[apprise\]'"):
        build_channel("other", {"kind": "apprise", "url": "ntfys://ntfy.sh/t"}, data_dir=tmp_path)


def test_apprise_sends_through_the_library_without_redirects(
    tmp_path: Path, fake_apprise: list[Any]
) -> None:
    channel = build_channel(
        "other", {"kind": "apprise", "url": "ntfys://ntfy.sh/t"}, data_dir=tmp_path
    )
    assert channel.send(hostile()) == "Apprise reported success"
    assert fake_apprise[0]["url"] == "ntfys://ntfy.sh/t?redirect=no"
    assert fake_apprise[0]["title"].startswith("[Quận Hai Bà Trưng]")
    failing = build_channel(
        "other", {"kind": "apprise", "url": "ntfys://ntfy.sh/fail"}, data_dir=tmp_path
    )
    with pytest.raises(DeliveryError, match=r"apprise ntfys://…: Apprise reported a failure"):
        failing.send(hostile())


def test_redact_url_keeps_scheme_and_host_only() -> None:
    assert redact_url("https://hooks.slack.com/services/T/B/X?x=1") == "https://hooks.slack.com/…"
    assert redact_url("http://127.0.0.1:8080/a/b") == "http://127.0.0.1:8080/…"


# -- slack ---------------------------------------------------------------------------------


def test_slack_escapes_control_characters(hook: WebhookReceiver, tmp_path: Path) -> None:
    channel = build_channel("team", {"kind": "slack", "url": hook.url}, data_dir=tmp_path)
    assert channel.send(hostile()) == "HTTP 200 ok"
    text = hook.received[0].json["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "*<https://tuoitrethudo.vn/a-1.html|" in text
    assert "*quận Hai Bà Trưng*" in text


@pytest.mark.parametrize(
    ("status", "body", "permanent"),
    [
        (404, b"no_service", True),
        (410, b"channel_is_archived", True),
        (403, b"invalid_token", True),
        (400, b"invalid_payload", False),
        (500, b"oops", False),
    ],
)
def test_slack_errors(
    hook: WebhookReceiver, tmp_path: Path, status: int, body: bytes, permanent: bool
) -> None:
    hook.respond(lambda request: Answer(status, {}, body))
    channel = build_channel("team", {"kind": "slack", "url": hook.url}, data_dir=tmp_path)
    with pytest.raises(DeliveryError) as info:
        channel.send(hostile())
    assert isinstance(info.value, PermanentDeliveryError) is permanent
    assert body.decode() in str(info.value)


# -- discord -------------------------------------------------------------------------------


def test_discord_waits_and_never_pings(hook: WebhookReceiver, tmp_path: Path) -> None:
    hook.respond(lambda request: Answer(200, {}, b'{"id": "1189"}'))
    channel = build_channel(
        "chat", {"kind": "discord", "url": hook.url + "?thread_id=7"}, data_dir=tmp_path
    )
    assert channel.send(hostile()) == "HTTP 200, Discord message 1189"
    request = hook.received[0]
    assert request.query == {"thread_id": ["7"], "wait": ["true"]}
    body = request.json
    assert body["allowed_mentions"] == {"parse": []}
    embed = body["embeds"][0]
    assert "@everyone" not in embed["title"] and "\\*đậm\\*" in embed["title"]
    assert embed["timestamp"] == "2026-11-26T09:30:00+07:00"
    assert "**quận Hai Bà Trưng**" in embed["description"]
    assert "@here" not in embed["description"] and "\\*gấp\\*" in embed["description"]


def test_discord_rate_limit_and_deleted_webhook(hook: WebhookReceiver, tmp_path: Path) -> None:
    channel = build_channel("chat", {"kind": "discord", "url": hook.url}, data_dir=tmp_path)
    hook.respond(lambda request: Answer(429, {}, b'{"retry_after": 2.5, "global": false}'))
    with pytest.raises(DeliveryError) as info:
        channel.send(hostile())
    assert info.value.retry_after == 2.5
    hook.respond(lambda request: Answer(404, {}, b'{"message": "Unknown Webhook"}'))
    with pytest.raises(PermanentDeliveryError) as gone:
        channel.send(hostile())
    assert gone.value.disable_channel


# -- telegram ------------------------------------------------------------------------------


def telegram(hook: WebhookReceiver, tmp_path: Path) -> Channel:
    return build_channel(
        "phone",
        {"kind": "telegram", "token": TOKEN, "chat_id": "-1001", "api_url": hook.base_url},
        data_dir=tmp_path,
    )


def test_telegram_sends_escaped_html(hook: WebhookReceiver, tmp_path: Path) -> None:
    def bot_api(request: Request) -> Answer:
        assert request.path == f"/bot{TOKEN}/sendMessage"
        return Answer(200, {}, json.dumps({"ok": True, "result": {"message_id": 42}}).encode())

    hook.respond(bot_api)
    assert telegram(hook, tmp_path).send(hostile()) == "HTTP 200, Telegram message 42"
    body = hook.received[0].json
    assert (body["chat_id"], body["parse_mode"]) == ("-1001", "HTML")
    assert "<script>" not in body["text"] and "&lt;script&gt;" in body["text"]
    assert "&lt;b&gt;họp&lt;/b&gt;" in body["text"]
    assert "<b>quận Hai Bà Trưng</b>" in body["text"]
    assert '<a href="https://tuoitrethudo.vn/a-1.html">' in body["text"]


def test_telegram_429_retry_after_and_blocked_bot(hook: WebhookReceiver, tmp_path: Path) -> None:
    answer = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 17",
        "parameters": {"retry_after": 17},
    }
    hook.respond(lambda request: Answer(429, {}, json.dumps(answer).encode()))
    with pytest.raises(DeliveryError) as info:
        telegram(hook, tmp_path).send(hostile())
    assert info.value.retry_after == 17
    assert TOKEN not in str(info.value)
    blocked = {"ok": False, "description": "Forbidden: bot was blocked by the user"}
    hook.respond(lambda request: Answer(403, {}, json.dumps(blocked).encode()))
    with pytest.raises(PermanentDeliveryError, match="blocked") as gone:
        telegram(hook, tmp_path).send(hostile())
    assert gone.value.disable_channel


def test_telegram_token_never_in_errors(tmp_path: Path) -> None:
    channel = build_channel(
        "phone",
        {"kind": "telegram", "token": TOKEN, "chat_id": "1", "api_url": "http://127.0.0.1:9"},
        data_dir=tmp_path,
    )
    with pytest.raises(DeliveryError) as info:
        send_test_alert(channel)
    assert "AAHsecret" not in str(info.value)
    assert "channel phone: cannot connect to telegram chat 1" in str(info.value)
