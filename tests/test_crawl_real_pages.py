"""A crawl over the real saved pages of Vietnamese news sites, served by a local server.

Every saved article page (``../shared/fixtures/html``) is served under a local URL and
listed in a local RSS feed; one ``newswatch crawl`` must store each with the headline and
publication time its golden file records, and leave the listing pages alone. The pages are
read from ``../shared`` at test time, never copied into the repository.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.e2e
GOLDEN = REPO / "tests" / "golden"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(fixtures_dir: Path, tmp_path: Path) -> Iterator[tuple[str, dict[str, dict[str, Any]]]]:
    root = tmp_path / "www"
    root.mkdir()
    expected: dict[str, dict[str, Any]] = {}
    for i, golden in enumerate(sorted(GOLDEN.glob("*.json"))):
        data = json.loads(golden.read_text(encoding="utf-8"))
        if not data.get("extracted"):
            continue
        name = f"{data['page'].split('/')[0]}-bai-viet-{200000 + i}.html"
        shutil.copyfile(fixtures_dir / "html" / data["page"], root / name)
        expected[name] = data["extracted"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    now = format_datetime(datetime.now(UTC))
    items = "".join(
        f"<item><title>t</title><link>{base}{name}</link><pubDate>{now}</pubDate></item>"
        for name in expected
    )
    (root / "feed.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>f</title>'
        f"{items}</channel></rss>",
        encoding="utf-8",
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, expected
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_every_real_article_page_is_stored_with_its_headline_and_time(
    served: tuple[str, dict[str, dict[str, Any]]], tmp_path: Path
) -> None:
    base, expected = served
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "sources.yaml").write_text(
        f"defaults: {{delay: 0s, concurrency: 4}}\nsources:\n  - name: real\n"
        f"    feeds: [{base}feed.xml]\n",
        encoding="utf-8",
    )
    (cfg / "watches.yaml").write_text(
        "watches:\n  vn:\n    any: [Việt Nam, Hà Nội, TP.HCM]\n    notify: [local]\n",
        encoding="utf-8",
    )
    (cfg / "channels.yaml").write_text(
        "channels:\n  local: {kind: file, path: alerts.jsonl}\n", encoding="utf-8"
    )
    data = tmp_path / "var"
    result = run_cli("--config", cfg, "--data", data, "crawl", "--json", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["new_articles"] == len(expected) == 27
    with sqlite3.connect(data / "newswatch.db") as db:
        rows = db.execute("SELECT url, title, published, text FROM articles").fetchall()
    stored = {
        url.rsplit("/", 1)[1]: (title, published, text) for url, title, published, text in rows
    }
    for name, want in expected.items():
        title, published, text = stored[name]
        assert title == want["title"], name
        assert datetime.fromisoformat(published).replace(tzinfo=UTC) == datetime.fromisoformat(
            want["published"]
        ), name
        assert want["text_start"][:40] in text, name
