"""The service with fake crawl children: schedule, no overlap, signals, reload, health."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from crawler.service.core import Service, ServiceOptions
from crawler.service.instance import InstanceLock
from crawler.service.logs import close_logging
from crawler.service.main import run_service
from pipelines.errors import ConfigError, Problem
from pipelines.store.database import Store
from pipelines.store.schema import runs, sources, utcnow


@dataclass(frozen=True)
class Src:
    name: str
    every: float = 3600.0
    jitter: float = 0.0
    timeout: float = 30.0
    stale_after: float = 86400.0
    fail_after: int = 3
    enabled: bool = True


@dataclass(frozen=True)
class Cfg:
    config_dir: Path
    data_dir: Path
    sources: tuple[Src, ...]
    watches: tuple[Any, ...] = ()
    channels: Mapping[str, Any] = field(default_factory=dict)
    disabled_channels: Mapping[str, str] = field(default_factory=dict)
    ops: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = ()


class FakeDispatcher:
    """Counts how often it was built and whether it was stopped."""

    def __init__(self) -> None:
        self.built: list[Cfg] = []
        self.stopped = threading.Event()

    def __call__(self, store: Store, config: Cfg) -> FakeDispatcher:
        self.built.append(config)
        return self

    def run_forever(self, stop: threading.Event, poll: float = 1.0) -> None:
        stop.wait()
        self.stopped.set()


CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    source, lobby, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
    me = os.path.join(lobby, f"{source}.{os.getpid()}")
    open(me, "w").close()
    together = len([f for f in os.listdir(lobby) if f.startswith(source + ".")])
    time.sleep(pause)
    os.rename(me, os.path.join(lobby, f"done.{source}.{os.getpid()}.{together}"))
    print(json.dumps({"source": source, "status": "ok", "new_articles": 1, "fetched": 2}))
    """
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.for_data_dir(tmp_path / "data")
    st.migrate()
    yield st
    st.close()


def make_service(
    tmp_path: Path,
    store: Store,
    *srcs: Src,
    pause: float = 0.0,
    code: str = CHILD,
    loader: Callable[[], Cfg] | None = None,
    http: str | None = None,
) -> tuple[Service, FakeDispatcher, Path]:
    lobby = tmp_path / "lobby"
    lobby.mkdir(exist_ok=True)
    config = Cfg(tmp_path / "config", tmp_path / "data", srcs)
    dispatcher = FakeDispatcher()
    service = Service(
        config,  # type: ignore[arg-type]
        store,
        loader=loader or (lambda: config),  # type: ignore[arg-type, return-value]
        command=lambda s: [sys.executable, "-c", code, s, str(lobby), str(pause)],
        options=ServiceOptions(http=http, stop_grace=0.3, term_wait=0.2, kill_wait=0.3),
        dispatcher=dispatcher,  # type: ignore[arg-type]
    )
    return service, dispatcher, lobby


def finished(lobby: Path, source: str) -> list[int]:
    """How many children of ``source`` each finished child saw running at its start."""
    return [int(p.name.split(".")[-1]) for p in lobby.glob(f"done.{source}.*")]


async def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def run_until(service: Service, check: Callable[[], bool], then: Callable[[], None]) -> int:
    async def go() -> int:
        task = asyncio.ensure_future(service.run())
        try:
            await until(check)
        finally:
            then()
        return await asyncio.wait_for(task, 20)

    return asyncio.run(go())


