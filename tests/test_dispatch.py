"""Outbox semantics as a user sees them: delivered once, retried on schedule, dead, re-queued,
410 disables, breaker and rate limit spend no attempts, crashes lose nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pipelines.deliver import channel_state, outbox
from pipelines.deliver.alertqueue import (
    format_deliveries,
    list_deliveries,
    queue_counts,
    retry_dead,
)
from pipelines.deliver.channels.base import Channel, Rate
from pipelines.deliver.channels.registry import build_channel
from pipelines.deliver.dispatch import SCHEDULE, Dispatcher
from pipelines.match.matcher import Matcher
from pipelines.match.rules import parse_watch
from pipelines.match.text import document_text
from pipelines.store.articles import ArticleRecord, MatchRecord
from pipelines.store.database import Store
from pipelines.store.schema import deliveries, delivery_attempts
from tests.servers.seed import Clock, new_store, record_alerts
from tests.servers.webhook_receiver import Answer, Request, WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = new_store(tmp_path)
    yield store
    store.close()


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=SECRET) as receiver:
        yield receiver


def webhook(
    hook: WebhookReceiver, tmp_path: Path, name: str = "newsroom", **extra: object
) -> Channel:
    mapping = {"kind": "webhook", "url": hook.url, "secret": SECRET, "burst": 0, **extra}
    return build_channel(name, mapping, data_dir=tmp_path)


def rows(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(select(deliveries).order_by(deliveries.c.id)).mappings()
        ]


def test_every_alert_is_delivered_once_on_every_channel(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 3, channels=["newsroom", "local"])
    channels = {
        "newsroom": webhook(hook, tmp_path),
        "local": build_channel(
            "local", {"kind": "file", "path": "alerts.jsonl"}, data_dir=tmp_path
        ),
    }
    summary = Dispatcher(store, channels).run_once()
    assert (summary.sent, summary.failed, summary.dead, summary.errors) == (6, 0, 0, [])
    assert Dispatcher(store, channels).run_once().sent == 0  # nothing twice
    assert len(hook.received) == 3
    assert all(r.verified for r in hook.received)
    lines = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    by_channel = {
        ch: sorted(str(r["message_id"]) for r in rows(store) if r["channel"] == ch)
        for ch in ("newsroom", "local")
    }
    assert sorted(json.loads(line)["id"] for line in lines) == by_channel["local"]
    assert sorted(hook.ids()) == by_channel["newsroom"]
    assert {r["status"] for r in rows(store)} == {"delivered"}
    assert queue_counts(store)["newsroom"]["delivered"] == 3


def test_failures_follow_the_schedule_then_dead_then_retry(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 1)
    clock = Clock()
    hook.fail(503)
    dispatcher = Dispatcher(store, {"newsroom": webhook(hook, tmp_path)}, clock=clock)
    summary = dispatcher.run_once()
    assert summary.failed == 1
    assert summary.errors[0].startswith("channel newsroom: HTTP 503 from http://127.0.0.1:")
    assert "retry in" in summary.errors[0]
    for attempt in range(1, len(SCHEDULE)):
        row = rows(store)[0]
        assert row["attempts"] == attempt
        delay = (row["next_attempt"] - clock.now).total_seconds()
        assert SCHEDULE[attempt] * 0.8 - 0.01 <= delay <= SCHEDULE[attempt] * 1.2 + 0.01
        assert dispatcher.run_once().failed == 0  # not due yet: nothing is sent early
        clock.now = row["next_attempt"] + timedelta(hours=2)  # past any breaker cooldown
        dispatcher.run_once()
    row = rows(store)[0]
    assert (row["status"], row["attempts"]) == ("dead", 10)
    assert len(hook.requests) == 10
    assert [r["status"] for r in list_deliveries(store)] == ["dead"]
    assert "HTTP 503" in format_deliveries(list_deliveries(store))
    # `newswatch alerts retry`: the same alert, the same id, delivered.
    hook.ok()
    assert retry_dead(store) == 1
    assert dispatcher.run_once().sent == 1
    assert len({r.id for r in hook.requests}) == 1
    assert rows(store)[0]["status"] == "delivered"


def test_retry_after_is_honoured_and_pauses_the_channel(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 3)
    clock = Clock()
    hook.throttle("120", times=1)
    dispatcher = Dispatcher(store, {"newsroom": webhook(hook, tmp_path)}, clock=clock)
    summary = dispatcher.run_once()
    assert (summary.sent, summary.failed, summary.skipped) == (0, 1, 2)
    assert "retry in 2 min" in summary.errors[0]
    first = rows(store)[0]
    assert first["next_attempt"] == clock.now + timedelta(seconds=120)
    clock.advance(119)
    assert dispatcher.run_once().sent == 0
    clock.advance(2)
    assert dispatcher.run_once().sent == 3
    assert len(hook.requests) == 4


def test_410_disables_the_channel_and_keeps_its_other_alerts(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 3)
    hook.gone(times=1)
    dispatcher = Dispatcher(store, {"newsroom": webhook(hook, tmp_path)})
    summary = dispatcher.run_once()
    assert (summary.dead, summary.skipped) == (1, 2)
    assert "410" in summary.errors[0]
    assert len(hook.requests) == 1  # nothing more is sent to a gone receiver
    counts = queue_counts(store)["newsroom"]
    assert (counts["dead"], counts["pending"]) == (1, 2)
    assert "410" in counts["disabled"]
    assert dispatcher.run_once().sent == 0
    # Fixing the receiver and re-queueing re-enables the channel.
    assert retry_dead(store, "newsroom") == 1
    assert dispatcher.run_once().sent == 3
    assert queue_counts(store)["newsroom"]["disabled"] is None


def test_circuit_breaker_stops_hammering_without_spending_attempts(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 20)
    clock = Clock()
    hook.down()
    dispatcher = Dispatcher(store, {"newsroom": webhook(hook, tmp_path)}, clock=clock)
    summary = dispatcher.run_once()
    assert (summary.failed, summary.skipped) == (5, 15)
    assert "cannot connect" in summary.errors[0]
    assert sorted(r["attempts"] for r in rows(store)) == [0] * 15 + [1] * 5
    assert queue_counts(store)["newsroom"]["breaker_open_until"] is not None
    clock.advance(30)  # still open: nothing sent, nothing spent
    assert dispatcher.run_once().failed == 0
    assert len(hook.requests) == 5
    clock.advance(31)  # half-open: a single probe, which fails: open again, longer
    assert dispatcher.run_once().failed == 1
    assert len(hook.requests) == 6
    hook.ok()
    clock.advance(121)  # the probe succeeds: closed, everything due goes out
    assert dispatcher.run_once().sent == 20
    assert len(hook.requests) == 26
    assert queue_counts(store)["newsroom"]["breaker_open_until"] is None


def test_rate_limit_holds_deliveries_back_for_later_rounds(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 5)
    clock = Clock()
    channel = webhook(hook, tmp_path, rate="2/min")
    assert channel.rate == Rate(2, 60.0)
    dispatcher = Dispatcher(store, {"newsroom": channel}, clock=clock)
    summary = dispatcher.run_once()
    assert (summary.sent, summary.skipped) == (2, 3)
    assert {r["attempts"] for r in rows(store) if r["status"] == "pending"} == {0}
    clock.advance(60)
    assert dispatcher.run_once().sent == 2
    clock.advance(30)
    assert dispatcher.run_once().sent == 1


def test_unconfigured_channel_keeps_its_alerts(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 2, channels=["newsroom", "editors"])
    summary = Dispatcher(store, {"newsroom": webhook(hook, tmp_path)}).run_once()
    assert (summary.sent, summary.skipped) == (2, 2)
    waiting = list_deliveries(store)
    assert [(r["channel"], r["status"]) for r in waiting] == [("editors", "pending")] * 2
    assert queue_counts(store)["editors"]["pending"] == 2


def test_a_send_interrupted_by_a_crash_is_resent_after_the_lease_without_a_step(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 1)
    clock = Clock()
    # A dispatcher claimed it, (maybe) sent it, and died before recording anything.
    claimed = outbox.claim(store, "newsroom", 1, clock.now, lease=60)
    assert len(claimed) == 1
    dispatcher = Dispatcher(store, {"newsroom": webhook(hook, tmp_path)}, clock=clock, lease=60)
    assert dispatcher.run_once().sent == 0  # still leased: nobody else sends it
    clock.advance(61)
    assert dispatcher.run_once().sent == 1
    row = rows(store)[0]
    assert (row["status"], row["attempts"]) == ("delivered", 1)
    assert hook.ids() == [row["message_id"]]


def test_a_message_that_keeps_killing_the_dispatcher_goes_dead(store: Store) -> None:
    record_alerts(store, 2)
    clock = Clock()
    for _ in range(outbox.MAX_INTERRUPTED + 1):  # claimed, then the process "dies"
        outbox.claim(store, "newsroom", 1, clock.advance(61), lease=60)
    statuses = sorted((r["status"], r["attempts"]) for r in rows(store))
    assert statuses == [("dead", 0), ("pending", 0)]
    dead = list_deliveries(store, ["dead"])[0]
    assert "interrupted 10 times" in dead["last_error"]
    with store.engine.connect() as conn:
        outcomes = conn.execute(select(delivery_attempts.c.outcome)).scalars().all()
    assert set(outcomes) == {"interrupted"}


def test_a_lost_lease_cannot_overwrite_the_new_owner(store: Store) -> None:
    record_alerts(store, 1)
    clock = Clock()
    old = outbox.claim(store, "newsroom", 1, clock.now, lease=1)[0]
    new = outbox.claim(store, "newsroom", 1, clock.advance(2), lease=60)[0]
    assert not outbox.finish(store, old, outcome="dead", now=clock.now, started=clock.now)
    assert outbox.finish(store, new, outcome="delivered", now=clock.now, started=clock.now)
    assert rows(store)[0]["status"] == "delivered"


def test_one_send_in_flight_per_channel(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 6)
    lock = threading.Lock()
    state = {"now": 0, "max": 0}
    release = threading.Event()

    def watch_concurrency(request: Request) -> Answer | None:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        release.wait(0.02)
        with lock:
            state["now"] -= 1
        return None

    hook.respond(watch_concurrency)
    assert Dispatcher(store, {"newsroom": webhook(hook, tmp_path)}).run_once().sent == 6
    assert state["max"] == 1


def test_two_dispatchers_never_serve_one_channel_at_once(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 2)
    clock = Clock()
    # Another process (the service, while someone runs `newswatch dispatch`) holds it.
    assert channel_state.acquire_channel(store, "newsroom", "other-host:1", clock.now, lease=60)
    dispatcher = Dispatcher(store, {"newsroom": webhook(hook, tmp_path)}, clock=clock, lease=60)
    summary = dispatcher.run_once()
    assert (summary.sent, summary.skipped) == (0, 2)
    assert not hook.requests
    clock.advance(61)  # its holder died: the hold expires
    assert dispatcher.run_once().sent == 2
    # After a round the channel is free again for anyone.
    assert channel_state.acquire_channel(store, "newsroom", "other-host:1", clock.now, lease=60)


def test_attempts_are_logged_without_secrets(store: Store, tmp_path: Path) -> None:
    record_alerts(store, 1, channels=["slack"])
    secret_url = "http://127.0.0.1:9/services/T0SECRET/B0SECRET/XXXXSECRETXXXX"
    channel = build_channel("slack", {"kind": "slack", "url": secret_url}, data_dir=tmp_path)
    summary = Dispatcher(store, {"slack": channel}).run_once()
    assert summary.failed == 1
    with store.engine.connect() as conn:
        attempts = conn.execute(select(delivery_attempts)).mappings().all()
    stored = " ".join(str(v) for v in [*attempts[0].values(), *rows(store)[0].values()])
    assert "cannot connect to http://127.0.0.1:9/" in stored
    assert "SECRET" not in stored and "SECRET" not in " ".join(summary.errors)
    assert attempts[0]["outcome"] == "retrying"


def test_lease_comes_from_the_environment(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_DISPATCH_LEASE", "5")
    assert Dispatcher(store, {}).lease == 5
    monkeypatch.delenv("NEWSWATCH_DISPATCH_LEASE")
    assert Dispatcher(store, {}).lease == 60


def test_run_forever_returns_when_stopped(
    store: Store, hook: WebhookReceiver, tmp_path: Path
) -> None:
    record_alerts(store, 2)
    stop = threading.Event()
    dispatcher = Dispatcher(store, {"newsroom": webhook(hook, tmp_path)})
    thread = threading.Thread(target=dispatcher.run_forever, args=(stop, 0.01))
    thread.start()
    assert hook.wait_for(2)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


class BrokenChannel(Channel):
    """A channel with a bug (for tests)."""

    kind = "broken"
    example = "{kind: broken}"

    @classmethod
    def from_config(cls, name: str, fields: Any, *, data_dir: Path) -> Channel:
        return cls(name)

    def send(self, message: Any) -> str:
        raise KeyError("bug")


def test_a_broken_channel_never_stops_the_others(
    store: Store, hook: WebhookReceiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record_alerts(store, 2, channels=["newsroom", "broken"])
    channels = {"newsroom": webhook(hook, tmp_path), "broken": BrokenChannel("broken")}
    summary = Dispatcher(store, channels).run_once()
    assert (summary.sent, summary.failed) == (2, 2)
    assert "channel broken: internal error in the broken channel (KeyError)" in summary.errors[0]
    assert queue_counts(store)["broken"]["retrying"] == 2


def test_an_alert_quotes_the_body_when_the_headline_matched_too(store: Store) -> None:
    # The message shows the headline already: quoting it again under itself says nothing
    # new. The passage quoted is the first one of the body that matched; an article that
    # matched only in its headline quotes the headline.
    watch = parse_watch("hbt", {"label": "Hai Bà Trưng", "any": ["quận Hai Bà Trưng"]})
    matcher = Matcher.compile([watch])
    body = (
        "Sáng nay, lãnh đạo quận Hai Bà Trưng kiểm tra công trình cải tạo chợ Mơ.\n\n"
        "Chợ sẽ mở cửa trở lại vào tháng sau."
    )
    quoted = {}
    for name, title, text in [
        ("both", "Quận Hai Bà Trưng cải tạo chợ Mơ", body),
        (
            "headline",
            "Quận Hai Bà Trưng ra quân dọn vệ sinh",
            "Hàng trăm người dân tham gia buổi ra quân sáng chủ nhật ở các tuyến phố.",
        ),
    ]:
        canonical, title_length = document_text(title, text)
        [match] = matcher.match(canonical, title_length=title_length)
        record = ArticleRecord(
            url=f"https://tin.example/{name}.html", source="tin", title=title, text=canonical
        )
        store.record_article(record, [MatchRecord.of(match, ["newsroom"])])
    clock = Clock()
    for job in outbox.claim(store, "newsroom", 10, clock.now, lease=60):
        [item] = outbox.load_message(store, job, "Asia/Ho_Chi_Minh").items
        quoted[item.url.rsplit("/", 1)[1]] = item.snippet
    assert quoted["both.html"].startswith("Sáng nay, lãnh đạo quận Hai Bà Trưng kiểm tra")
    assert quoted["headline.html"] == "Quận Hai Bà Trưng ra quân dọn vệ sinh"
