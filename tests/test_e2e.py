"""The whole pipeline through the CLI, against real local servers.

A local news site (server subprocess), a real SMTP server (aiosmtpd, STARTTLS with a test
CA) and a webhook receiver that verifies Standard Webhooks signatures. ``newswatch crawl``
then ``newswatch dispatch``: each expected alert arrives exactly once, with the right watch,
article and snippet; a second round sends nothing.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from crawler.config import load_config
from pipelines.store.backfill import note_watch_changes
from pipelines.store.database import Store
from tests.conftest import run_cli
from tests.servers.newssite import NewsSite
from tests.servers.smtp import SMTPServer
from tests.servers.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

WATCHES = """\
defaults: {notify: [hook, mail, local]}
watches:
  quan-hai-ba-trung:
    label: Quận Hai Bà Trưng
    any: [quận Hai Bà Trưng, Quận ủy Hai Bà Trưng, phường Bạch Mai]
    except_in: [đường Hai Bà Trưng, phố Hai Bà Trưng, đền Hai Bà Trưng]
  nguyen-van-phong:
    label: Ông Nguyễn Văn Phong
    any: [Nguyễn Văn Phong]
    whole_name: true
    near: {within: 20, any: [Thành ủy, bí thư, Hà Nội]}
"""

REFERENCE = [
    "Chiều 14/1, Phó Bí thư Thành ủy Hà Nội Nguyễn Văn Phong làm việc với Ban Thường vụ "
    "Quận ủy Hai Bà Trưng về kết quả thực hiện nhiệm vụ năm và phương hướng năm mới.",
    "Phát biểu tại buổi làm việc, ông đề nghị quận Hai Bà Trưng mạnh dạn, quyết liệt tạo đột "
    "phá trong phát triển kinh tế, nhất là thương mại và dịch vụ trên địa bàn.",
]
DECOY = [
    "Từ 5 giờ sáng, hai bà trưng bày hàng Tết trước cổng chợ, xếp từng hộp mứt gừng và ô mai "
    "lên những chiếc mẹt tre, chờ khách mua đầu tiên trong ngày.",
    "Tiểu thương cho biết sức mua năm nay tăng nhẹ, khách chủ yếu là người dân trong phố cổ "
    "và khách du lịch tìm quà Tết truyền thống.",
]
STREET = [
    "Đơn vị thi công sẽ thảm lại mặt đường Hai Bà Trưng ở trung tâm TP Hồ Chí Minh trong hai "
    "tuần, chủ yếu vào ban đêm để hạn chế ảnh hưởng tới giao thông.",
    "Người đi xe được khuyến cáo chọn tuyến khác trong thời gian này, đặc biệt vào giờ cao "
    "điểm buổi sáng và buổi chiều các ngày trong tuần.",
]
NAMESAKE = [
    "Ca sĩ Nguyễn Văn Phong Lan vừa ra mắt album mới gồm mười ca khúc về mùa xuân, được khán "
    "giả đón nhận nồng nhiệt trong đêm nhạc tại nhà hát.",
    "Album được thực hiện trong hai năm, với sự góp mặt của nhiều nhạc sĩ trẻ và dàn nhạc giao "
    "hưởng, hứa hẹn là món quà ý nghĩa dịp cuối năm.",
]


def _config(folder: Path, site: NewsSite, smtp: SMTPServer) -> Path:
    folder.mkdir(parents=True)
    url = site.url
    (folder / "sources.yaml").write_text(
        "defaults: {delay: 0s}\nsources:\n  - name: tintudo\n"
        f"    home: {url}\n    feeds: [{url}rss/home.rss]\n    listings: [{url}xa-hoi]\n",
        encoding="utf-8",
    )
    (folder / "watches.yaml").write_text(WATCHES, encoding="utf-8")
    (folder / "channels.yaml").write_text(
        "channels:\n"
        "  hook: {kind: webhook, url: '${E2E_HOOK_URL}', secret: '${E2E_HOOK_SECRET}'}\n"
        "  mail:\n    kind: email\n    to: [bientap@example.vn]\n"
        "    from: newswatch@example.vn\n"
        f"    smtp: {{host: 127.0.0.1, port: {smtp.port}, security: starttls,"
        f" ca_file: '{smtp.ca_file}'}}\n"
        "  local: {kind: file, path: alerts.jsonl}\n",
        encoding="utf-8",
    )
    return folder


def test_crawl_then_dispatch_alerts_each_match_exactly_once(
    tmp_path: Path, database_url: str
) -> None:
    with (
        NewsSite() as site,
        SMTPServer() as smtp,
        WebhookReceiver(secret=SECRET, path="/hook") as hook,
    ):
        ref_url = site.publish(
            "quan-hai-ba-trung-can-manh-dan-tao-dot-pha",
            "Quận Hai Bà Trưng cần mạnh dạn, quyết liệt tạo đột phá phát triển kinh tế",
            REFERENCE,
        )
        site.publish("hai-ba-trung-bay-hang-tet", "Chợ Tết sớm", DECOY, section="xa-hoi")
        site.publish("tham-lai-duong-o-trung-tam", "Thảm lại mặt đường", STREET, section="xa-hoi")
        site.publish("album-mua-xuan", "Album mùa xuân", NAMESAKE, section="xa-hoi")
        cfg = _config(tmp_path / "config", site, smtp)
        data = tmp_path / "var"
        env = {
            "E2E_HOOK_URL": hook.url,
            "E2E_HOOK_SECRET": SECRET,
            "NEWSWATCH_DATABASE_URL": database_url,
        }

        crawl = run_cli("--config", cfg, "--data", data, "crawl", env=env)
        assert crawl.returncode == 0, crawl.stdout + crawl.stderr
        assert "tintudo: ok, 4 new, 2 alerts" in crawl.stdout
        dispatch = run_cli("--config", cfg, "--data", data, "dispatch", env=env)
        assert dispatch.returncode == 0, dispatch.stdout + dispatch.stderr
        assert hook.wait_for(2) and smtp.wait_for(2)

        payloads = [r.json for r in hook.received]
        assert all(r.verified for r in hook.received)
        assert Counter(p["watch"]["name"] for p in payloads) == {
            "quan-hai-ba-trung": 1,
            "nguyen-van-phong": 1,
        }
        assert {p["article"]["url"] for p in payloads} == {ref_url}
        by_watch = {p["watch"]["name"]: p for p in payloads}
        phong = by_watch["nguyen-van-phong"]["article"]
        assert "Nguyễn Văn Phong" in phong["snippet"]
        assert phong["hits"][0]["text"] == "Nguyễn Văn Phong"
        assert phong["published"].endswith("+07:00")
        assert len({r.id for r in hook.received}) == 2

        subjects = sorted(m["Subject"] for m in smtp.messages)
        assert len(subjects) == 2
        assert all("Quận Hai Bà Trưng cần mạnh dạn" in s for s in subjects)
        lines = (data / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2 and json.loads(lines[0])["type"] == "watch.matched"

        # Second round: nothing new is stored, nothing is sent again.
        again = run_cli("--config", cfg, "--data", data, "crawl", env=env)
        assert "tintudo: ok, 0 new, 0 alerts" in again.stdout, again.stdout + again.stderr
        resend = run_cli("--config", cfg, "--data", data, "dispatch", env=env)
        assert resend.returncode == 0
        assert len(hook.received) == 2 and len(smtp.messages) == 2
        lines = (data / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2


def test_receiver_down_keeps_alerts_until_it_answers(tmp_path: Path) -> None:
    with (
        NewsSite() as site,
        SMTPServer() as smtp,
        WebhookReceiver(secret=SECRET, path="/hook") as hook,
    ):
        site.publish(
            "quan-hai-ba-trung-can-manh-dan-tao-dot-pha",
            "Quận Hai Bà Trưng cần mạnh dạn, quyết liệt tạo đột phá phát triển kinh tế",
            REFERENCE,
        )
        cfg = _config(tmp_path / "config", site, smtp)
        data = tmp_path / "var"
        env = {"E2E_HOOK_URL": hook.url, "E2E_HOOK_SECRET": SECRET}
        assert run_cli("--config", cfg, "--data", data, "crawl", env=env).returncode == 0
        hook.fail(503, times=2)
        first = run_cli("--config", cfg, "--data", data, "dispatch", env=env)
        assert first.returncode == 1  # failed sends are reported and kept
        assert "hook" in first.stderr and "503" in first.stderr
        listing = run_cli("--config", cfg, "--data", data, "alerts", env=env)
        assert "hook" in listing.stdout
        # The retry after the first failure is due at once ("immediately, then 5 s"): the
        # next dispatch that finds it due delivers it; nothing is lost.
        for _ in range(10):
            run_cli("--config", cfg, "--data", data, "dispatch", env=env)
            if len({r.id for r in hook.received if r.status == 200}) == 2:
                break
            hook.wait_for(len(hook.received) + 1, timeout=1.0)
        delivered = {r.id for r in hook.received if r.status == 200}
        assert len(delivered) == 2


def test_a_new_watch_is_backfilled_from_the_archive_once(tmp_path: Path, database_url: str) -> None:
    with (
        NewsSite() as site,
        SMTPServer() as smtp,
        WebhookReceiver(secret=SECRET, path="/hook") as hook,
    ):
        ref_url = site.publish(
            "quan-hai-ba-trung-can-manh-dan-tao-dot-pha",
            "Quận Hai Bà Trưng cần mạnh dạn, quyết liệt tạo đột phá phát triển kinh tế",
            REFERENCE,
        )
        site.publish("album-mua-xuan", "Album mùa xuân", NAMESAKE, section="xa-hoi")
        cfg = _config(tmp_path / "config", site, smtp)
        data = tmp_path / "var"
        env = {
            "E2E_HOOK_URL": hook.url,
            "E2E_HOOK_SECRET": SECRET,
            "NEWSWATCH_DATABASE_URL": database_url,
        }

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return run_cli("--config", cfg, "--data", data, *args, env=env)

        assert cli("crawl").returncode == 0
        assert cli("dispatch").returncode == 0 and hook.wait_for(2)
        # The service has loaded these watches (what `newswatch run` does at start).
        store = Store(database_url)
        note_watch_changes(store, load_config(cfg, data).watches)
        store.close()

        # A new watch, added after the articles were crawled.
        with (cfg / "watches.yaml").open("a", encoding="utf-8") as f:
            f.write("  kinh-te:\n    label: Kinh tế\n    any: [thương mại và dịch vụ]\n")
        check = cli("check-config")
        assert check.returncode == 0
        assert "watch kinh-te is new" in check.stdout
        assert "newswatch backfill --watch kinh-te" in check.stdout

        dry = cli("backfill", "--json")
        assert dry.returncode == 0, dry.stderr
        rows = json.loads(dry.stdout)
        fresh = [r for r in rows if not r["alert_exists"]]
        assert [(r["watch"], r["url"]) for r in fresh] == [("kinh-te", ref_url)]
        assert {r["watch"] for r in rows if r["alert_exists"]} == {
            "quan-hai-ba-trung",
            "nguyen-van-phong",
        }
        assert all(r["title"] for r in rows)
        assert cli("dispatch").returncode == 0 and len(hook.received) == 2  # dry run: nothing

        sent = cli("backfill", "--watch", "kinh-te", "--send")
        assert sent.returncode == 0 and "1 new alerts queued" in sent.stdout
        assert cli("dispatch").returncode == 0 and hook.wait_for(3)
        [new] = [r.json for r in hook.received[2:]]
        assert new["watch"]["name"] == "kinh-te" and new["article"]["url"] == ref_url

        again = cli("backfill", "--watch", "kinh-te", "--send")
        assert "0 new alerts queued" in again.stdout and "1 already alerted" in again.stdout
        assert cli("dispatch").returncode == 0
        assert len(hook.received) == 3
