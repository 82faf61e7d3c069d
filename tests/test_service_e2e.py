"""``newswatch run`` end to end: the local news site, the real crawl children, a webhook.

A new article published while the service runs reaches the webhook receiver within one
interval plus 5 s; a second ``run`` refuses; SIGHUP picks up a new watch; SIGTERM ends the
service within 10 s with status 0 and every queued alert still accounted for.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.servers.newssite import NewsSite
from tests.servers.webhook_receiver import Request, WebhookReceiver

pytestmark = pytest.mark.e2e

INTERVAL = 2.0
SECRET = "whsec_" + base64.b64encode(b"e2e-service-secret-key!!").decode()

WATCH = """\
  quan-hai-ba-trung:
    label: Quận Hai Bà Trưng
    any: [quận Hai Bà Trưng, phường Bạch Mai]
"""
NEW_WATCH = """\
  ret-dam:
    label: Rét đậm
    any: [rét đậm]
"""
DISTRICT = [
    "UBND quận Hai Bà Trưng vừa tổ chức hội nghị tổng kết công tác năm, với sự tham dự của "
    "lãnh đạo các phòng ban và đại diện các tổ dân phố trên địa bàn.",
    "Tại hội nghị, các đại biểu thảo luận về chỉnh trang đô thị, giải phóng mặt bằng và chăm lo "
    "đời sống người dân trong dịp cuối năm.",
]
BACH_MAI = [
    "Phường Bạch Mai vừa ra mắt mô hình tổ dân phố số, giúp người dân nhận thông báo và gửi "
    "phản ánh ngay trên điện thoại di động.",
    "Lãnh đạo phường cho biết sẽ nhân rộng mô hình trong quý tới, đồng thời mở các lớp hướng "
    "dẫn cho người cao tuổi sử dụng ứng dụng.",
]
COLD = [
    "Đợt rét đậm kéo dài khiến nhiệt độ thấp nhất ở Hà Nội xuống dưới 12 độ C, vùng núi phía "
    "Bắc có nơi dưới 5 độ C.",
    "Các trường học được khuyến cáo cho học sinh nhỏ nghỉ học khi trời quá lạnh vào buổi sáng "
    "sớm, phụ huynh cần giữ ấm cho trẻ.",
]


def write_config(folder: Path, site_url: str, watches: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sources.yaml").write_text(
        f"defaults: {{every: {INTERVAL:g}s, jitter: 0s, delay: 0s, timeout: 60s}}\n"
        "sources:\n"
        f"  - name: tintudo\n    home: {site_url}\n    feeds: [{site_url}rss/home.rss]\n"
        f"    listings: [{site_url}thoi-su]\n",
        encoding="utf-8",
    )
    (folder / "watches.yaml").write_text(
        "defaults: {notify: [newsroom]}\nwatches:\n" + watches, encoding="utf-8"
    )
    (folder / "channels.yaml").write_text(
        "channels:\n"
        "  newsroom: {kind: webhook, url: '${E2E_HOOK_URL}', secret: '${E2E_HOOK_SECRET}'}\n"
        "ops: [newsroom]\n",
        encoding="utf-8",
    )


def wait_for(check: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline or (log and "not starting" in log.read_text()):
            tail = log.read_text()[-4000:] if log else ""
            raise AssertionError(f"{what}: not within {timeout:g} s\n{tail}")
        time.sleep(0.1)


def alerted(hook: WebhookReceiver, url: str) -> Callable[[], bool]:
    def check() -> bool:
        return any(_article_url(r) == url for r in list(hook.received))

    return check


def _article_url(request: Request) -> str | None:
    body = request.json if isinstance(request.json, dict) else {}
    article = body.get("article") or {}
    return article.get("url") if isinstance(article, dict) else None


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=SECRET) as receiver:
        yield receiver


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite() as s:
        yield s


def test_service_end_to_end(tmp_path: Path, site: NewsSite, hook: WebhookReceiver) -> None:
    config, data = tmp_path / "config", tmp_path / "var"
    write_config(config, site.url, WATCH)
    first_url = site.publish("ubnd-quan-hai-ba-trung-tong-ket", "Quận tổng kết năm", DISTRICT)
    env = {**os.environ, "E2E_HOOK_URL": hook.url, "E2E_HOOK_SECRET": SECRET}
    log_path = tmp_path / "service.log"
    argv = [sys.executable, "-m", "crawler.cli", "--config", str(config), "--data", str(data),
            "run", "--http", "127.0.0.1:0", "--log-format", "json"]  # fmt: skip
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(argv, stdout=log_file, stderr=log_file, env=env, cwd=REPO)
    try:
        # The first round finds the article that was already there.
        wait_for(alerted(hook, first_url), 60, "first alert", log_path)

        # A second service on the same data dir refuses, naming the first.
        second = run_cli("--config", config, "--data", data, "run", env=env, timeout=60)
        assert second.returncode == 1
        assert "already running" in second.stderr and str(proc.pid) in second.stderr

        # Health and metrics while it runs.
        state = json.loads((data / "service.json").read_text())
        with urllib.request.urlopen(state["http"] + "/healthz", timeout=5) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(state["http"] + "/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
        assert 'newswatch_crawls_total{result="ok",source="tintudo"}' in metrics

        # A new article published mid-run arrives within one interval plus 5 s.
        new_url = site.publish("phuong-bach-mai-to-dan-pho-so", "Tổ dân phố số", BACH_MAI)
        wait_for(alerted(hook, new_url), INTERVAL + 5, "alert for the new article", log_path)

        # A watch added to the configuration applies from the next round after SIGHUP.
        write_config(config, site.url, WATCH + NEW_WATCH)
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in log_path.read_text(), 10, "reload", log_path)
        cold_url = site.publish("ha-noi-ret-dam", "Hà Nội rét đậm", COLD)
        wait_for(alerted(hook, cold_url), INTERVAL + 10, "alert for the new watch", log_path)

        status = run_cli("--config", config, "--data", data, "status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["service"]["running"] and report["service"]["pid"] == proc.pid
        [source] = report["sources"]
        assert source["result"] == "ok" and source["next_run"] is not None
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("the service did not stop within 10 s of SIGTERM") from None
    assert code == 0, log_path.read_text()[-3000:]

    # Nothing queued was lost: every delivery is sent (and arrived) or still waits.
    with sqlite3.connect(data / "newswatch.db") as db:
        rows = db.execute("SELECT message_id, status FROM deliveries").fetchall()
    db.close()
    assert len(rows) == 3
    arrived = set(hook.ids())
    for message_id, state_ in rows:
        assert state_ in ("delivered", "pending", "retrying"), (message_id, state_)
        if state_ == "delivered":
            assert message_id in arrived
    assert all(r.verified for r in hook.received)

    # Logs: one JSON object per line, the source in context, the webhook URL never written.
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert any(line.get("source") == "tintudo" and "crawl ok" in line["msg"] for line in lines)
    text = log_path.read_text()
    assert hook.url not in text and SECRET not in text
    assert any("service stopped" in line["msg"] for line in lines)
