"""Old feed and sitemap entries are skipped by ``max_age`` — and said so, in the round's
summary, in ``status`` and in the metrics, never silently."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from crawler.service.metrics import Metrics
from crawler.service.supervisor import CrawlOutcome
from tests.conftest import run_cli
from tests.servers.newssite import NewsSite
from tests.test_crawl import WEATHER, write_config

pytestmark = pytest.mark.e2e

OLD = datetime.now(UTC) - timedelta(days=10)


def indexed_source(name: str, url: str, extra: str = "") -> str:
    # Feeds and sitemaps carry publication dates; listings do not, so none here.
    return (
        f"  - name: {name}\n    feeds: [{url}rss/home.rss]\n"
        f"    sitemaps: [{url}sitemap.xml]\n{extra}"
    )


def fill(site: NewsSite, fresh: int, old: int) -> None:
    for i in range(fresh):
        site.publish(f"tin-moi-{i}", f"Tin mới số {i}", WEATHER)
    for i in range(old):
        site.publish(f"tin-cu-{i}", f"Tin cũ số {i}", WEATHER, published=OLD)


@pytest.fixture
def sites() -> Iterator[tuple[NewsSite, NewsSite]]:
    with NewsSite() as a, NewsSite() as b:
        fill(a, fresh=3, old=2)
        fill(b, fresh=1, old=2)
        yield a, b


def test_old_entries_are_counted_in_the_summary_and_status(
    sites: tuple[NewsSite, NewsSite], tmp_path: Path
) -> None:
    a, b = sites
    cfg = write_config(
        tmp_path / "config",
        "defaults: {delay: 0s, max_age: 7d}\nsources:\n"
        + indexed_source("a", a.url)
        + indexed_source("b", b.url, "    max_age: 30d\n"),
    )
    data = tmp_path / "var"
    result = run_cli("--config", cfg, "--data", data, "crawl")
    assert result.returncode == 0, result.stderr
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines()}
    assert lines["a"].startswith("a: ok, 3 new, 2 older than 7d skipped,"), lines
    assert lines["b"].startswith("b: ok, 3 new, 0 alerts"), lines  # its own max_age: 30d
    assert not [r for r in a.request_log() if "tin-cu" in r["path"]]

    status = run_cli("--config", cfg, "--data", data, "status")
    assert "a: 2 older than 7d skipped in the last round (max_age)" in status.stdout
    assert "b: " not in status.stdout.split("CHANNEL")[0].split("ALARM")[1]
    rows = json.loads(run_cli("--config", cfg, "--data", data, "status", "--json").stdout)
    by_name = {s["name"]: s for s in rows["sources"]}
    assert (by_name["a"]["too_old"], by_name["a"]["max_age"]) == (2, 7 * 86400)
    assert by_name["b"]["too_old"] == 0


def test_max_age_zero_means_no_limit(sites: tuple[NewsSite, NewsSite], tmp_path: Path) -> None:
    a, _ = sites
    cfg = write_config(
        tmp_path / "config",
        "defaults: {delay: 0s, max_age: 0}\nsources:\n" + indexed_source("a", a.url),
    )
    result = run_cli("--config", cfg, "--data", tmp_path / "var", "crawl", "--json")
    summary = json.loads(result.stdout.splitlines()[-1])
    assert (summary["new_articles"], summary["too_old"]) == (5, 0)


def test_the_metrics_count_skipped_entries() -> None:
    metrics = Metrics(None)
    metrics.observe(CrawlOutcome("hanoimoi", "ok", 1.0, new_articles=1, too_old=15))
    metrics.observe(CrawlOutcome("hanoimoi", "ok", 1.0, too_old=2))
    text = generate_latest(metrics.registry).decode()
    assert 'newswatch_articles_too_old_total{source="hanoimoi"} 17.0' in text