def sigterm() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def test_each_source_runs_at_its_interval_without_overlapping_itself(
    tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    service, dispatcher, lobby = make_service(
        tmp_path, store, Src("a", every=0.2), Src("b", every=0.2), pause=0.5
    )
    status = run_until(
        service, lambda: len(finished(lobby, "a")) >= 3 and len(finished(lobby, "b")) >= 3, sigterm
    )
    assert status == 0
    # Rounds come every 0.2 s but each takes 0.5 s: a source never ran twice at once.
    assert set(finished(lobby, "a")) == {1} and set(finished(lobby, "b")) == {1}
    assert dispatcher.stopped.is_set()
    assert service.rounds >= 6
    skipped = [r for r in caplog.records if r.getMessage().startswith("round skipped")]
    assert skipped and {getattr(r, "source", None) for r in skipped} <= {"a", "b"}
    assert "maximum number of running instances" not in caplog.text


def test_sigint_stops_too(tmp_path: Path, store: Store) -> None:
    service, _, lobby = make_service(tmp_path, store, Src("a", every=0.2))
    status = run_until(
        service, lambda: bool(finished(lobby, "a")), lambda: os.kill(os.getpid(), signal.SIGINT)
    )
    assert status == 0


def test_stop_kills_a_hung_crawl_after_the_grace_and_records_it(
    tmp_path: Path, store: Store
) -> None:
    hang = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    service, dispatcher, _ = make_service(tmp_path, store, Src("slow"), code=hang)
    status = run_until(service, lambda: bool(service.supervisor.running), sigterm)
    assert status == 0
    with store.begin() as conn:
        [run] = conn.execute(select(runs)).mappings().all()
    assert run["status"] == "stopped"
    assert "the service is stopping" in json.loads(run["detail"])["error"]
    assert dispatcher.stopped.is_set()


def test_catch_up_runs_overdue_sources_soon_and_others_when_due(
    tmp_path: Path, store: Store
) -> None:
    now = utcnow()
    with store.begin() as conn:
        conn.execute(
            insert(sources),
            [
                {"name": "recent", "last_run_at": now - timedelta(seconds=600),
                 "consecutive_failures": 0},
                {"name": "overdue", "last_run_at": now - timedelta(hours=5),
                 "consecutive_failures": 0},
            ],
        )  # fmt: skip
    names = [f"s{i}" for i in range(4)]
    service, _, _ = make_service(
        tmp_path, store, Src("recent"), Src("overdue"), *(Src(n) for n in names)
    )
    first = service._first_runs({s.name: s for s in service.config.sources}, catch_up=True)
    assert abs((first["recent"] - now).total_seconds() - 3000) < 5
    # The same recent source, had the service stopped its last poll, runs again at once.
    with store.begin() as conn:
        conn.execute(
            update(sources).where(sources.c.name == "recent").values(last_status="stopped")
        )
    again = service._first_runs({s.name: s for s in service.config.sources}, catch_up=True)
    assert (again["recent"] - now).total_seconds() < 2
    # Five overdue or never-run sources start spread over a minute, not in one burst.
    starts = sorted((first[n] - now).total_seconds() for n in ["overdue", *names])
    assert starts[0] < 2 and starts[-1] >= 40
    assert len({round(s) for s in starts}) == 5


def test_sighup_reloads_sources_and_channels_and_keeps_running(
    tmp_path: Path, store: Store
) -> None:
    configs: list[Cfg] = []

    def loader() -> Cfg:
        return configs[-1]

    service, dispatcher, lobby = make_service(
        tmp_path, store, Src("a", every=3600), Src("b", every=3600), loader=loader
    )
    configs.append(replace(service.config, sources=(Src("a", every=3600), Src("c", every=0.2))))  # type: ignore[type-var]

    def reload_then_stop() -> bool:
        return bool(finished(lobby, "c"))

    async def go() -> int:
        task = asyncio.ensure_future(service.run())
        await until(lambda: len(dispatcher.built) >= 1 and service.scheduler is not None)
        os.kill(os.getpid(), signal.SIGHUP)
        await until(reload_then_stop)
        assert sorted(service.next_runs()) == ["a", "c"]
        assert len(dispatcher.built) >= 2  # rebuilt with the new channels
        sigterm()
        return await asyncio.wait_for(task, 20)

    assert asyncio.run(go()) == 0


def test_bad_configuration_on_reload_keeps_the_running_one(
    tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> Cfg:
        raise ConfigError([Problem(("sources", 0, "every"), "bad duration", file="sources.yaml",
                                   line=4)])  # fmt: skip

    service, _, _ = make_service(tmp_path, store, Src("a"), loader=broken)

    async def go() -> bool:
        task = asyncio.ensure_future(service.run())
        await until(lambda: service.scheduler is not None and bool(service.next_runs()))
        ok = await service.reload()
        sigterm()
        await asyncio.wait_for(task, 20)
        return ok

    assert asyncio.run(go()) is False
    assert "sources.yaml:4: sources.0.every: bad duration" in caplog.text
    assert "NOT reloaded" in caplog.text


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers["Content-Type"], err.read().decode()


def test_healthz_and_metrics_while_running(tmp_path: Path, store: Store) -> None:
    service, _, lobby = make_service(tmp_path, store, Src("a", every=0.3), http="127.0.0.1:0")
    seen: dict[str, tuple[int, str, str]] = {}

    async def go() -> int:
        task = asyncio.ensure_future(service.run())
        await until(lambda: len(finished(lobby, "a")) >= 2 and service.http is not None)
        assert service.http is not None
        base = service.http.url
        seen["health"] = await asyncio.to_thread(get, base + "/healthz")
        seen["metrics"] = await asyncio.to_thread(get, base + "/metrics")
        seen["page"] = await asyncio.to_thread(get, base + "/")
        seen["other"] = await asyncio.to_thread(get, base + "/nowhere")
        state = json.loads((tmp_path / "data" / "service.json").read_text())
        assert state["http"] == base and "a" in state["next_runs"]
        sigterm()
        return await asyncio.wait_for(task, 20)

    assert asyncio.run(go()) == 0
    status, ctype, body = seen["health"]
    assert status == 200 and json.loads(body)["checks"]["store"] == "ok"
    status, ctype, body = seen["metrics"]
    assert status == 200 and ctype.startswith("text/plain")
    assert 'newswatch_crawls_total{result="ok",source="a"}' in body
    assert 'newswatch_articles_new_total{source="a"}' in body
    assert "newswatch_crawl_duration_seconds_bucket" in body
    status, ctype, body = seen["page"]  # the web interface, on the same port
    assert status == 200 and ctype.startswith("text/html") and "Cảnh báo" in body
    assert seen["other"][0] == 404


def test_second_run_on_the_same_data_dir_refuses_clearly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    with InstanceLock(data):
        try:
            status = run_service(tmp_path / "config", data)
        finally:
            close_logging()
    assert status == 1
    assert f"already running on {data}" in caplog.text
    assert str(os.getpid()) in caplog.text


def test_malformed_http_address_is_a_usage_error(tmp_path: Path) -> None:
    try:
        assert run_service(tmp_path / "c", tmp_path / "d", http="localhost") == 2
    finally:
        close_logging()


def test_missed_rounds_after_a_stall_run_once_not_in_a_burst(tmp_path: Path, store: Store) -> None:
    from apscheduler.events import EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED, JobEvent

    service, _, lobby = make_service(tmp_path, store, Src("a", every=0.2))
    submitted: list[int] = []
    missed: list[str] = []

    def listen(event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            missed.append(event.job_id)
        elif event.job_id.startswith("crawl:"):
            submitted.append(len(event.scheduled_run_times))  # type: ignore[attr-defined]

    async def go() -> int:
        task = asyncio.ensure_future(service.run())
        await until(lambda: len(finished(lobby, "a")) >= 1)
        assert service.scheduler is not None
        service.scheduler.add_listener(listen, EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED)
        time.sleep(1.5)  # the whole loop stalls, like a laptop lid closed: 7 rounds are due
        runs_before = len(finished(lobby, "a"))
        await until(lambda: len(finished(lobby, "a")) >= runs_before + 2)
        sigterm()
        return await asyncio.wait_for(task, 20)

    assert asyncio.run(go()) == 0
    assert missed == []  # the catch-up round was not dropped as "missed"...
    assert submitted and set(submitted) == {1}  # ...and the 7 due rounds ran as one


def test_jitter_is_capped_at_half_the_interval() -> None:
    from crawler.service.schedule import misfire_grace, trigger_for

    assert trigger_for(Src("a", every=120, jitter=1800)).jitter == 60
    assert trigger_for(Src("a", every=600, jitter=30)).jitter == 30
    assert trigger_for(Src("a", every=2, jitter=0)).jitter is None
    assert misfire_grace(Src("a", every=600, jitter=30)) == 631


def test_busy_health_port_fails_the_start_clearly(
    tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        service, dispatcher, _ = make_service(tmp_path, store, Src("a"), http=f"127.0.0.1:{port}")
        assert asyncio.run(service.run()) == 1
    assert f"cannot serve --http 127.0.0.1:{port}: Address already in use" in caplog.text
    assert dispatcher.built == [] and service.rounds == 0


def test_lock_of_a_killed_service_is_free_at_once(tmp_path: Path) -> None:
    from crawler.service.instance import lock_holder

    data = tmp_path / "data"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; "
         "from crawler.service.instance import InstanceLock; "
         "InstanceLock(Path(sys.argv[1])).acquire(); print('locked', flush=True); time.sleep(60)",
         str(data)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        assert lock_holder(data) == holder.pid
        holder.kill()  # kill -9: no chance to clean up
        holder.wait()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert lock_holder(data) is None
    with InstanceLock(data):
        assert lock_holder(data) == os.getpid()


def test_the_real_crawl_command_asks_for_the_json_summary(tmp_path: Path) -> None:
    from crawler.service.supervisor import crawl_command

    argv = crawl_command(tmp_path / "config", tmp_path / "var", verbosity=-1)("hanoimoi")
    assert argv[:3] == [sys.executable, "-m", "crawler.cli"]
    assert argv[-5:] == ["-q", "crawl", "--source", "hanoimoi", "--json"]
