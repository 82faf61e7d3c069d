"""Staleness and failure alarms: once per incident, a recovery notice, survive restarts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from crawler.service.alarms import Alarms
from pipelines.store.database import Store
from pipelines.store.schema import runs, sources, utcnow


@dataclass(frozen=True)
class Src:
    name: str = "hanoimoi"
    stale_after: float = 86400.0
    fail_after: int = 3


class Outbox:
    """Stands in for enqueue_notice: idempotent by key, like the real one."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, list[str]]] = []

    def __call__(self, store: Store, key: str, title: str, text: str, ch: Sequence[str]) -> bool:
        if any(k == key for k, *_ in self.sent):
            return False
        self.sent.append((key, title, text, list(ch)))
        return True

    @property
    def titles(self) -> list[str]:
        return [title for _, title, _, _ in self.sent]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.for_data_dir(tmp_path)
    st.migrate()
    yield st
    st.close()


def round_(store: Store, status: str, new: int = 0, error: str = "feed returned 503") -> None:
    run = store.start_run("hanoimoi")
    store.finish_run(run, status, new_articles=new, detail={"error": error})


def backdate(store: Store, hours: float) -> None:
    """Pretend every recorded time happened ``hours`` earlier."""
    shift = timedelta(hours=hours)
    with store.begin() as conn:
        rows = conn.execute(select(sources)).mappings().all()
        for row in rows:
            values = {
                key: row[key] - shift
                for key in ("last_run_at", "last_success_at", "last_new_at")
                if row[key] is not None
            }
            conn.execute(update(sources).where(sources.c.name == row["name"]).values(**values))
        for run in conn.execute(select(runs.c.id, runs.c.started_at)).all():
            conn.execute(update(runs).where(runs.c.id == run.id)
                         .values(started_at=run.started_at - shift))  # fmt: skip


def alarm(store: Store) -> str | None:
    with store.begin() as conn:
        value: str | None = conn.execute(select(sources.c.alarm)).scalar()
    return value


def test_failing_source_alarms_once_then_recovers(store: Store) -> None:
    outbox = Outbox()
    alarms = Alarms(store, outbox)
    round_(store, "ok", new=2)
    for _ in range(2):
        round_(store, "failed")
        assert alarms.check([Src()], ["ops"]) == []
    round_(store, "timeout", error="no result after the 300 s timeout; killed")
    alarms.check([Src()], ["ops"])
    round_(store, "failed")
    alarms.check([Src()], ["ops"])  # still failing: no second message
    assert outbox.titles == ["newswatch: source hanoimoi is failing"]
    _, _, text, channels = outbox.sent[0]
    assert "4 rounds in a row failed" not in text and "3 rounds in a row failed" in text
    assert "timeout" in text and channels == ["ops"]
    assert alarm(store) == "failing"
    round_(store, "ok")
    alarms.check([Src()], ["ops"])
    assert outbox.titles[-1] == "newswatch: source hanoimoi recovered"
    assert "last round succeeded" in outbox.sent[-1][2]
    assert alarm(store) is None


def test_a_round_stopped_with_the_service_neither_fails_nor_heals(store: Store) -> None:
    outbox = Outbox()
    alarms = Alarms(store, outbox)
    round_(store, "ok", new=2)
    with store.begin() as conn:
        success = conn.execute(select(sources.c.last_success_at)).scalar()
    for _ in range(2):
        round_(store, "failed")
    round_(store, "stopped", error="the service is stopping")
    assert alarms.check([Src()], ["ops"]) == [], "two failures, not three"
    round_(store, "failed")
    alarms.check([Src()], ["ops"])
    assert outbox.titles == ["newswatch: source hanoimoi is failing"]
    assert "3 rounds in a row failed; last error: feed returned 503" in outbox.sent[0][2]
    round_(store, "stopped", error="the service is stopping")
    alarms.check([Src()], ["ops"])
    assert len(outbox.sent) == 1 and alarm(store) == "failing", "no recovery from a stop"
    with store.begin() as conn:
        row = conn.execute(select(sources)).mappings().one()
    assert row["consecutive_failures"] == 3 and row["last_success_at"] == success
    assert row["last_status"] == "stopped" and row["last_error"] == "feed returned 503"


