"""The webhook channel against a real receiver: contract, signatures, failures, redaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from pipelines.deliver.channels.registry import build_channel
from pipelines.deliver.channels.webhook import WebhookChannel
from pipelines.deliver.dispatch import send_test_alert
from pipelines.deliver.render import Hit, Item, Message
from pipelines.errors import DeliveryError, PermanentDeliveryError
from tests.servers.webhook_receiver import Answer, Request, WebhookReceiver

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def message(title: str = "Quận Hai Bà Trưng khởi công cầu vượt") -> Message:
    item = Item(
        watch="quan-hai-ba-trung",
        label="Quận Hai Bà Trưng",
        url="https://tuoitrethudo.vn/cau-vuot-123.html",
        title=title,
        source="tuoitrethudo",
        published=datetime(2026, 11, 26, 2, 30, tzinfo=UTC),
        snippet="UBND quận Hai Bà Trưng cho biết",
        message_id="nw_abc",
        hits=(Hit("quận Hai Bà Trưng", "quận Hai Bà Trưng", 5, 22),),
    )
    return Message("alert", "nw_0123456789abcdef", items=(item,))


def channel(url: str, tmp_path: Path, **extra: object) -> WebhookChannel:
    built = build_channel("newsroom", {"kind": "webhook", "url": url, **extra}, data_dir=tmp_path)
    assert isinstance(built, WebhookChannel)
    return built


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=WHSEC) as receiver:
        yield receiver


def test_payload_and_headers_follow_the_contract(hook: WebhookReceiver, tmp_path: Path) -> None:
    answer = channel(hook.url, tmp_path, secret=WHSEC).send(message())
    assert answer == "HTTP 200 OK: ok"
    request = hook.received[0]
    assert request.verified is True
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["webhook-id"] == "nw_0123456789abcdef"
    assert request.headers["webhook-timestamp"].isdigit()
    assert request.json == {
        "type": "watch.matched",
        "id": "nw_0123456789abcdef",
        "watch": {"name": "quan-hai-ba-trung", "label": "Quận Hai Bà Trưng"},
        "article": {
            "url": "https://tuoitrethudo.vn/cau-vuot-123.html",
            "title": "Quận Hai Bà Trưng khởi công cầu vượt",
            "source": "tuoitrethudo",
            "published": "2026-11-26T09:30:00+07:00",
            "snippet": "UBND quận Hai Bà Trưng cho biết",
            "hits": [
                {"term": "quận Hai Bà Trưng", "text": "quận Hai Bà Trưng", "start": 5, "end": 22}
            ],
        },
    }
    # What the library checked, checked again by hand: body bytes are the signed bytes.
    Webhook(WHSEC).verify(request.body, request.headers)


def test_a_plain_secret_signs_with_its_utf8_bytes(tmp_path: Path) -> None:
    with WebhookReceiver(secret="mật khẩu chung") as hook:
        channel(hook.url, tmp_path, secret="mật khẩu chung").send(message())
        assert hook.received[0].verified is True
        Webhook("mật khẩu chung".encode()).verify(hook.received[0].body, hook.received[0].headers)


def test_a_wrong_secret_is_rejected_by_the_receiver(hook: WebhookReceiver, tmp_path: Path) -> None:
    with pytest.raises(DeliveryError, match="HTTP 401"):
        channel(hook.url, tmp_path, secret="whsec_" + "A" * 32).send(message())
    assert hook.requests[0].verified is False and not hook.received


def test_unsigned_when_no_secret(tmp_path: Path) -> None:
    with WebhookReceiver() as hook:
        channel(hook.url, tmp_path, secret="").send(message())
        assert "webhook-signature" not in hook.received[0].headers


def test_redirects_are_not_followed(hook: WebhookReceiver, tmp_path: Path) -> None:
    with WebhookReceiver() as elsewhere:
        hook.redirect(elsewhere.url, status=307)
        with pytest.raises(DeliveryError, match=r"HTTP 307 redirect .* not followed") as info:
            channel(hook.url, tmp_path, secret=WHSEC).send(message())
        assert not elsewhere.requests
        assert not isinstance(info.value, PermanentDeliveryError)


def test_410_is_permanent_and_disables(hook: WebhookReceiver, tmp_path: Path) -> None:
    hook.gone()
    with pytest.raises(PermanentDeliveryError) as info:
        channel(hook.url, tmp_path, secret=WHSEC).send(message())
    assert info.value.disable_channel and info.value.status == 410


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "30", 30.0),
        (503, "7", 7.0),
        (500, None, None),
    ],
)
def test_retryable_answers_carry_retry_after(
    hook: WebhookReceiver,
    tmp_path: Path,
    status: int,
    retry_after: str | None,
    expected: float | None,
) -> None:
    hook.fail(status, times=1, retry_after=retry_after)
    with pytest.raises(DeliveryError) as info:
        channel(hook.url, tmp_path, secret=WHSEC).send(message())
    assert not isinstance(info.value, PermanentDeliveryError)
    assert (info.value.status, info.value.retry_after) == (status, expected)


def test_read_timeout_is_a_retryable_failure(hook: WebhookReceiver, tmp_path: Path) -> None:
    release = threading.Event()

    def hang(request: Request) -> Answer:
        release.wait(5)
        return Answer()

    hook.respond(hang)
    try:
        with pytest.raises(
            DeliveryError, match=r"no answer from http://127\.0\.0\.1:\d+/… within 1 s"
        ):
            channel(hook.url, tmp_path, secret=WHSEC, timeout=1).send(message())
    finally:
        release.set()


def test_errors_never_show_the_url_path_or_secret(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/hooks/T0PSECRET?token=T0PSECRET"
    with pytest.raises(DeliveryError) as info:
        channel(url, tmp_path, secret="whsec_" + "B" * 32).send(message())
    assert "T0PSECRET" not in str(info.value)
    assert "B" * 32 not in str(info.value)
    assert "cannot connect to http://127.0.0.1:9/…" in str(info.value)


def test_send_test_alert_reports_the_receivers_answer(
    hook: WebhookReceiver, tmp_path: Path
) -> None:
    assert send_test_alert(channel(hook.url, tmp_path, secret=WHSEC)) == "HTTP 200 OK: ok"
    assert hook.received[0].json["article"]["title"].startswith("Quận Hai Bà Trưng")
    hook.fail(502)
    with pytest.raises(DeliveryError, match=r"^channel newsroom: HTTP 502 from http://127"):
        send_test_alert(channel(hook.url, tmp_path, secret=WHSEC))
