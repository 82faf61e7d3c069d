"""The web interface and /api/v1 over real HTTP (uvicorn on 127.0.0.1:0), on a seeded store:
what an editor sees, what the API returns, and what an attacker cannot do."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, update

from crawler.config import Config
from crawler.web.context import BindRefused, check_bind
from crawler.web.i18n import VI
from crawler.web.server import WebServer
from pipelines.store.articles import ArticleRecord
from pipelines.store.database import Store
from pipelines.store.schema import deliveries, sources
from tests.conftest import run_cli
from tests.servers.seed import HOSTILE_TITLE, record_alerts
from tests.web_helpers import config_at, open_store, serve, write_config

TOKEN = "s3cret-token-for-the-tests-0123456789"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "var")
    record_alerts(store, 5, channels=["local", "hook"])
    record_alerts(store, 1, channels=["local"], title=HOSTILE_TITLE, start=10)
    record_alerts(
        store,
        1,
        channels=["hook"],
        watch="bach-mai",
        label="Phường Bạch Mai",
        start=20,
        published=datetime(2026, 11, 20, 23, 0, tzinfo=UTC),
    )
    yield store
    store.close()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return config_at(write_config(tmp_path / "config"), tmp_path / "var")


@pytest.fixture
def web(config: Config, store: Store) -> Iterator[httpx.Client]:
    with serve(config, store) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def csrf_of(client: httpx.Client, path: str = "/watches") -> str:
    page = client.get(path).text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def test_alerts_page_newest_first_with_highlight_time_and_channel_states(
    web: httpx.Client,
) -> None:
    page = web.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    titles = re.findall(r'<h2><a href="/articles/(\d+)">', html)
    assert titles == ["7", "6", "5", "4", "3", "2", "1"]
    assert "<mark>quận Hai Bà Trưng</mark>" in html
    assert "26/11/2026 09:30" in html  # 02:30 UTC shown in Asia/Ho_Chi_Minh
    assert "local: đang chờ" in html and "hook: đang chờ" in html
    assert "<h1>Cảnh báo</h1>" in html  # Vietnamese by default


def test_alerts_filters_by_watch_source_channel_and_day(web: httpx.Client) -> None:
    def ids(query: str) -> list[str]:
        page = web.get("/?" + query)
        assert page.status_code == 200, page.text
        return re.findall(r'<h2><a href="/articles/(\d+)">', page.text)

    assert ids("watch=bach-mai") == ["7"]
    assert ids("channel=hook") == ["7", "5", "4", "3", "2", "1"]
    assert ids("source=elsewhere") == []
    today = datetime.now(UTC).date().isoformat()
    assert len(ids(f"since={today}&until={today}")) == 7
    assert ids("until=2020-01-01") == []
    bad = web.get("/?since=yesterday")
    assert bad.status_code == 400 and "since: expected a date" in bad.text


def test_a_hostile_title_is_shown_as_text_under_a_strict_csp(web: httpx.Client) -> None:
    for path in ("/", "/articles/6", "/deliveries"):
        page = web.get(path)
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"


def test_english_on_request_and_every_phrase_translated(web: httpx.Client) -> None:
    english = web.get("/?lang=en")
    assert "<h1>Alerts</h1>" in english.text
    assert "<h1>Alerts</h1>" in web.get("/").text  # remembered by a cookie
    used: set[str] = set()
    for template in (Path(__file__).parents[1] / "crawler/web/templates").glob("*.html"):
        used.update(re.findall(r'_\("([^"]+)"\)', template.read_text(encoding="utf-8")))
    assert used and not sorted(used - set(VI)), "phrases without a Vietnamese translation"


def test_article_page_highlights_hits_and_explains_each_watch(web: httpx.Client) -> None:
    page = web.get("/articles/1").text
    assert "<mark>quận Hai Bà Trưng</mark>" in page
    assert "any &#39;quận Hai Bà Trưng&#39; at 15" in page
    assert "the &#39;not&#39; rule held it back" in page  # bach-mai: vetoed by "Người dân"
    assert "none of its &#39;any&#39; terms occurs" in page  # hoan-kiem
    assert web.get("/articles/999").status_code == 404


def test_api_alerts_follow_the_webhook_shape_and_page_by_cursor(web: httpx.Client) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = web.get("/api/v1/alerts", params=params).json()
        seen += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    first = web.get("/api/v1/alerts", params={"watch": "bach-mai"}).json()["items"][0]
    assert first["watch"] == {"name": "bach-mai", "label": "Phường Bạch Mai"}
    assert first["article"]["published"] == "2026-11-21T06:00:00+07:00"
    assert first["article"]["hits"][0]["text"] == "quận Hai Bà Trưng"
    assert first["deliveries"] == {"hook": "pending"}
    assert web.get("/api/v1/alerts", params={"cursor": "abc"}).status_code == 400
    whole = web.get("/api/v1/alerts", params={"since": "0001-01-01", "until": "9999-12-31"})
    assert whole.status_code == 200 and len(whole.json()["items"]) == 7


def test_api_article_sources_watches_search_and_schema(web: httpx.Client) -> None:
    article = web.get("/api/v1/articles/1").json()
    verdicts = {v["name"]: v for v in article["watches"]}
    assert verdicts["quan-hai-ba-trung"]["matched"] and verdicts["quan-hai-ba-trung"]["alerted"]
    assert not verdicts["bach-mai"]["matched"]
    sources = web.get("/api/v1/sources").json()
    assert sources[0]["name"] == "tuoitrethudo" and sources[0]["articles_24h"] == 7
    watches = web.get("/api/v1/watches").json()
    assert watches[0]["any"] == ["quận Hai Bà Trưng"] and sum(watches[0]["alerts_per_day"]) == 6
    found = web.get("/api/v1/search", params={"q": "dự án số 3"}).json()
    assert [a["id"] for a in found["items"]] == [4]
    assert web.get("/api/v1/search", params={"q": '"unclosed'}).status_code == 400
    schema = web.get("/api/v1/openapi.json").json()
    assert {"/alerts", "/articles/{article_id}", "/sources", "/watches", "/search"} <= set(
        schema["paths"]
    )


def test_search_pages_through_articles_of_the_same_minute(web: httpx.Client) -> None:
    seen: list[int] = []
    params: dict[str, str | int] = {"q": "quận Hai Bà Trưng", "limit": 2}
    for _ in range(10):
        body = web.get("/api/v1/search", params=params).json()
        seen += [a["id"] for a in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    # six articles share one publication time; the seventh was published earlier
    assert seen == [6, 5, 4, 3, 2, 1, 7]
    bad = web.get("/api/v1/search", params={"q": "x", "cursor": "1.2.3"})
    assert bad.status_code == 400


def test_search_page_finds_an_article(web: httpx.Client) -> None:
    page = web.get("/search", params={"q": '"dự án số 2" OR "dự án số 4"'}).text
    assert re.findall(r'<h2><a href="/articles/(\d+)">', page) == ["5", "3"]


def test_tester_explains_a_pasted_text_and_a_new_rule(web: httpx.Client) -> None:
    csrf = csrf_of(web)
    text = "Chiều qua, lãnh đạo quận Hai Bà Trưng thăm phường Bạch Mai."
    form = {
        "csrf": csrf,
        "text": text,
        "rule": "any: [phường Bạch Mai]\nnear: {within: 3, any: [thăm]}",
    }
    page = web.post("/watches/test", data=form)
    assert page.status_code == 200, page.text
    assert "<mark>quận Hai Bà Trưng</mark>" in page.text
    assert "thu-nghiem" in page.text and "near &#39;thăm&#39;" in page.text
    bad = web.post("/watches/test", data={**form, "rule": "any: [x]\nnearr: 3"})
    assert bad.status_code == 400 and "nearr" in bad.text
    stored = web.post("/watches/test", data={"csrf": csrf, "article": "2"})
    assert "Quận Hai Bà Trưng khởi công dự án số 1" in stored.text


def test_posts_without_the_csrf_token_are_refused(web: httpx.Client, store: Store) -> None:
    with store.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.id == 1).values(status="dead"))
    assert web.post("/watches/test", data={"text": "x"}).status_code == 403
    assert web.post("/deliveries/1/retry", data={"csrf": "forged"}).status_code == 403
    csrf = csrf_of(web, "/deliveries")
    foreign = web.post(
        "/deliveries/1/retry", data={"csrf": csrf}, headers={"Origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    assert "dead" in web.get("/deliveries?state=dead").text


def test_a_dead_delivery_is_retried_from_the_page(web: httpx.Client, store: Store) -> None:
    with store.begin() as conn:
        conn.execute(
            update(deliveries).where(deliveries.c.id == 1).values(status="dead", attempts=10)
        )
    page = web.get("/deliveries?state=dead").text
    assert 'id="delivery-1"' in page and 'action="/deliveries/1/retry"' in page
    answer = web.post("/deliveries/1/retry", data={"csrf": csrf_of(web, "/deliveries")})
    assert answer.status_code == 303
    with store.engine.connect() as conn:
        row = conn.execute(deliveries.select().where(deliveries.c.id == 1)).mappings().one()
    assert row["status"] == "pending" and row["attempts"] == 0
    assert web.post("/deliveries/1/retry", data={"csrf": csrf_of(web)}).status_code == 404


def test_loopback_bind_refuses_foreign_host_headers(web: httpx.Client) -> None:
    assert web.get("/", headers={"Host": "evil.example"}).status_code == 421


def test_with_a_token_everything_but_healthz_needs_it(config: Config, store: Store) -> None:
    with serve(config, store, token=TOKEN, host="0.0.0.0") as server:
        url = server.url.replace("0.0.0.0", "127.0.0.1")
        with httpx.Client(base_url=url, timeout=10) as anon:
            assert anon.get("/healthz").status_code == 200
            assert anon.get("/api/v1/alerts").status_code == 401
            assert anon.get("/metrics").status_code == 401
            login = anon.get("/")
            assert login.status_code == 303 and login.headers["location"] == "/login?next=/"
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            assert anon.get("/api/v1/alerts", headers=bearer).status_code == 200
            wrong = anon.post("/login", data={"csrf": csrf_of(anon, "/login"), "token": "no"})
            assert wrong.status_code == 401
            ok = anon.post("/login", data={"csrf": csrf_of(anon, "/login"), "token": TOKEN})
            assert ok.status_code == 303
            cookie = ok.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie
            assert anon.get("/").status_code == 200  # the session cookie now


def test_a_network_bind_without_a_token_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(BindRefused, match="NEWSWATCH_WEB_TOKEN"):
        check_bind("0.0.0.0:9410", None)
    with pytest.raises(BindRefused, match="too short"):
        check_bind("0.0.0.0:9410", "short")
    assert check_bind("127.0.0.1:0", None) == ("127.0.0.1", 0)
    cfg = write_config(tmp_path / "config")
    env = {"NEWSWATCH_WEB_TOKEN": ""}
    for command in (["web", "--http", "0.0.0.0:0"], ["run", "--http", "0.0.0.0:0"]):
        done = run_cli("--config", cfg, "--data", tmp_path / "var", *command, env=env, timeout=60)
        assert done.returncode == 2, done.stdout + done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "refusing to serve" in lines[0], done.stderr


def test_a_busy_port_is_an_error_not_a_hang(config: Config, store: Store) -> None:
    with serve(config, store) as first:
        second = WebServer(first.app, "127.0.0.1", first.port)
        with pytest.raises(OSError):
            second.start()


def test_sources_show_staleness_and_redacted_errors(config: Config, store: Store) -> None:
    with store.begin() as conn:
        conn.execute(
            insert(sources).values(
                name="tuoitrethudo",
                last_run_at=datetime.now(UTC),
                last_status="failed",
                last_new_at=datetime.now(UTC) - timedelta(days=3),
                consecutive_failures=4,
                last_error="GET https://tuoitrethudo.vn/rss?key=K3Y-0F-THE-FEED: 403",
            )
        )

    def redact(text: str) -> str:
        return text.replace("K3Y-0F-THE-FEED", "***")

    with serve(config, store, redact=redact) as server, httpx.Client(base_url=server.url) as web:
        page = web.get("/sources").text
        api = web.get("/api/v1/sources").json()[0]
    assert "Không có bài mới" in page and "K3Y-0F-THE-FEED" not in page and "key=***" in page
    assert api["stale"] and api["consecutive_failures"] == 4 and api["result"] == "failed"
    assert "K3Y" not in api["last_error"]


@pytest.mark.parametrize(
    ("status", "badge", "vietnamese", "english"),
    [
        # stopped with the service: not shown as a failure
        ("stopped", "state ", "đã dừng", "stopped"),
        # a round that got only part of its articles
        ("degraded", "state dead", "chưa trọn vẹn", "degraded"),
    ],
)
def test_a_round_status_is_worded_in_both_languages(
    config: Config, store: Store, status: str, badge: str, vietnamese: str, english: str
) -> None:
    run = store.start_run("tuoitrethudo")
    store.finish_run(run, status, detail={"error": "why"})
    with serve(config, store) as server, httpx.Client(base_url=server.url) as web:
        page_vi = web.get("/sources").text
        page_en = web.get("/sources?lang=en").text
    assert f'<span class="{badge}">{vietnamese}</span>' in page_vi
    assert f'<span class="{badge}">{english}</span>' in page_en


def test_an_article_url_that_is_not_http_is_not_a_link(web: httpx.Client, store: Store) -> None:
    record = ArticleRecord(
        url="javascript:alert(document.cookie)//x.html",
        source="tuoitrethudo",
        title="Bài có địa chỉ lạ",
        text="Bài có địa chỉ lạ\nNội dung.",
    )
    article_id = store.record_article(record, []).article_id
    page = web.get(f"/articles/{article_id}").text
    assert "javascript:" not in page and 'href="#"' in page


def test_pages_and_api_read_sqlite_and_postgresql_alike(database_url: str, tmp_path: Path) -> None:
    store = Store(database_url)
    store.migrate()
    try:
        record_alerts(store, 4, channels=["local", "hook"])
        record_alerts(store, 1, channels=["hook"], watch="bach-mai", label="Bạch Mai", start=9)
        config = config_at(write_config(tmp_path / "config"), tmp_path / "var")
        with serve(config, store) as server, httpx.Client(base_url=server.url) as web:
            first = web.get("/api/v1/alerts", params={"limit": 2}).json()
            rest = web.get("/api/v1/alerts", params={"cursor": first["next_cursor"]}).json()
            ids = [a["id"] for a in first["items"] + rest["items"]]
            assert ids == [5, 4, 3, 2, 1] and rest["next_cursor"] is None
            assert [a["id"] for a in web.get("/api/v1/alerts?channel=local").json()["items"]] == [
                4, 3, 2, 1,
            ]  # fmt: skip
            today = datetime.now(UTC).date().isoformat()
            assert len(web.get(f"/api/v1/alerts?since={today}&watch=bach-mai").json()["items"]) == 1
            found = web.get("/api/v1/search", params={"q": "dự án số 2"}).json()["items"]
            assert [a["id"] for a in found] == [3]
            assert web.get("/api/v1/sources").json()[0]["articles_24h"] == 5
            assert sum(web.get("/api/v1/watches").json()[1]["alerts_per_day"]) == 1
            for path in ("/", "/articles/2", "/sources", "/watches", "/deliveries", "/search?q=x"):
                assert web.get(path).status_code == 200, path
            assert web.get("/api/v1/alerts?watch=a%00b").status_code == 400  # not a 500
    finally:
        store.close()


def test_an_alert_names_the_other_outlets_of_its_story(web: httpx.Client, store: Store) -> None:
    from pipelines.store.articles import HitRecord, MatchRecord

    body = (
        "Chiều 3/12, Ủy ban nhân dân quận Hai Bà Trưng tổ chức hội nghị tổng kết công tác năm, "
        "đánh giá kết quả phát triển kinh tế, xã hội và bảo đảm an ninh trật tự trên địa bàn. "
        "Theo báo cáo, tổng thu ngân sách trên địa bàn vượt dự toán, nhiều công trình trường "
        "học, trạm y tế được đưa vào sử dụng đúng hẹn. Lãnh đạo quận đề nghị các phường tiếp "
        "tục cải cách hành chính, chăm lo đời sống người dân và giữ gìn trật tự đô thị."
    )
    hit = HitRecord("quận Hai Bà Trưng", 30, 47, "quận Hai Bà Trưng", "… quận Hai Bà Trưng …")
    match = MatchRecord("hbt-story", "Quận Hai Bà Trưng", [hit], ["local"])
    title = "Quận Hai Bà Trưng tổng kết công tác năm"
    for n, source in enumerate(("hanoimoi", "kinhtedothi", "tuoitrethudo")):
        store.record_article(
            ArticleRecord(
                url=f"https://{source}.example.vn/tong-ket-{n}.html",
                source=source,
                title=title,
                text=f"{title}\n{body}",
                published=datetime(2026, 12, 3, 10, n, tzinfo=UTC),
            ),
            [match],
        )
    page = web.get("/", params={"watch": "hbt-story"}).text
    assert page.count('<li class="alert"') == 1  # one story, one alert
    assert "Cũng có ở: kinhtedothi, tuoitrethudo" in page
    [item] = web.get("/api/v1/alerts", params={"watch": "hbt-story"}).json()["items"]
    assert item["article"]["source"] == "hanoimoi"
    assert item["also_in"] == ["kinhtedothi", "tuoitrethudo"]
