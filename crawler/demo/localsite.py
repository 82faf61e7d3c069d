"""A small local Vietnamese news site: the demo's target and the tests' and benchmarks' server.

Articles are JSON files in ``ROOT/articles/``, rendered by :mod:`crawler.demo.sitepages`
as CMS-like pages, an RSS feed, a news sitemap, listings, a homepage and ``robots.txt``. A
file added while the server runs is published at once (feed and sitemap change).
``ROOT/faults.json`` (``{"/rss/home.rss": [503, 429]}``) makes the next requests of a path
fail with those statuses (and ``Retry-After: 1``), to test retries. ``ROOT/headers.json``
(``{"/robots.txt": {"Cache-Control": "no-cache"}}``) adds headers to a path's answers.

Every response carries an ETag and Last-Modified and answers conditional requests with
304, like a well-behaved CMS; each request is appended to ``ROOT/requests.jsonl`` so tests
and benchmarks can see exactly what the crawler asked for.

Run it: ``python -m crawler.demo.localsite ROOT [--port 0] [--latency 0.1]``; it prints
``LISTENING http://127.0.0.1:PORT/`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Generator
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawler.demo.sitepages import Renderer

__all__ = ["iter_serve", "main", "read_request_log"]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Keep-alive, as news sites serve: every answer carries Content-Length.
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        srv = self.server
        if srv.latency:
            time.sleep(srv.latency)
        status, ctype, body, etag = srv.renderer.page(self.path)
        modified = srv.last_modified(etag)
        conditional = bool(
            self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since")
        )
        if status == 200 and self._not_modified(etag, modified):
            status, body = 304, b""
        fault = srv.next_fault(self.path)
        if fault is not None:
            status, body = fault, f"<h1>{fault}</h1>".encode()
        self.send_response(status)
        if fault is not None:
            self.send_header("Retry-After", "1")
        if status != 304:
            self.send_header("Content-Type", ctype)
        for name, value in srv.extra_headers(self.path).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", format_datetime(modified, usegmt=True))
        self.end_headers()
        self.wfile.write(body)
        srv.log_request_line(
            {
                "path": self.path,
                "status": status,
                "bytes": len(body),
                "conditional": conditional,
                "ua": self.headers.get("User-Agent", ""),
                "at": round(time.time(), 3),
            }
        )

    def _not_modified(self, etag: str, modified: datetime) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return etag in [t.strip() for t in inm.split(",")]
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return modified <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, port: int, latency: float, heavy: bool = False) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.root = root
        self.latency = latency
        base = f"http://127.0.0.1:{self.server_address[1]}"
        self.renderer = Renderer(root, base, heavy=heavy)
        self._lock = threading.Lock()
        self._first_seen: dict[str, datetime] = {}

    def last_modified(self, key: str) -> datetime:
        # A stable Last-Modified per distinct body (its ETag), as a CMS would report it.
        with self._lock:
            if key not in self._first_seen:
                from datetime import UTC

                self._first_seen[key] = datetime.now(UTC).replace(microsecond=0)
            return self._first_seen[key]

    def next_fault(self, path: str) -> int | None:
        """A status to answer instead (``ROOT/faults.json``: path -> statuses, consumed)."""
        faults_file = self.root / "faults.json"
        with self._lock:
            if not faults_file.exists():
                return None
            faults = json.loads(faults_file.read_text(encoding="utf-8"))
            queue = faults.get(path.split("?", 1)[0]) or []
            if not queue:
                return None
            status = int(queue.pop(0))
            faults_file.write_text(json.dumps(faults), encoding="utf-8")
            return status

    def extra_headers(self, path: str) -> dict[str, str]:
        """Headers a test asked for on this path (``ROOT/headers.json``)."""
        try:
            table = json.loads((self.root / "headers.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        headers = table.get(path.split("?", 1)[0]) or {}
        return {str(k): str(v) for k, v in headers.items()}

    def log_request_line(self, entry: dict[str, Any]) -> None:
        with self._lock, (self.root / "requests.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


def read_request_log(root: Path) -> list[dict[str, Any]]:
    """Every request the site answered so far."""
    path = root / "requests.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def iter_serve(root: Path, port: int = 0, latency: float = 0.0) -> Generator[str, None, None]:
    """Start serving in a thread; yields the base URL, stops when the generator closes."""
    server = _Server(root, port, latency)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.demo.localsite", description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds to wait before answering each request"
    )
    parser.add_argument(
        "--heavy", action="store_true", help="pad article pages with real-CMS-sized boilerplate"
    )
    args = parser.parse_args(argv)
    (args.root / "articles").mkdir(parents=True, exist_ok=True)
    server = _Server(args.root, args.port, args.latency, heavy=args.heavy)
    print(f"LISTENING http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
