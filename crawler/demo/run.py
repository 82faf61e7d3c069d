"""``newswatch demo``: the whole pipeline offline, in under a minute.

Starts the bundled local news site (``crawler.demo.localsite`` with the pages in
``crawler/demo/data/``), a local webhook receiver that verifies Standard Webhooks signatures,
crawls the site in a child process with the demo watch list, delivers the alerts, prints
what the receiver got, and then runs a second round to show that nothing is sent twice.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook

from crawler.demo.localsite import iter_serve, read_request_log
from crawler.demo.sitepages import SiteArticle, write_article
from pipelines.deliver.wording import date_text, words

__all__ = ["run_demo"]

ICT = timezone(timedelta(hours=7))


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, secret: str) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.verifier = Webhook(secret)
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/newswatch"


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            payload = self.server.verifier.verify(body, dict(self.headers.items()))
        except Exception as exc:  # a bad signature is the receiver's business: say 400
            self.send_response(400)
            self.end_headers()
            self.wfile.write(f"bad signature: {exc}".encode())
            return
        with self.server.lock:
            self.server.received.append(payload)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _publish_demo_site(root: Path) -> int:
    data = json.loads(
        resources.files("crawler.demo.data").joinpath("articles.json").read_text(encoding="utf-8")
    )
    now = datetime.now(ICT).replace(microsecond=0)
    for i, item in enumerate(data):
        texts = [item["title"], item["sapo"], *item["paragraphs"]]
        if item.get("nfd"):
            # Decomposed Unicode, as some CMSs and macOS copy-paste produce it.
            texts = [unicodedata.normalize("NFD", t) for t in texts]
        write_article(
            root,
            SiteArticle(
                id=250001 + i,
                slug=item["slug"],
                title=texts[0],
                sapo=texts[1],
                paragraphs=tuple(texts[2:]),
                section=item["section"],
                published=(now - timedelta(minutes=item["minutes_ago"])).isoformat(),
            ),
        )
    return len(data)


def _write_config(folder: Path, site: str, receiver: str, language: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sources.yaml").write_text(
        "defaults: {delay: 0s, every: 1m}\n"
        "sources:\n"
        "  - name: tintudo-demo\n"
        f"    home: {site}\n"
        f"    feeds: [{site}rss/home.rss]\n"
        f"    listings: [{site}thoi-su, {site}xa-hoi]\n",
        encoding="utf-8",
    )
    shutil.copyfile(
        str(resources.files("crawler.demo.data").joinpath("watches.yaml")), folder / "watches.yaml"
    )
    (folder / "channels.yaml").write_text(
        f"defaults: {{language: {language}}}\n"
        "channels:\n"
        "  receiver: {kind: webhook, url: '${DEMO_WEBHOOK_URL}',"
        " secret: '${DEMO_WEBHOOK_SECRET}'}\n"
        "  local: {kind: file, path: alerts.jsonl}\n",
        encoding="utf-8",
    )
    os.environ["DEMO_WEBHOOK_URL"] = receiver


def _crawl(config: Path, data: Path) -> dict[str, Any]:
    from crawler.config import load_config
    from crawler.service.rounds import crawl_in_children
    from pipelines.store.database import Store

    cfg = load_config(config, data)
    store = Store.for_data_dir(data)
    store.migrate()
    try:
        [summary] = crawl_in_children(cfg, cfg.sources, store, verbosity=-1)
    finally:
        store.close()
    return summary.__dict__


def _dispatch(config: Path, data: Path) -> str:
    from crawler.config import load_config
    from pipelines.deliver.dispatch import Dispatcher
    from pipelines.store.database import Store

    cfg = load_config(config, data)
    store = Store.for_data_dir(data)
    try:
        digests = {w.name: w.digest for w in cfg.watches}
        s = Dispatcher(store, cfg.channels, digests=digests).run_once()
    finally:
        store.close()
    return f"sent {s.sent}, failed {s.failed}"


def _show(payload: dict[str, Any], language: str) -> str:
    """One received alert as a reader sees it, labels and date in ``language``."""
    article = payload.get("article", {})
    watch = payload.get("watch", {})
    snippet = article.get("snippet", "")
    for hit in article.get("hits", [])[:1]:
        if hit.get("text"):
            snippet = snippet.replace(hit["text"], f"\033[1m[{hit['text']}]\033[0m", 1)
    label = words(language)
    meta = f"{label['source']}: {article.get('source')}"
    if article.get("published"):
        # The payload's time carries the presentation offset (+07:00): shown as is.
        when = date_text(datetime.fromisoformat(article["published"]), language)
        meta += f" · {label['published']}: {when}"
    return (
        f"  • {label['alert']} · {watch.get('label')}\n    {article.get('title')}"
        f"\n    {article.get('url')}\n    {meta}\n    “{snippet}”"
    )


def run_demo(*, keep: bool = False, verbosity: int = 0, language: str = "vi") -> int:
    """Run the offline demo; returns the exit status."""
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="newswatch-demo-"))
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    os.environ["DEMO_WEBHOOK_SECRET"] = secret
    receiver = _Receiver(secret)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    served = iter_serve(tmp / "site")
    try:
        count = _publish_demo_site(tmp / "site")
        site = next(served)
        print(f"demo news site: {site} ({count} articles)")
        print(f"webhook receiver: {receiver.url} (verifies signatures)")
        config, data = tmp / "config", tmp / "data"
        _write_config(config, site, receiver.url, language)
        first = _crawl(config, data)
        print(
            f"\nround 1: {first['status']}, {first['new_articles']} new articles, "
            f"{first['alerts']} alerts queued ({first['requests']} requests)"
        )
        print(f"dispatch: {_dispatch(config, data)}")
        print(f"\nthe receiver got {len(receiver.received)} alerts:")
        for payload in receiver.received:
            print(_show(payload, language))
        before = len(receiver.received)
        asked = len(read_request_log(tmp / "site"))
        second = _crawl(config, data)
        second["not_modified"] = sum(
            1 for r in read_request_log(tmp / "site")[asked:] if r["status"] == 304
        )
        print(
            f"\nround 2: {second['status']}, {second['new_articles']} new articles, "
            f"{second['requests']} requests ({second['not_modified']} answered 'not "
            f"modified')"
        )
        print(
            f"dispatch: {_dispatch(config, data)}; the receiver got "
            f"{len(receiver.received) - before} more — nothing is sent twice"
        )
        print(f"\nalso written as JSON lines: {data / 'alerts.jsonl'}")
        print(f"demo finished in {time.monotonic() - started:.1f} s")
        ok = first["status"] == "ok" and second["status"] == "ok" and receiver.received
        return 0 if ok else 1
    finally:
        served.close()
        receiver.shutdown()
        receiver.server_close()
        if keep:
            print(f"kept: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
