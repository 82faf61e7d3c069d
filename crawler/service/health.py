"""``run --http ADDR``: ``/healthz`` and ``/metrics`` on a small HTTP server in a thread.

Stdlib ``http.server`` rather than ``prometheus_client.start_http_server`` because that one
serves the metrics on every path and has no place for a health check; the exposition itself
is ``prometheus_client.generate_latest``.

``/healthz`` answers 200 with ``{"status": "ok", "checks": {...}}`` when every check passes
and 503 naming the failing ones otherwise; a check is a callable returning ``None`` when
healthy or a short reason.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["Check", "HealthServer", "parse_address"]

log = logging.getLogger(__name__)

Check = Callable[[], str | None]


def parse_address(text: str) -> tuple[str, int]:
    """``127.0.0.1:9410`` or ``:9410`` (loopback) -> (host, port); ValueError when malformed."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--http expects HOST:PORT such as 127.0.0.1:9410, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._health()
        elif path == "/metrics":
            body = generate_latest(self.server.registry)
            self._reply(200, CONTENT_TYPE_LATEST, body)
        else:
            self._reply(404, "text/plain; charset=utf-8", b"not found: try /healthz or /metrics\n")

    def _health(self) -> None:
        results: dict[str, str] = {}
        for name, check in self.server.checks.items():
            try:
                problem = check()
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            results[name] = problem or "ok"
        healthy = all(v == "ok" for v in results.values())
        body = json.dumps({"status": "ok" if healthy else "failing", "checks": results})
        self._reply(200 if healthy else 503, "application/json", body.encode() + b"\n")

    def _reply(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("http: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    registry: CollectorRegistry
    checks: Mapping[str, Check]


class _Server6(_Server):
    address_family = socket.AF_INET6


class HealthServer:
    """Serves in a daemon thread from :meth:`start` until :meth:`close`."""

    def __init__(self, address: str, registry: CollectorRegistry, checks: Mapping[str, Check]):
        self.host, self.port = parse_address(address)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.registry = registry
        self.checks = checks

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` actually bound (the port is chosen by the OS for ``:0``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        kind = _Server6 if ":" in self.host else _Server
        server = kind((self.host, self.port), _Handler)
        server.registry = self.registry
        server.checks = self.checks
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="newswatch-http", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
