"""A site that answers 5xx to everything is left alone after a run of failures, not
hammered: one line says so, the round is reported failed (or degraded when some articles
came through), and the articles it did not fetch are fetched in the next round."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.crawl import CrawlSummary, _fill
from crawler.middlewares import HostBreakerMiddleware, HostStopped
from tests.conftest import run_cli
from tests.servers.newssite import NewsSite
from tests.test_crawl import WEATHER, write_config

ARTICLES = 30


@pytest.mark.e2e
def test_a_site_answering_500_is_left_alone_and_nothing_is_lost(tmp_path: Path) -> None:
    with NewsSite() as site:
        urls = [site.publish(f"bai-{i}", f"Bài số {i}", WEATHER) for i in range(ARTICLES)]
        base = site.url.rstrip("/")
        site.root.joinpath("faults.json").write_text(
            json.dumps({u.removeprefix(base): [500] * 9 for u in urls})
        )
        cfg = write_config(
            tmp_path / "config",
            "defaults: {delay: 0s}\nsources:\n"
            f"  - name: hong\n    feeds: [{site.url}rss/home.rss]\n",
        )
        data = tmp_path / "var"
        first = run_cli("--config", cfg, "--data", data, "crawl", "--json")
        assert first.returncode == 1
        summary = json.loads(first.stdout.splitlines()[-1])
        assert summary["status"] == "failed" and summary["new_articles"] == 0
        assert (
            "stopped asking 127.0.0.1 after 10 server errors or timeouts in a row"
            in (summary["error"])
        )
        article_requests = [r for r in site.request_log() if r["path"].endswith(".html")]
        # Ten failures in a row, and at most what was already in flight: not 3 x 30.
        assert 10 <= len(article_requests) <= 12, len(article_requests)
        stopped_lines = [line for line in first.stderr.splitlines() if "stopped for" in line]
        assert len(stopped_lines) == 1, first.stderr
        assert "request(s) left for the next round" in stopped_lines[0]
        assert len(first.stderr.splitlines()) <= 6, first.stderr  # not one line per article

        status = run_cli("--config", cfg, "--data", data, "status", "--json")
        source = json.loads(status.stdout)["sources"][0]
        assert source["result"] == "failed" and "stopped asking" in source["last_error"]

        site.root.joinpath("faults.json").unlink()  # the site recovers
        second = run_cli("--config", cfg, "--data", data, "crawl", "--json")
        again = json.loads(second.stdout.splitlines()[-1])
        assert (again["status"], again["new_articles"]) == ("ok", ARTICLES), second.stderr


def _breaker(limit: int = 3) -> HostBreakerMiddleware:
    crawler = get_crawler(settings_dict={"NEWSWATCH_HOST_FAILURES": limit})
    crawler.stats.open_spider()
    return HostBreakerMiddleware.from_crawler(crawler)


def _answer(breaker: HostBreakerMiddleware, url: str, status: int) -> None:
    request = Request(url)
    breaker.process_request(request)
    breaker.process_response(request, HtmlResponse(url, status=status, request=request))


def test_only_a_run_of_failures_from_one_host_stops_it() -> None:
    breaker = _breaker(limit=3)
    for status in (500, 502, 200, 503, 500, 404, 500):  # never three in a row
        _answer(breaker, "https://a.example.vn/x.html", status)
    _answer(breaker, "https://b.example.vn/x.html", 500)  # another host's run is its own
    _answer(breaker, "https://a.example.vn/y.html", 500)
    breaker.process_request(Request("https://b.example.vn/z.html"))  # b is not stopped
    with pytest.raises(HostStopped):  # a: 500, 500 (after the 404), 500
        _answer(breaker, "https://a.example.vn/z.html", 500)
        breaker.process_request(Request("https://a.example.vn/z.html"))
    stopped = breaker.crawler.stats.get_value("newswatch/host/stopped")
    assert stopped == ["a.example.vn after 3 server errors or timeouts in a row (HTTP 500)"]


def test_a_round_with_a_stopped_host_is_failed_or_degraded() -> None:
    stats = {
        "finish_reason": "finished",
        "newswatch/host/stopped": ["hanoimoi.vn after 10 server errors or timeouts in a row"],
        "newswatch/articles/postponed": 280,
    }
    failed = CrawlSummary("hanoimoi")
    _fill(failed, stats, None)
    assert failed.status == "failed"
    assert failed.error is not None and "280 article(s) left for the next round" in failed.error
    degraded = CrawlSummary("hanoimoi")
    _fill(degraded, {**stats, "newswatch/articles/new": 12}, None)
    assert (degraded.status, degraded.new_articles) == ("degraded", 12)
    assert degraded.line().startswith("hanoimoi: degraded, 12 new")
