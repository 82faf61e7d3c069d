"""The dispatcher inside the service: :class:`pipelines.deliver.dispatch.Dispatcher` in a thread.

The dispatcher is synchronous (``requests``, ``smtplib``) and blocks while it sends, so it
runs in its own thread rather than on the service's event loop. If it ever raises, it is
built again after a pause: a bug in one channel must not stop delivery for months.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from crawler.service.alarms import Notify
from pipelines.store.database import Store

if TYPE_CHECKING:
    from crawler.config import Config

__all__ = [
    "DispatchRunner",
    "DispatcherFactory",
    "DispatcherThread",
    "default_dispatcher",
    "default_notify",
]

log = logging.getLogger(__name__)


class DispatchRunner(Protocol):
    """What the service needs of :class:`pipelines.deliver.dispatch.Dispatcher`."""

    def run_forever(self, stop: threading.Event, poll: float = 1.0) -> None: ...


DispatcherFactory = Callable[[Store, "Config"], DispatchRunner]


def default_dispatcher(store: Store, config: Config) -> DispatchRunner:
    """The real dispatcher for this configuration's channels, digests and ops channels."""
    from pipelines.deliver.dispatch import Dispatcher

    digests = {w.name: w.digest for w in config.watches}
    runner: DispatchRunner = Dispatcher(
        store, config.channels, lease=None, digests=digests, ops=config.ops
    )
    return runner


def default_notify() -> Notify | None:
    """``pipelines.deliver.dispatch.enqueue_notice``, or ``None`` (alarms only logged)
    without it."""
    try:
        from pipelines.deliver.dispatch import enqueue_notice
    except ImportError:
        log.warning("pipelines.deliver.dispatch is not available: operator alarms are only logged")
        return None
    notify: Notify = enqueue_notice
    return notify


class DispatcherThread:
    """Runs a dispatcher in a daemon thread, building it again (after a pause) if it crashes."""

    RESTART_PAUSE = 5.0

    def __init__(self, make: Callable[[], DispatchRunner], poll: float) -> None:
        self._make = make
        self._poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="newswatch-dispatch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Ask it to stop after the send in hand; False when it did not within ``timeout``."""
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _main(self) -> None:
        while not self._stop.is_set():
            try:
                self._make().run_forever(self._stop, poll=self._poll)
            except Exception:
                log.exception("dispatcher crashed; restarting in %g s", self.RESTART_PAUSE)
                self._stop.wait(self.RESTART_PAUSE)
            else:
                self._stop.wait(self._poll)
