"""Per-host politeness across the polls of one warm worker.

Inside one poll Scrapy keeps a site's ``delay`` and ``concurrency`` (one crawler per poll).
A warm worker runs many polls at once, so two sources on one host (aliases, a portal and its
sub-sections) could otherwise double the load on it, and a host that just failed would be
asked again at once. The gate holds, per host: one poll at a time, ``delay`` between the end
of one poll and the start of the next, and a back-off after consecutive failed polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

__all__ = ["HostBusy", "HostGate"]

MAX_BACKOFF = 300.0  # never hold a host back longer than five minutes
_FORGET_ABOVE = 4096


@dataclass
class _Host:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    not_before: float = 0.0
    failures: int = 0
    users: int = 0


class HostGate:
    """One poll per host at a time, spaced by the site's delay, backing off after failures.

    ``clock`` is the seam tests replace.
    """

    def __init__(self, backoff_base: float = 5.0, clock: Callable[[], float] | None = None) -> None:
        self.backoff_base = backoff_base
        self._clock = clock or time.monotonic
        self._hosts: dict[str, _Host] = {}

    def waiting_for(self, host: str) -> float:
        """Seconds until ``host`` may be polled again (0 when free now)."""
        state = self._hosts.get(host)
        return max(0.0, state.not_before - self._clock()) if state else 0.0

    @contextlib.asynccontextmanager
    async def hold(
        self, hosts: Iterable[str], delay: float, max_wait: float | None = None
    ) -> AsyncIterator[_Outcome]:
        """Hold ``hosts`` for one poll; the block reports through the yielded outcome.

        Waiting (for another poll of a host, then for its pause) takes at most ``max_wait``
        seconds: past that the pause is cut short, and a host still held raises
        :class:`HostBusy`.
        """
        if len(self._hosts) > _FORGET_ABOVE:
            self._forget_idle()
        names = sorted(set(hosts))  # one order everywhere: two polls never deadlock
        states = [self._hosts.setdefault(name, _Host()) for name in names]
        for state in states:
            state.users += 1
        acquired: list[_Host] = []
        outcome = _Outcome()
        deadline = None if max_wait is None else self._clock() + max_wait
        try:
            for name, state in zip(names, states, strict=True):
                left = None if deadline is None else max(0.0, deadline - self._clock())
                try:
                    if state.lock.locked():
                        await asyncio.wait_for(state.lock.acquire(), left)
                    else:  # (wait_for with no time left gives up even on a free lock)
                        await state.lock.acquire()
                except TimeoutError:
                    raise HostBusy(name, max_wait or 0.0) from None
                acquired.append(state)
            pause = max((s.not_before for s in states), default=0.0) - self._clock()
            if deadline is not None:
                pause = min(pause, deadline - self._clock())
            if pause > 0:
                await asyncio.sleep(pause)
            outcome.ran = True
            yield outcome
        finally:
            now = self._clock()
            for state in states if outcome.ran else ():
                if outcome.failed:
                    state.failures += 1
                    backoff = min(MAX_BACKOFF, self.backoff_base * 2 ** (state.failures - 1))
                    state.not_before = now + max(delay, backoff)
                else:
                    state.failures = 0
                    state.not_before = now + delay
            for state in acquired:
                state.lock.release()
            for state in states:
                state.users -= 1

    def _forget_idle(self) -> None:
        # Thousands of sources: forget hosts nobody holds whose pause is over.
        now = self._clock()
        for name in [n for n, s in self._hosts.items() if not s.users and not s.failures]:
            if self._hosts[name].not_before <= now:
                del self._hosts[name]


class HostBusy(Exception):
    """Another poll held the host for longer than this poll may wait."""

    def __init__(self, host: str, waited: float) -> None:
        super().__init__(f"{host} was busy with another poll for {waited:g} s")
        self.host = host


@dataclass
class _Outcome:
    """Set ``failed`` inside :meth:`HostGate.hold` when the poll failed (starts a back-off)."""

    failed: bool = False
    ran: bool = False
