"""Running the app with uvicorn: in a thread beside the service (``run --http``), or in the
foreground (``newswatch web``).

The socket is bound here, before uvicorn starts, so a busy port is an ``OSError`` at once
(uvicorn would log it and exit the thread) and ``:0`` tells the port it got.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

__all__ = ["WebServer"]

log = logging.getLogger(__name__)


class WebServer:
    """The app on ``host:port``: :meth:`start` (a daemon thread) and :meth:`close`, or
    :meth:`serve` in the calling thread until SIGINT/SIGTERM."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.app = app
        self.host, self.port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` actually bound (the OS picks the port for ``:0``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _bind(self) -> tuple[uvicorn.Server, socket.socket]:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
        # and without it a keep-alive client waits ~40 ms (Nagle + delayed ACK) per answer.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_config=None,  # the service's logging (redaction, JSON) applies
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=3,
        )
        return uvicorn.Server(config), sock

    def start(self) -> None:
        """Listen, then serve in a daemon thread; OSError when the address is taken."""
        server, sock = self._bind()
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="newswatch-web", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)

    def serve(self, ready: Callable[[str], None] | None = None) -> None:
        """Serve in this thread until SIGINT/SIGTERM (uvicorn handles both); ``ready`` is
        called with :attr:`url` once the socket listens."""
        server, sock = self._bind()
        self._server = server
        if ready is not None:
            ready(self.url)
        server.run(sockets=[sock])

    def close(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._server = None
