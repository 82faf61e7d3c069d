"""robots.txt is kept between rounds as long as its caching headers allow (at most 24 h):
a poll with nothing new is only the conditional index requests, and the kept rules still
decide what may be fetched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from scrapy.http import Request, TextResponse

from crawler.robots import MAX_KEEP, RobotsCache, freshness
from tests.conftest import run_cli
from tests.servers.newssite import NewsSite
from tests.test_crawl import DISTRICT, WEATHER, site_source, write_config

NOW = 1_700_000_000.0


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite() as s:
        s.publish("ubnd-quan-hai-ba-trung", "Quận Hai Bà Trưng tổng kết năm", DISTRICT)
        s.publish("ha-noi-ret-dam", "Hà Nội rét đậm", WEATHER)
        (s.root / "disallow.txt").write_text("/bai-cam\n")
        yield s


def _crawl(site: NewsSite, tmp_path: Path) -> tuple[dict[str, object], list[dict[str, object]]]:
    cfg = tmp_path / "config"
    if not cfg.exists():
        write_config(cfg, "defaults: {delay: 0s}\nsources:\n" + site_source("tintudo", site.url))
    before = len(site.request_log())
    result = run_cli("--config", cfg, "--data", tmp_path / "var", "crawl", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1]), site.request_log()[before:]


@pytest.mark.e2e
def test_an_idle_poll_is_only_conditional_index_requests(site: NewsSite, tmp_path: Path) -> None:
    first, asked = _crawl(site, tmp_path)
    assert first["new_articles"] == 2
    assert [r["path"] for r in asked].count("/robots.txt") == 1
    site.publish("bai-cam-moi", "Bài bị cấm", WEATHER)  # robots.txt forbids /bai-cam…
    second, asked = _crawl(site, tmp_path)
    # …and the kept copy says so: the page is not asked for, robots.txt is not asked either.
    assert second["new_articles"] == 0
    assert [r["path"] for r in asked if not r["path"].endswith(".html")]
    assert not [r for r in asked if r["path"] == "/robots.txt" or "bai-cam" in r["path"]]
    third, asked = _crawl(site, tmp_path)
    assert third["new_articles"] == 0 and asked
    assert all(r["conditional"] and r["status"] == 304 for r in asked), asked


@pytest.mark.e2e
def test_no_cache_means_asking_every_round(site: NewsSite, tmp_path: Path) -> None:
    (site.root / "headers.json").write_text(
        json.dumps({"/robots.txt": {"Cache-Control": "no-cache"}})
    )
    _crawl(site, tmp_path)
    _, asked = _crawl(site, tmp_path)
    assert [r["path"] for r in asked].count("/robots.txt") == 1


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, MAX_KEEP),  # RFC 9309: at most a day when the server says nothing
        ({"cache-control": "public, max-age=600"}, 600),
        ({"cache-control": "max-age=604800"}, MAX_KEEP),  # a week asked; a day kept
        ({"cache-control": "no-cache"}, 0),
        ({"cache-control": "no-store, max-age=600"}, 0),
        ({"cache-control": "max-age=soon"}, 0),
        ({"expires": format_datetime(datetime.fromtimestamp(NOW + 3600, UTC), usegmt=True)}, 3600),
        ({"expires": "0"}, 0),
        ({"cache-control": "max-age=60", "expires": "Thu, 01 Jan 2099 00:00:00 GMT"}, 60),
    ],
)
def test_freshness_follows_the_caching_headers(headers: dict[str, str], seconds: float) -> None:
    assert freshness(headers, NOW) == pytest.approx(seconds)


def _answer(
    status: int, body: str = "User-agent: *\nDisallow: /x\n", **headers: str
) -> TextResponse:
    url = "https://tuoitrethudo.vn/robots.txt"
    return TextResponse(
        url, status=status, body=body.encode(), headers=headers, request=Request(url)
    )


def test_kept_while_fresh_then_asked_again(tmp_path: Path) -> None:
    clock = [NOW]
    cache = RobotsCache(tmp_path, clock=lambda: clock[0])
    site = "https://tuoitrethudo.vn"
    cache.keep(site, _answer(200, **{"Cache-Control": "max-age=600"}))
    assert cache.fresh(site) == b"User-agent: *\nDisallow: /x\n"
    clock[0] += 601
    assert cache.fresh(site) is None
    cache.keep(site, _answer(404, "<html>not found</html>"))  # no rules: everything allowed
    assert cache.fresh(site) == b""
    other = "https://hanoimoi.vn"
    for status in (500, 503, 429):  # no decision: asked again next round
        cache.keep(other, _answer(status))
    assert cache.fresh(other) is None
    (tmp_path / "https_hanoimoi.vn.json").write_text("{not json")
    assert cache.fresh(other) is None  # a damaged copy costs one request, nothing else
