"""The web interface in a real browser (Debian's chromium driven by Playwright; nothing is
downloaded), over a store filled by a real crawl of the local news site, served by the real
``newswatch web`` command. A screenshot of each page is written to ``tests/screenshots/``
(git-ignored).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import REPO, run_cli
from tests.servers.newssite import NewsSite
from tests.web_helpers import write_config

pytestmark = pytest.mark.e2e

SHOTS = REPO / "tests" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = (
    '<img src=x onerror="window.pwned=1;alert(1)"> Quận Hai Bà Trưng '
    "<script>window.pwned=2</script> họp bàn"
)
REFERENCE = [
    "Chiều 14/1, Phó Bí thư Thành ủy Hà Nội làm việc với Ban Thường vụ Quận ủy Hai Bà Trưng "
    "về kết quả thực hiện nhiệm vụ năm và phương hướng năm mới của quận Hai Bà Trưng.",
    "Phát biểu tại buổi làm việc, ông đề nghị quận Hai Bà Trưng mạnh dạn, quyết liệt tạo đột "
    "phá trong phát triển kinh tế, nhất là thương mại và dịch vụ trên địa bàn.",
]
STREET = [
    "Đơn vị thi công sẽ thảm lại mặt đường Hai Bà Trưng ở trung tâm TP Hồ Chí Minh trong hai "
    "tuần, chủ yếu vào ban đêm để hạn chế ảnh hưởng tới giao thông trong khu vực.",
    "Người đi xe được khuyến cáo chọn tuyến khác trong thời gian này, đặc biệt vào giờ cao "
    "điểm buổi sáng và buổi chiều các ngày trong tuần tới.",
]
MARKET = [
    "Sáng nay phường Bạch Mai tổ chức phiên chợ nông sản sạch cho người dân trong phường, với "
    "hơn năm mươi gian hàng của các hợp tác xã ngoại thành tham gia suốt cả ngày.",
    "Ban tổ chức cho biết phiên chợ sẽ được duy trì vào sáng chủ nhật hằng tuần nếu nhận được "
    "sự ủng hộ của bà con, tiểu thương và chính quyền địa phương.",
]


DIALOGS: list[str] = []


@dataclass
class Web:
    url: str
    reference_title: str


def _chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (.ci/run installs it with apt-get)")
        pytest.skip("Debian's chromium is not installed: apt-get install -y chromium")
    return CHROMIUM


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    _chromium()
    tmp = tmp_path_factory.mktemp("webui")
    with NewsSite() as site:
        title = "Quận Hai Bà Trưng cần mạnh dạn, quyết liệt tạo đột phá phát triển kinh tế"
        site.publish("quan-hai-ba-trung-dot-pha", title, REFERENCE)
        site.publish("tham-lai-duong", "Thảm lại mặt đường ở trung tâm", STREET, section="xa-hoi")
        site.publish("phien-cho-bach-mai", "Phiên chợ nông sản sạch", MARKET, section="xa-hoi")
        site.publish("hop-ban-quan", HOSTILE, REFERENCE[1:] + MARKET[1:], section="xa-hoi")
        sources = (
            f"defaults: {{delay: 0s}}\nsources:\n  - name: tintudo\n    home: {site.url}\n"
            f"    feeds: [{site.url}rss/home.rss]\n    listings: [{site.url}xa-hoi]\n"
        )
        cfg = write_config(tmp / "config", sources=sources)
        crawl = run_cli("--config", cfg, "--data", tmp / "var", "crawl")
        assert crawl.returncode == 0, crawl.stdout + crawl.stderr
        assert "tintudo: ok, 4 new" in crawl.stdout, crawl.stdout
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "--config",
            str(cfg),
            "--data",
            str(tmp / "var"),
            "web",
            "--http",
            "127.0.0.1:0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "NEWSWATCH_WEB_TOKEN": ""},
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("serving http://127.0.0.1:"), line
        yield Web(line.split()[1].rstrip("/"), title)
    finally:
        server.terminate()
        server.wait(timeout=15)
        if server.stdout is not None:
            server.stdout.close()


@pytest.fixture(scope="module")
def browser(web: Web) -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=_chromium(), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, web: Web) -> Iterator[Page]:
    context = browser.new_context(locale="vi-VN")
    tab = context.new_page()
    DIALOGS.clear()
    tab.on("dialog", lambda d: (DIALOGS.append(d.message), d.dismiss()))
    yield tab
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_alerts_page_shows_the_crawled_alerts_with_highlights(page: Page, web: Web) -> None:
    page.goto(web.url + "/")
    shot(page, "alerts")
    alerts = page.locator("li.alert")
    titles = alerts.locator("h2").all_inner_texts()
    assert web.reference_title in titles
    assert not any("Thảm lại mặt đường" in t for t in titles)  # "đường Hai Bà Trưng"
    watches = alerts.locator(".watch").all_inner_texts()
    # the reference article and the one with markup in its title; the market in Bạch Mai
    assert sorted(watches) == ["Phường Bạch Mai", "Quận Hai Bà Trưng", "Quận Hai Bà Trưng"]
    marks = page.locator("li.alert .snippet mark").all_inner_texts()
    assert {m.lower() for m in marks} == {"quận hai bà trưng", "phường bạch mai"}, marks
    assert "local: đang chờ" in alerts.first.locator(".channels").inner_text()


def test_a_title_holding_markup_is_text_and_runs_nothing(page: Page, web: Web) -> None:
    page.goto(web.url + "/")
    link = page.get_by_role("link", name="Quận Hai Bà Trưng <script>", exact=False)
    assert "<img src=x" in link.inner_text() and "<script>" in link.inner_text()
    link.click()
    page.wait_for_load_state()
    shot(page, "article-hostile")
    headline = page.locator("h1.headline")
    assert "<script>window.pwned=2</script>" in headline.inner_text()
    assert headline.locator("img, script").count() == 0
    assert page.evaluate("window.pwned === undefined")
    assert DIALOGS == []  # no alert() ran


def test_article_page_explains_why_each_watch_matched_or_not(page: Page, web: Web) -> None:
    page.goto(web.url + "/")
    page.get_by_role("link", name=web.reference_title).first.click()
    page.wait_for_load_state()
    shot(page, "article")
    assert page.locator(".text mark").count() >= 2
    yes = page.locator(".verdict.yes").first.inner_text()
    assert "quan-hai-ba-trung" in yes and "any 'quận Hai Bà Trưng'" in yes
    no = page.locator(".verdict.no").all_inner_texts()
    assert any("hoan-kiem" in v and "none of its 'any' terms occurs" in v for v in no)


def test_the_tester_explains_a_match(page: Page, web: Web) -> None:
    page.goto(web.url + "/watches")
    page.fill("textarea[name=text]", "Đoàn công tác đến thăm phường Bạch Mai chiều qua.")
    page.fill("textarea[name=rule]", "any: [phường Bạch Mai]\nnear: {within: 4, any: [thăm]}")
    page.get_by_role("button", name="Thử").click()
    page.wait_for_load_state()
    shot(page, "watches-tester")
    tried = page.locator(".tested .verdict.yes").all_inner_texts()
    assert any("thu-nghiem" in v and "near 'thăm'" in v for v in tried), tried
    assert page.locator(".tested .text mark").first.inner_text() == "phường Bạch Mai"


def test_search_finds_an_article(page: Page, web: Web) -> None:
    page.goto(web.url + "/search")
    page.fill("input[name=q]", '"phiên chợ nông sản" AND "Bạch Mai"')
    page.get_by_role("button", name="Tìm kiếm").click()
    page.wait_for_load_state()
    shot(page, "search")
    results = page.locator("li.result h2").all_inner_texts()
    assert results == ["Phiên chợ nông sản sạch"]


def test_sources_and_deliveries_pages_in_english(page: Page, web: Web) -> None:
    page.goto(web.url + "/sources?lang=en")
    shot(page, "sources")
    row = page.locator("table.sources tbody tr").first.inner_text()
    assert "tintudo" in row and "ok" in row
    page.goto(web.url + "/deliveries")
    shot(page, "deliveries")
    assert page.locator("h1").inner_text() == "Deliveries"
    assert page.locator("tr[id^=delivery-]").count() >= 3
