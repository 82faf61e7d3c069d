"""``/healthz`` and ``/metrics``, served by the web app (uvicorn) over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from crawler.service.metrics import Metrics
from crawler.service.status import channel_counts
from crawler.service.supervisor import CrawlOutcome
from crawler.web.app import build_app
from crawler.web.context import Check, WebContext, parse_address
from crawler.web.server import WebServer
from pipelines.store.database import Store


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode()


@pytest.fixture
def metrics() -> Metrics:
    m = Metrics(None)
    m.observe(CrawlOutcome("hanoimoi", "ok", 2.5, new_articles=3, fetched=5))
    m.observe(CrawlOutcome("hanoimoi", "timeout", 300.0, error="killed"))
    return m


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.for_data_dir(tmp_path)
    store.migrate()
    yield store
    store.close()


def start(store: Store, metrics: Metrics, checks: Mapping[str, Check]) -> WebServer:
    def no_config() -> object:
        raise AssertionError("/healthz and /metrics need no configuration")

    context = WebContext(store, no_config, registry=metrics.registry, checks=checks)  # type: ignore[arg-type]
    server = WebServer(build_app(context), "127.0.0.1", 0)
    server.start()
    return server


def serve(store: Store, metrics: Metrics, checks: dict[str, str | None]) -> WebServer:
    return start(store, metrics, {name: (lambda n=name: checks[n]) for name in checks})


def test_healthy_is_200_and_unhealthy_is_503_naming_the_failing_check(
    store: Store, metrics: Metrics
) -> None:
    checks: dict[str, str | None] = {"scheduler": None, "store": None}
    server = serve(store, metrics, checks)
    try:
        status, body = get(server.url + "/healthz")
        assert status == 200 and json.loads(body) == {
            "status": "ok", "checks": {"scheduler": "ok", "store": "ok"},
        }  # fmt: skip
        checks["store"] = "database is locked"
        status, body = get(server.url + "/healthz")
        assert status == 503
        assert json.loads(body)["checks"]["store"] == "database is locked"
    finally:
        server.close()


def test_a_check_that_raises_is_a_failure_not_a_crash(store: Store, metrics: Metrics) -> None:
    def boom() -> str | None:
        raise ConnectionError("no database")

    server = start(store, metrics, {"store": boom})
    try:
        status, body = get(server.url + "/healthz")
    finally:
        server.close()
    assert status == 503 and "ConnectionError: no database" in body


def test_a_round_stopped_with_the_service_is_counted_but_is_no_failure() -> None:
    m = Metrics(None)
    m.observe(CrawlOutcome("hanoimoi", "timeout", 300.0, error="killed"))
    m.observe(CrawlOutcome("hanoimoi", "stopped", 3.2, error="the service is stopping"))
    labels = {"source": "hanoimoi"}
    assert m.registry.get_sample_value("newswatch_source_consecutive_failures", labels) == 1
    stopped = {**labels, "result": "stopped"}
    assert m.registry.get_sample_value("newswatch_crawls_total", stopped) == 1


def test_metrics_in_prometheus_format(store: Store, metrics: Metrics) -> None:
    server = serve(store, metrics, {})
    try:
        status, body = get(server.url + "/metrics")
    finally:
        server.close()
    assert status == 200
    assert 'newswatch_crawls_total{result="ok",source="hanoimoi"} 1.0' in body
    assert 'newswatch_crawls_total{result="timeout",source="hanoimoi"} 1.0' in body
    assert 'newswatch_articles_fetched_total{source="hanoimoi"} 5.0' in body
    assert 'newswatch_articles_new_total{source="hanoimoi"} 3.0' in body
    assert 'newswatch_source_consecutive_failures{source="hanoimoi"} 1.0' in body
    assert 'newswatch_crawl_duration_seconds_count{source="hanoimoi"} 2.0' in body


@pytest.mark.parametrize("text", ["localhost", "127.0.0.1:", "127.0.0.1:http", ":70000"])
def test_bad_addresses_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address(text)


def test_port_only_means_loopback() -> None:
    assert parse_address(":9410") == ("127.0.0.1", 9410)


def test_queue_metrics_come_from_the_store(tmp_path: Path) -> None:
    dispatch = pytest.importorskip("pipelines.deliver.dispatch")
    store = Store.for_data_dir(tmp_path)
    try:
        store.migrate()
        dispatch.enqueue_notice(store, "stale:hanoimoi", "stale", "text", ["newsroom", "ops"])
        body = generate_latest(Metrics(store, channel_counts).registry).decode()
    finally:
        store.close()
    assert 'newswatch_queue_depth{channel="newsroom"} 1.0' in body
    assert 'newswatch_alerts_queued_total{channel="ops"} 1.0' in body
    assert 'newswatch_alerts_sent_total{channel="newsroom"} 0.0' in body
    assert 'newswatch_alerts_failed_total{channel="newsroom"} 0.0' in body
