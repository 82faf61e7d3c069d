"""Digests (burst, hourly, daily@HH:MM) and operator notices, through the real dispatcher."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.deliver.alertqueue import list_deliveries, queue_counts
from pipelines.deliver.channels.base import Channel
from pipelines.deliver.channels.registry import build_channel
from pipelines.deliver.digests import digest_id_for, next_boundary
from pipelines.deliver.dispatch import Dispatcher, enqueue_notice
from pipelines.store.database import Store
from tests.servers.seed import Clock, new_store, record_alerts, set_times
from tests.servers.webhook_receiver import WebhookReceiver

TZ = "Asia/Ho_Chi_Minh"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = new_store(tmp_path)
    yield store
    store.close()


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def webhook(hook: WebhookReceiver, tmp_path: Path, **extra: object) -> Channel:
    return build_channel(
        "newsroom", {"kind": "webhook", "url": hook.url, **extra}, data_dir=tmp_path
    )


def test_a_burst_is_collapsed_into_one_digest_with_a_stable_id(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 8)
    record_alerts(store, 2, watch="phuong-bach-mai", label="Phường Bạch Mai", start=100)
    clock = Clock()
    hook.fail(503, times=1)
    dispatcher = Dispatcher(store, {"newsroom": webhook(hook, tmp_path, burst=5)}, clock=clock)
    assert dispatcher.run_once().failed == 10
    clock.advance(10)
    assert dispatcher.run_once().sent == 10
    assert len(hook.received) == 1
    digest = hook.received[0].json
    assert digest["type"] == "watch.digest"
    assert len(digest["articles"]) == 10
    assert {a["watch"]["name"] for a in digest["articles"]} == {
        "quan-hai-ba-trung",
        "phuong-bach-mai",
    }
    assert digest["articles"][0]["published"].endswith("+07:00")
    # The retry carried the same id, derived from the alerts inside.
    assert hook.requests[0].id == hook.requests[1].id == digest["id"]
    assert digest["id"] == digest_id_for(a["id"] for a in digest["articles"])
    assert queue_counts(store)["newsroom"]["delivered"] == 10


def test_a_small_batch_is_not_a_burst(store: Store, hook: WebhookReceiver, tmp_path: Path) -> None:
    record_alerts(store, 5)
    Dispatcher(store, {"newsroom": webhook(hook, tmp_path, burst=5)}).run_once()
    assert [r.json["type"] for r in hook.received] == ["watch.matched"] * 5


def test_hourly_digest_waits_for_the_top_of_the_hour(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 3, watch="quan-hai-ba-trung")
    record_alerts(store, 1, watch="phuong-bach-mai", label="Phường Bạch Mai", start=50)
    at_1020 = datetime(2026, 11, 26, 3, 20, tzinfo=UTC)  # 10:20 in Hà Nội
    set_times(store, at_1020)
    clock = Clock(at_1020 + timedelta(minutes=5))
    dispatcher = Dispatcher(
        store,
        {"newsroom": webhook(hook, tmp_path)},
        clock=clock,
        digests={"quan-hai-ba-trung": "hourly"},
    )
    assert dispatcher.run_once().sent == 1  # the immediate watch only
    assert hook.received[0].json["watch"]["name"] == "phuong-bach-mai"
    held = list_deliveries(store)
    assert len(held) == 3
    assert {r["next_attempt"] for r in held} == {datetime(2026, 11, 26, 4, 0, tzinfo=UTC)}
    clock.now = datetime(2026, 11, 26, 3, 59, tzinfo=UTC)
    assert dispatcher.run_once().sent == 0
    clock.now = datetime(2026, 11, 26, 4, 0, 1, tzinfo=UTC)
    assert dispatcher.run_once().sent == 3
    assert len(hook.received) == 2
    digest = hook.received[1].json
    assert (digest["type"], digest["reason"], len(digest["articles"])) == (
        "watch.digest",
        "hourly",
        3,
    )
    # Alerts after the digest go into the next one.
    record_alerts(store, 1, start=10)
    set_times(store, clock.now)
    assert dispatcher.run_once().sent == 0


def test_digest_boundaries_in_local_time() -> None:
    at = datetime(2026, 11, 26, 3, 20, tzinfo=UTC)  # 10:20 +07:00
    assert next_boundary(at, "hourly", TZ) == datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    assert next_boundary(at, "daily@07:30", TZ) == datetime(2026, 11, 27, 0, 30, tzinfo=UTC)
    assert next_boundary(at, "daily@18:00", TZ) == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert next_boundary(at, "daily@10:20", TZ) == datetime(2026, 11, 27, 3, 20, tzinfo=UTC)


def test_bad_digest_setting_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="daily@HH:MM"):
        Dispatcher(store, {}, digests={"w": "daily@25:00"})


def test_operator_notice_is_queued_once_and_delivered(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    key = "source-stale:tuoitrethudo:2026-11-26"
    text = "Không có bài mới từ tuoitrethudo trong 6 giờ."
    assert enqueue_notice(store, key, "Source tuoitrethudo is stale", text, ["newsroom"])
    assert not enqueue_notice(store, key, "Source tuoitrethudo is stale", text, ["newsroom"])
    assert [r["kind"] for r in list_deliveries(store)] == ["notice"]
    assert Dispatcher(store, {"newsroom": webhook(hook, tmp_path)}).run_once().sent == 1
    body = hook.received[0].json
    assert (body["type"], body["text"]) == ("newswatch.notice", text)
    assert body["id"] == hook.received[0].id


def test_a_disabled_channel_alarms_the_operator_elsewhere(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 1)
    hook.gone()
    local = build_channel("local", {"kind": "file", "path": "ops.jsonl"}, data_dir=tmp_path)
    dispatcher = Dispatcher(
        store, {"newsroom": webhook(hook, tmp_path), "local": local}, ops=["local", "newsroom"]
    )
    dispatcher.run_once()
    dispatcher.run_once()
    notice = (tmp_path / "ops.jsonl").read_text(encoding="utf-8")
    assert "Channel newsroom disabled" in notice
    assert "newswatch alerts retry" in notice
    assert queue_counts(store)["newsroom"]["dead"] == 1
