"""``newswatch status``: per-source and per-channel tables, and ``--json`` for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from crawler.service.instance import InstanceLock, write_state
from crawler.service.status import render_status
from pipelines.store.database import Store
from pipelines.store.schema import sources, utcnow


@dataclass(frozen=True)
class Src:
    name: str
    every: float = 600.0
    enabled: bool = True
    max_age: float = 7 * 86400.0


@dataclass(frozen=True)
class Cfg:
    data_dir: Path
    sources: tuple[Src, ...] = (Src("tuoitrethudo"), Src("hanoimoi"), Src("kinhtedothi"))
    channels: Mapping[str, Any] = field(default_factory=lambda: {"newsroom": object()})
    disabled_channels: Mapping[str, str] = field(
        default_factory=lambda: {"editors": "environment variable SMTP_HOST is not set"}
    )
    ops: tuple[str, ...] = ("newsroom",)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.for_data_dir(tmp_path)
    st.migrate()
    run = st.start_run("tuoitrethudo")
    st.finish_run(run, "ok", new_articles=4, requests=12)
    for _ in range(2):
        run = st.start_run("hanoimoi")
        st.finish_run(run, "timeout", detail={"error": "no result after the 300 s timeout"})
    yield st
    st.close()


def status(tmp_path: Path, store: Store, *, as_json: bool) -> str:
    return render_status(Cfg(tmp_path), store, as_json=as_json)  # type: ignore[arg-type]


def test_table_shows_each_source_and_its_trouble(tmp_path: Path, store: Store) -> None:
    with store.begin() as conn:
        conn.execute(update(sources).where(sources.c.name == "hanoimoi").values(alarm="failing"))
    text = status(tmp_path, store, as_json=False)
    lines = text.splitlines()
    assert lines[0].startswith("service: not running")
    header = next(line for line in lines if line.startswith("SOURCE"))
    assert header.split() == [
        "SOURCE", "LAST", "RUN", "RESULT", "NEW", "NEXT", "RUN", "FAILS", "LAST", "NEW", "ALARM",
    ]  # fmt: skip
    ok = next(line for line in lines if line.startswith("tuoitrethudo"))
    assert " ok " in ok and " 4 " in ok and ok.split()[-1] == "-"
    bad = next(line for line in lines if line.startswith("hanoimoi"))
    assert " timeout " in bad and " 2 " in bad and bad.split()[-1] == "failing"
    assert "  hanoimoi: no result after the 300 s timeout" in lines
    never = next(line for line in lines if line.startswith("kinhtedothi"))
    assert never.split()[1:4] == ["-", "-", "-"]


def test_a_poll_stopped_with_the_service_shows_as_stopped_not_as_a_failure(
    tmp_path: Path, store: Store
) -> None:
    run = store.start_run("hanoimoi")
    store.finish_run(run, "stopped", new_articles=1, detail={"error": "the service is stopping"})
    data = json.loads(status(tmp_path, store, as_json=True))
    hanoimoi = next(s for s in data["sources"] if s["name"] == "hanoimoi")
    assert hanoimoi["result"] == "stopped" and hanoimoi["consecutive_failures"] == 2
    assert hanoimoi["last_error"] == "no result after the 300 s timeout"
    row = next(line for line in status(tmp_path, store, as_json=False).splitlines()
               if line.startswith("hanoimoi"))  # fmt: skip
    cells = row.split()  # SOURCE, LAST RUN ("now"), RESULT, NEW, NEXT RUN, FAILS, ...
    assert cells[2:4] == ["stopped", "1"] and cells[5] == "2"


def test_channels_show_queue_and_why_one_is_disabled(tmp_path: Path, store: Store) -> None:
    dispatch = pytest.importorskip("pipelines.deliver.dispatch")
    dispatch.enqueue_notice(store, "stale:x", "title", "text", ["newsroom"])
    text = status(tmp_path, store, as_json=False)
    row = next(line for line in text.splitlines() if line.startswith("newsroom"))
    assert row.split()[:5] == ["newsroom", "(ops)", "1", "0", "0"]
    assert "  editors: disabled: environment variable SMTP_HOST is not set" in text.splitlines()
    assert next(line for line in text.splitlines() if line.startswith("editors (off)"))


def test_json_for_scripts(tmp_path: Path, store: Store) -> None:
    data = json.loads(status(tmp_path, store, as_json=True))
    by_name = {s["name"]: s for s in data["sources"]}
    assert by_name["tuoitrethudo"]["result"] == "ok"
    assert by_name["tuoitrethudo"]["new_articles"] == 4
    assert by_name["tuoitrethudo"]["last_new_article"] is not None
    assert by_name["hanoimoi"]["consecutive_failures"] == 2
    assert by_name["hanoimoi"]["result"] == "timeout"
    assert by_name["kinhtedothi"]["last_run"] is None
    channels = {c["name"]: c for c in data["channels"]}
    assert channels["newsroom"]["enabled"] and channels["newsroom"]["ops"]
    assert not channels["editors"]["enabled"]
    assert set(channels["newsroom"]) >= {"pending", "retrying", "dead", "last_success"}
    assert data["service"]["running"] is False


def test_next_run_comes_from_the_running_service(tmp_path: Path, store: Store) -> None:
    soon = (utcnow() + timedelta(minutes=7, seconds=10)).isoformat()
    state = {"pid": 4242, "started_at": utcnow().isoformat(), "http": "http://127.0.0.1:9410"}
    write_state(tmp_path, {**state, "next_runs": {"hanoimoi": soon}})
    assert "not running" in status(tmp_path, store, as_json=False)  # stale file, no lock
    with InstanceLock(tmp_path):
        text = status(tmp_path, store, as_json=False)
        data = json.loads(status(tmp_path, store, as_json=True))
    assert "service: running (pid 4242)" in text
    assert "health http://127.0.0.1:9410/healthz" in text
    row = next(line for line in text.splitlines() if line.startswith("hanoimoi"))
    assert "in 7 min" in row
    assert data["sources"][1]["next_run"] == soon