def test_quiet_source_goes_stale_after_stale_after_and_heals_on_a_new_article(
    store: Store,
) -> None:
    outbox = Outbox()
    alarms = Alarms(store, outbox)
    round_(store, "ok", new=1)
    round_(store, "ok")
    assert alarms.check([Src()], ["ops"]) == []
    backdate(store, hours=25)
    round_(store, "ok")  # rounds keep succeeding, but nothing new for 25 h
    alarms.check([Src()], ["ops"])
    alarms.check([Src()], ["ops"])
    assert outbox.titles == ["newswatch: source hanoimoi has gone stale"]
    assert "no new article for 25 h" in outbox.sent[0][2]
    round_(store, "ok", new=3)
    alarms.check([Src()], ["ops"])
    assert outbox.titles[-1] == "newswatch: source hanoimoi recovered"
    assert "found a new article" in outbox.sent[-1][2]


def test_a_source_that_never_found_anything_is_stale_from_its_first_round(store: Store) -> None:
    outbox = Outbox()
    round_(store, "ok")
    backdate(store, hours=3)
    round_(store, "ok")
    Alarms(store, outbox).check([Src(stale_after=2 * 3600)], ["ops"])
    assert outbox.titles == ["newswatch: source hanoimoi has gone stale"]
    assert "since its first round" in outbox.sent[0][2]


def test_failing_is_reported_instead_of_stale(store: Store) -> None:
    outbox = Outbox()
    round_(store, "ok", new=1)
    backdate(store, hours=30)
    for _ in range(3):
        round_(store, "crashed", error="crawl process killed by SIGKILL")
    Alarms(store, outbox).check([Src()], ["ops"])
    assert outbox.titles == ["newswatch: source hanoimoi is failing"]


def test_alarm_state_survives_a_restart(store: Store) -> None:
    outbox = Outbox()
    for _ in range(3):
        round_(store, "failed")
    Alarms(store, outbox).check([Src()], ["ops"])
    Alarms(store, outbox).check([Src()], ["ops"])  # a new service process
    assert len(outbox.sent) == 1


def test_crash_between_queueing_and_saving_does_not_send_twice(store: Store) -> None:
    outbox = Outbox()
    for _ in range(3):
        round_(store, "failed")
    Alarms(store, outbox).check([Src()], ["ops"])
    with store.begin() as conn:  # the alarm flag was lost, the queued notice was not
        conn.execute(update(sources).values(alarm=None))
    Alarms(store, outbox).check([Src()], ["ops"])
    assert len(outbox.sent) == 1 and alarm(store) == "failing"


def test_without_ops_channels_the_alarm_is_logged_and_tracked(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox()
    for _ in range(3):
        round_(store, "failed")
    Alarms(store, outbox).check([Src()], [])
    assert outbox.sent == []
    assert alarm(store) == "failing"
    assert "source hanoimoi is failing: 3 rounds in a row failed" in caplog.text


def test_real_enqueue_notice_queues_one_delivery_per_ops_channel(store: Store) -> None:
    dispatch = pytest.importorskip("pipelines.deliver.dispatch")
    from pipelines.store.schema import notice_deliveries, notices

    for _ in range(3):
        round_(store, "failed")
    alarms = Alarms(store, dispatch.enqueue_notice)
    alarms.check([Src()], ["newsroom", "editors"])
    with store.begin() as conn:
        conn.execute(update(sources).values(alarm=None))
    alarms.check([Src()], ["newsroom", "editors"])
    with store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(notices)).scalar() == 1
        channels = conn.execute(select(notice_deliveries.c.channel)).scalars().all()
    assert sorted(channels) == ["editors", "newsroom"]


def test_sources_that_never_ran_are_not_judged(store: Store) -> None:
    outbox = Outbox()
    assert Alarms(store, outbox).check([Src()], ["ops"], now=utcnow()) == []
