"""Crawl rounds through the CLI against the real local news site (a server subprocess)."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.servers.newssite import NewsSite

pytestmark = pytest.mark.e2e

WATCHES = """\
defaults: {notify: [local]}
watches:
  quan-hai-ba-trung:
    label: Quận Hai Bà Trưng
    any: [quận Hai Bà Trưng, phường Bạch Mai]
    except_in: [đường Hai Bà Trưng]
"""
CHANNELS = "channels:\n  local: {kind: file, path: alerts.jsonl}\n"

DISTRICT = [
    "UBND quận Hai Bà Trưng vừa tổ chức hội nghị tổng kết công tác năm, với sự tham dự "
    "của lãnh đạo các phòng ban và đại diện các tổ dân phố trên địa bàn.",
    "Tại hội nghị, các đại biểu thảo luận về chỉnh trang đô thị, giải phóng mặt bằng và "
    "chăm lo đời sống người dân trong dịp cuối năm.",
]
STREET = [
    "Đơn vị thi công sẽ thảm lại mặt đường Hai Bà Trưng ở trung tâm TP Hồ Chí Minh trong "
    "hai tuần, chủ yếu vào ban đêm để hạn chế ảnh hưởng giao thông.",
    "Người đi xe được khuyến cáo chọn tuyến khác trong thời gian này, đặc biệt vào giờ "
    "cao điểm buổi sáng và buổi chiều.",
]
WEATHER = [
    "Không khí lạnh tăng cường khiến nhiệt độ thấp nhất ở Hà Nội xuống dưới 12 độ C, "
    "vùng núi phía Bắc có nơi dưới 5 độ C.",
    "Các trường học được khuyến cáo cho học sinh nhỏ nghỉ học khi trời quá lạnh vào buổi sáng sớm.",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path, sources: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sources.yaml").write_text(sources, encoding="utf-8")
    (folder / "watches.yaml").write_text(WATCHES, encoding="utf-8")
    (folder / "channels.yaml").write_text(CHANNELS, encoding="utf-8")
    return folder


def site_source(name: str, url: str, extra: str = "") -> str:
    return (
        f"  - name: {name}\n    home: {url}\n    feeds: [{url}rss/home.rss]\n"
        f"    sitemaps: [{url}sitemap.xml]\n    listings: [{url}thoi-su, {url}xa-hoi]\n"
        f"{extra}"
    )


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite() as s:
        s.publish(
            "ubnd-quan-hai-ba-trung-tong-ket-nam",
            "Quận Hai Bà Trưng tổng kết năm",
            DISTRICT,
            section="thoi-su",
        )
        s.publish(
            "tham-lai-mat-duong-hai-ba-trung",
            "Thảm lại mặt đường ở trung tâm thành phố",
            STREET,
            section="xa-hoi",
        )
        s.publish("ha-noi-ret-dam", "Hà Nội rét đậm", WEATHER, section="xa-hoi")
        yield s


def _summary(stdout: str) -> dict[str, object]:
    result: dict[str, object] = json.loads(stdout.strip().splitlines()[-1])
    return result


def test_round_alerts_once_then_costs_only_conditional_requests(
    site: NewsSite, tmp_path: Path
) -> None:
    cfg = write_config(
        tmp_path / "config", "defaults: {delay: 0s}\nsources:\n" + site_source("tintudo", site.url)
    )
    data = tmp_path / "var"
    first = run_cli("--config", cfg, "--data", data, "crawl", "--json")
    assert first.returncode == 0, first.stderr
    summary = _summary(first.stdout)
    assert summary["status"] == "ok" and summary["new_articles"] == 3
    assert summary["alerts"] == 1  # the district article; not the street in HCMC

    with sqlite3.connect(data / "newswatch.db") as db:
        rows = db.execute(
            "SELECT a.watch, r.url FROM alerts a JOIN articles r ON r.id = a.article_id"
        ).fetchall()
        stored = db.execute("SELECT title, text, published FROM articles").fetchall()
    assert [(w, u.rsplit("/", 1)[1].split("-1")[0]) for w, u in rows] == [
        ("quan-hai-ba-trung", "ubnd-quan-hai-ba-trung-tong-ket-nam")
    ]
    titles = {t for t, _, _ in stored}
    assert "Quận Hai Bà Trưng tổng kết năm" in titles
    assert all(
        "Phiên bản di động" not in text and "Tin liên quan" not in text for _, text, _ in stored
    )
    assert all(published for _, _, published in stored)

    before = len(site.request_log())
    second = run_cli("--config", cfg, "--data", data, "crawl", "--json")
    assert second.returncode == 0, second.stderr
    assert _summary(second.stdout)["new_articles"] == 0
    round2 = site.request_log()[before:]
    assert not [r for r in round2 if r["path"].endswith(".html")], "article re-requested"
    index = [r for r in round2 if r["path"] != "/robots.txt"]
    assert index and all(r["conditional"] and r["status"] == 304 for r in index)
    assert all("newswatch" in r["ua"] for r in round2)


def test_new_article_is_found_on_the_next_round(site: NewsSite, tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path / "config", "defaults: {delay: 0s}\nsources:\n" + site_source("tintudo", site.url)
    )
    data = tmp_path / "var"
    assert run_cli("--config", cfg, "--data", data, "crawl").returncode == 0
    site.publish(
        "phuong-bach-mai-ra-mat-to-dan-pho-so",
        "Phường Bạch Mai ra mắt tổ dân phố số",
        [
            "Phường Bạch Mai vừa ra mắt mô hình tổ dân phố số, giúp người dân nhận thông "
            "báo và gửi phản ánh ngay trên điện thoại di động.",
            "Lãnh đạo phường cho biết sẽ nhân rộng mô hình trong quý tới, đồng thời mở các "
            "lớp hướng dẫn cho người cao tuổi sử dụng ứng dụng.",
        ],
    )
    again = run_cli("--config", cfg, "--data", data, "crawl", "--json")
    summary = _summary(again.stdout)
    assert summary["new_articles"] == 1 and summary["alerts"] == 1


def test_dead_source_is_reported_and_does_not_stop_the_others(
    site: NewsSite, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/"
    cfg = write_config(
        tmp_path / "config",
        "defaults: {delay: 0s, timeout: 60s}\nsources:\n"
        + site_source("tintudo", site.url)
        + f"  - name: chet\n    feeds: [{dead}rss/home.rss]\n",
    )
    result = run_cli("--config", cfg, "--data", tmp_path / "var", "crawl")
    assert result.returncode == 1
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines()}
    assert lines["tintudo"].startswith("tintudo: ok, 3 new")
    assert "chet: failed" in lines["chet"] and "connection refused" in lines["chet"]


def test_slow_source_is_killed_at_its_timeout(tmp_path: Path) -> None:
    with NewsSite(latency=30) as slow, NewsSite() as fast:
        fast.publish("ha-noi-ret-dam", "Hà Nội rét đậm", WEATHER)
        cfg = write_config(
            tmp_path / "config",
            "defaults: {delay: 0s}\nsources:\n"
            + f"  - name: cham\n    feeds: [{slow.url}rss/home.rss]\n"
            + "    timeout: 4s\n"
            + site_source("nhanh", fast.url),
        )
        result = run_cli("--config", cfg, "--data", tmp_path / "var", "crawl", timeout=90)
    assert result.returncode == 1
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines()}
    assert "timeout" in lines["cham"] and "killed" in lines["cham"]
    assert lines["nhanh"].startswith("nhanh: ok, 1 new")
    status = run_cli("--config", cfg, "--data", tmp_path / "var", "status", "--json")
    assert status.returncode == 0, status.stderr


def test_home_only_source_discovers_feed_sitemap_and_articles(
    site: NewsSite, tmp_path: Path
) -> None:
    cfg = write_config(
        tmp_path / "config",
        f"defaults: {{delay: 0s}}\nsources:\n  - name: chi-home\n    home: {site.url}\n",
    )
    result = run_cli("--config", cfg, "--data", tmp_path / "var", "crawl", "--json")
    assert result.returncode == 0, result.stderr
    assert _summary(result.stdout)["new_articles"] == 3
    paths = {r["path"] for r in site.request_log()}
    assert {"/robots.txt", "/rss/home.rss", "/sitemap.xml", "/"} <= paths


def test_page_whose_canonical_is_stored_is_not_stored_twice(site: NewsSite, tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path / "config",
        "defaults: {delay: 0s}\nsources:\n"
        + site_source("tintudo", site.url, "    article_url: '/(m/)?[a-z0-9-]+-\\d+\\.html$'\n"),
    )
    data = tmp_path / "var"
    assert (
        _summary(run_cli("--config", cfg, "--data", data, "crawl", "--json").stdout)["new_articles"]
        == 3
    )
    (cfg / "sources.yaml").write_text(
        "defaults: {delay: 0s}\nsources:\n"
        f"  - name: tintudo\n    listings: [{site.url}m]\n"
        "    article_url: '/m/[a-z0-9-]+-\\d+\\.html$'\n",
        encoding="utf-8",
    )
    mobile = _summary(run_cli("--config", cfg, "--data", data, "crawl", "--json").stdout)
    assert mobile["new_articles"] == 0 and mobile["alerts"] == 0
    assert any(r["path"].startswith("/m/") for r in site.request_log())
    with sqlite3.connect(data / "newswatch.db") as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone() == (3,)


def test_discover_prints_a_ready_to_paste_entry(site: NewsSite, tmp_path: Path) -> None:
    result = run_cli("discover", site.url, "--name", "tintudo")
    assert result.returncode == 0, result.stderr
    assert f"home: {site.url}" in result.stdout
    assert f"- {site.url}rss/home.rss" in result.stdout
    assert f"- {site.url}sitemap.xml" in result.stdout
    pattern = re.search(r"article_url: '([^']+)'", result.stdout)
    assert pattern is not None
    assert re.search(pattern.group(1), site.url + "tin-moi-nhat-123456.html")
    entry = tmp_path / "config"
    write_config(entry, "sources:\n" + result.stdout + "\n")
    check = run_cli("--config", entry, "--data", tmp_path / "var", "check-config")
    assert check.returncode == 0, check.stderr


def test_overloaded_site_is_retried_after_its_retry_after(site: NewsSite, tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path / "config",
        "defaults: {delay: 0s}\nsources:\n"
        f"  - name: tintudo\n    feeds: [{site.url}rss/home.rss]\n",
    )
    site.fail_next("/rss/home.rss", 429, 503)
    result = run_cli("--config", cfg, "--data", tmp_path / "var", "crawl", "--json")
    assert result.returncode == 0, result.stderr
    assert _summary(result.stdout)["new_articles"] == 3
    feed = [r for r in site.request_log() if r["path"] == "/rss/home.rss"]
    assert [r["status"] for r in feed] == [429, 503, 200]


def test_articles_over_the_round_cap_are_fetched_next_round(site: NewsSite, tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path / "config", "defaults: {delay: 0s}\nsources:\n" + site_source("tintudo", site.url)
    )
    env = {"NEWSWATCH_MAX_ARTICLES": "2"}
    first = run_cli("--config", cfg, "--data", tmp_path / "var", "crawl", "--json", env=env)
    assert _summary(first.stdout)["new_articles"] == 2
    second = run_cli("--config", cfg, "--data", tmp_path / "var", "crawl", "--json", env=env)
    assert _summary(second.stdout)["new_articles"] == 1


def test_robots_txt_is_obeyed_and_a_forbidden_page_is_not_asked_again(
    site: NewsSite, tmp_path: Path
) -> None:
    secret = site.publish("bai-bi-cam", "Bài bị cấm", WEATHER)
    (site.root / "disallow.txt").write_text(secret.removeprefix(site.url.rstrip("/")))
    cfg = write_config(
        tmp_path / "config", "defaults: {delay: 0s}\nsources:\n" + site_source("tintudo", site.url)
    )
    first = run_cli("--config", cfg, "--data", tmp_path / "var", "crawl", "--json")
    summary = _summary(first.stdout)
    assert summary["status"] == "ok" and summary["new_articles"] == 3 and summary["errors"] == 0
    second = run_cli("--config", cfg, "--data", tmp_path / "var", "crawl", "--json")
    assert _summary(second.stdout)["new_articles"] == 0
    forbidden = "/" + secret.rsplit("/", 1)[1]
    assert not [r for r in site.request_log() if r["path"] == forbidden]
    index = [r for r in site.request_log() if r["path"] == "/rss/home.rss"]
    assert index[-1]["status"] == 304


def test_an_alert_whose_only_hit_is_in_a_caption_says_so(tmp_path: Path) -> None:
    from pipelines.match.snippet import CAPTION_MARK

    caption = "Cán bộ phường Bạch Mai hướng dẫn người dân làm thủ tục trực tuyến"
    with NewsSite() as site:
        site.publish("ha-noi-ret-dam", "Hà Nội rét đậm", WEATHER, captions=(caption,))
        site.publish("quan-tong-ket", "Quận tổng kết năm", DISTRICT, captions=(caption,))
        cfg = write_config(
            tmp_path / "config", "defaults: {delay: 0s}\nsources:\n" + site_source("tin", site.url)
        )
        data = tmp_path / "var"
        crawl = run_cli("--config", cfg, "--data", data, "crawl", "--json")
        assert crawl.returncode == 0, crawl.stderr
        assert _summary(crawl.stdout)["alerts"] == 2
        dispatch = run_cli("--config", cfg, "--data", data, "dispatch")
        assert dispatch.returncode == 0, dispatch.stdout + dispatch.stderr
    lines = (data / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    snippets = {a["title"]: a["snippet"] for a in (json.loads(line)["article"] for line in lines)}
    # "phường Bạch Mai" is only under the photo of the weather story: the alert says so.
    assert snippets["Hà Nội rét đậm"] == CAPTION_MARK + caption
    # The district story names the district in its text: that sentence is the snippet.
    assert snippets["Quận tổng kết năm"].startswith("UBND quận Hai Bà Trưng")
