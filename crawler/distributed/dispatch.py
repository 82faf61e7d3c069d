"""``newswatch dispatch --forever``: deliver due alerts until SIGTERM, on any machine.

Several dispatchers on one PostgreSQL store never send one delivery twice at once: each
claims due deliveries under a lease (``FOR UPDATE SKIP LOCKED``), and a dispatcher that dies
leaves its claims to expire (``NEWSWATCH_DISPATCH_LEASE``), after which another sends them.
"""

from __future__ import annotations

import logging
import signal
import threading

from crawler.config import Config
from crawler.service.dispatch_thread import default_dispatcher
from pipelines.store.database import Store

__all__ = ["dispatch_forever"]

log = logging.getLogger(__name__)


def dispatch_forever(store: Store, config: Config, poll: float = 1.0) -> int:
    """Send due alerts, polling the store every ``poll`` seconds, until SIGTERM/SIGINT."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log.info("dispatching until stopped: channels %s", ", ".join(config.channels) or "none")
    while not stop.is_set():
        try:
            default_dispatcher(store, config).run_forever(stop, poll)
        except Exception:  # a bug in one channel must not stop delivery: build it again
            log.exception("dispatcher failed; starting it again in 5 s")
            stop.wait(5.0)
    return 0
