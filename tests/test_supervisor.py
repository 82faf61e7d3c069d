"""The crawl supervisor against tiny fake children: hangs, crashes, silent exits, stragglers."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.service.supervisor import CrawlOutcome, Supervisor
from pipelines.store.database import Store
from pipelines.store.schema import runs, sources


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.for_data_dir(tmp_path / "data")
    st.migrate()
    yield st
    st.close()


def fake(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def run_one(store: Store, code: str, timeout: float = 30.0, **kw: float) -> CrawlOutcome:
    async def go() -> CrawlOutcome:
        sup = Supervisor(store, lambda source: fake(code), term_wait=0.2, kill_wait=0.5, **kw)
        outcome = await sup.crawl("demo", timeout)
        assert outcome is not None
        return outcome

    return asyncio.run(go())


def recorded(store: Store) -> list[dict[str, object]]:
    with store.begin() as conn:
        return [dict(r) for r in conn.execute(select(runs).order_by(runs.c.id)).mappings()]


def source_row(store: Store) -> dict[str, object]:
    with store.begin() as conn:
        return dict(conn.execute(select(sources)).mappings().one())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


SUMMARY = {
    "source": "demo", "status": "ok", "new_articles": 3, "alerts": 1, "requests": 9,
    "fetched": 4, "errors": 0, "bytes": 1234, "duration": 0.1, "error": None,
}  # fmt: skip


def test_summary_line_is_the_verdict_and_the_child_keeps_its_own_record(store: Store) -> None:
    outcome = run_one(store, f"print('starting'); print({json.dumps(SUMMARY)!r})")
    assert outcome.ok and outcome.new_articles == 3 and outcome.nbytes == 1234
    assert outcome.recorded_by == "child"
    assert recorded(store) == []  # the real crawl command records its run itself


def test_failed_summary_with_exit_zero_is_a_failure(store: Store) -> None:
    summary = {**SUMMARY, "status": "failed", "error": "feed returned 503"}
    outcome = run_one(store, f"print({json.dumps(summary)!r})")
    assert outcome.status == "failed" and outcome.error == "feed returned 503"


def test_hung_child_ignoring_sigterm_is_killed_with_its_whole_group(store: Store) -> None:
    code = """
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        helper = subprocess.Popen([sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
        print(helper.pid, flush=True)
        time.sleep(60)
    """
    outcome = run_one(store, code, timeout=1.0)
    assert outcome.status == "timeout"
    assert outcome.error is not None and "timeout" in outcome.error
    assert outcome.exit_status == -9
    [run] = recorded(store)
    assert run["status"] == "timeout" and run["finished_at"] is not None
    assert "timeout" in json.loads(str(run["detail"]))["error"]
    row = source_row(store)
    assert row["consecutive_failures"] == 1 and row["last_status"] == "timeout"


def test_grandchild_of_a_killed_child_does_not_survive(store: Store, tmp_path: Path) -> None:
    pidfile = tmp_path / "helper.pid"
    code = f"""
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        helper = subprocess.Popen([sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
        open({str(pidfile)!r}, "w").write(str(helper.pid))
        time.sleep(60)
    """
    run_one(store, code, timeout=1.0)
    helper = int(pidfile.read_text())
    # The helper was reparented and reaped by init (or is a zombie of a dead parent): either
    # way it no longer runs. /proc tells a zombie from a live process.
    stat = Path(f"/proc/{helper}/stat")
    assert not alive(helper) or stat.read_text().split(") ")[1].startswith("Z")


def test_child_that_honours_sigterm_stops_at_the_first_one(store: Store) -> None:
    outcome = run_one(store, "import time; time.sleep(60)", timeout=0.5)
    assert outcome.status == "timeout" and outcome.exit_status == -15


def test_crash_is_recorded_with_the_reason_from_stderr(store: Store) -> None:
    code = """
        import sys
        sys.stderr.write("sqlite3.OperationalError: database is locked\\n")
        sys.exit(3)
    """
    outcome = run_one(store, code)
    assert outcome.status == "crashed"
    assert outcome.error is not None
    assert "status 3" in outcome.error and "database is locked" in outcome.error
    [run] = recorded(store)
    assert run["status"] == "crashed"
    assert source_row(store)["last_error"] == outcome.error


def test_exit_zero_without_a_summary_is_a_crash_not_a_success(store: Store) -> None:
    outcome = run_one(store, "print('spider closed: finished')")
    assert outcome.status == "crashed" and "without printing its summary" in str(outcome.error)


def test_killed_by_a_signal_names_the_signal(store: Store) -> None:
    outcome = run_one(store, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert outcome.status == "crashed" and "SIGSEGV" in str(outcome.error)


def test_run_opened_by_a_child_that_then_hangs_is_closed_not_duplicated(store: Store) -> None:
    url = store.url
    code = f"""
        import time
        from pipelines.store.database import Store
        st = Store({url!r}); st.start_run("demo"); st.close()
        time.sleep(60)
    """
    outcome = run_one(store, code, timeout=3.0)
    assert outcome.status == "timeout"
    [run] = recorded(store)
    assert run["status"] == "timeout"


def test_no_more_than_max_parallel_children_at_once(store: Store, tmp_path: Path) -> None:
    lobby = tmp_path / "lobby"
    lobby.mkdir()
    code = f"""
        import json, os, time
        me = os.path.join({str(lobby)!r}, str(os.getpid()))
        open(me, "w").close()
        seen = len(os.listdir({str(lobby)!r}))
        time.sleep(0.3)
        seen = max(seen, len(os.listdir({str(lobby)!r})))
        os.remove(me)
        print(json.dumps({{"status": "ok", "new_articles": seen}}))
    """

    async def go() -> list[CrawlOutcome | None]:
        sup = Supervisor(store, lambda source: fake(code), max_parallel=2)
        return await asyncio.gather(*(sup.crawl(f"s{i}", 30) for i in range(5)))

    outcomes = asyncio.run(go())
    assert all(o is not None and o.ok for o in outcomes)
    assert max(o.new_articles for o in outcomes if o) <= 2


def test_stop_gives_a_grace_period_then_kills_and_records(store: Store) -> None:
    code = """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
    """

    async def go() -> tuple[CrawlOutcome | None, CrawlOutcome | None]:
        sup = Supervisor(store, lambda source: fake(code), max_parallel=1, term_wait=0.2,
                         kill_wait=0.2)  # fmt: skip
        first = asyncio.ensure_future(sup.crawl("one", 60))
        queued = asyncio.ensure_future(sup.crawl("two", 60))
        while not sup.running:
            await asyncio.sleep(0.01)
        await sup.stop(grace=0.2)
        return await first, await queued

    first, queued = asyncio.run(go())
    assert first is not None and first.status == "stopped"  # on purpose: not a timeout
    assert "the service is stopping" in str(first.error)
    assert queued is None  # never started: the next round after a restart picks it up
    [run] = recorded(store)
    assert run["source"] == "one" and run["status"] == "stopped"
    row = source_row(store)
    assert row["consecutive_failures"] == 0 and row["last_status"] == "stopped"


def stops_on_sigterm(store: Store) -> str:
    """A child like the real crawl: on SIGTERM it closes its own run as ``stopped``."""
    summary = {**SUMMARY, "status": "stopped", "error": "stopped by SIGTERM"}
    return f"""
        import json, signal, sys, time
        from pipelines.store.database import Store
        st = Store({store.url!r}); run = st.start_run("demo")
        def stop(signum, frame):
            st.finish_run(run, "stopped", new_articles=3, detail={{"error": "stopped by SIGTERM"}})
            print({json.dumps(summary)!r}, flush=True)
            sys.exit(0)
        signal.signal(signal.SIGTERM, stop)
        time.sleep(60)
    """


def test_a_child_stopped_by_the_service_keeps_its_stopped_record(store: Store) -> None:
    async def go() -> CrawlOutcome | None:
        sup = Supervisor(store, lambda source: fake(stops_on_sigterm(store)), term_wait=0.2)
        task = asyncio.ensure_future(sup.crawl("demo", 60))
        while not recorded(store):
            await asyncio.sleep(0.01)
        await sup.stop(grace=0.1)
        return await task

    outcome = asyncio.run(go())
    assert outcome is not None and outcome.status == "stopped" and outcome.new_articles == 3
    assert outcome.recorded_by == "child"
    assert [r["status"] for r in recorded(store)] == ["stopped"]
    assert source_row(store)["consecutive_failures"] == 0


def test_a_child_our_sigterm_stopped_at_its_timeout_failed_even_if_it_says_stopped(
    store: Store,
) -> None:
    code = stops_on_sigterm(store)

    async def go() -> CrawlOutcome | None:
        sup = Supervisor(store, lambda source: fake(code), term_wait=0.2)
        return await sup.crawl("demo", 1.0)

    outcome = asyncio.run(go())
    assert outcome is not None and outcome.status == "failed", outcome
    assert "1 s timeout" in str(outcome.error)
    [run] = recorded(store)  # the child's own run, closed again: not a second one
    assert run["status"] == "failed" and run["new_articles"] == 3
    assert "1 s timeout" in json.loads(str(run["detail"]))["error"]
    row = source_row(store)
    assert row["consecutive_failures"] == 1 and row["last_status"] == "failed"


def test_missing_executable_is_a_recorded_crash(store: Store) -> None:
    async def go() -> CrawlOutcome | None:
        sup = Supervisor(store, lambda source: ["./no-such-newswatch-binary"])
        return await sup.crawl("demo", 5)

    outcome = asyncio.run(go())
    assert outcome is not None and outcome.status == "crashed"
    assert "cannot start" in str(outcome.error)
    assert [r["status"] for r in recorded(store)] == ["crashed"]


def test_child_warnings_reach_the_service_log_with_the_source(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    code = f"""
        import sys
        sys.stderr.write("2026-11-26T10:00:00.000Z INFO    scrapy.core [source=demo] opened\\n")
        sys.stderr.write("2026-11-26T10:00:01.000Z WARNING crawler.spiders.news "
                         "[source=demo] feed answered 503\\n")
        print({json.dumps(SUMMARY)!r})
    """
    caplog.set_level("INFO")
    run_one(store, code)
    relayed = [r for r in caplog.records if r.name == "crawler.child"]
    assert [(r.levelname, r.getMessage()) for r in relayed if r.levelname != "DEBUG"] == [
        ("WARNING", "crawler.spiders.news: feed answered 503")
    ]
    assert all(getattr(r, "source", None) == "demo" for r in relayed)


def test_a_degraded_round_stays_degraded(store: Store) -> None:
    summary = {**SUMMARY, "status": "degraded", "error": "stopped asking hanoimoi.vn after 10"}
    outcome = run_one(store, f"print({json.dumps(summary)!r})")
    assert outcome.status == "degraded" and not outcome.ok
    assert outcome.new_articles == 3 and outcome.error == summary["error"]
