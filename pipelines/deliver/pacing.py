"""How often and how fast a channel is tried: retry schedule, circuit breaker, rate limit.

The schedule is Standard Webhooks' own example (at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
14 h, 20 h, 24 h: about three days, so a receiver down over a weekend still gets its
alerts). ``pybreaker``-style libraries exist, but the breaker's state must live in the
store (a restart must not hammer a dead receiver), which is :meth:`BreakerPolicy.after_failure`
plus :mod:`pipelines.deliver.channel_state`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipelines.deliver.channels.base import Rate

__all__ = ["SCHEDULE", "BreakerPolicy", "TokenBucket", "human_delay"]

#: Delay before each attempt (seconds); after the last one the delivery is dead.
SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


@dataclass(frozen=True)
class BreakerPolicy:
    """Open after ``threshold`` failures in a row; cooldown doubles up to ``max_cooldown``."""

    threshold: int = 5
    cooldown: float = 60.0
    max_cooldown: float = 3600.0

    def after_failure(
        self,
        state: Mapping[str, Any],
        now: datetime,
        status: int | None,
        retry_after: float | None,
    ) -> dict[str, Any]:
        """A channel's new state values after one more failed send (``state``: its stored
        row). A 429/503 with Retry-After pauses the whole channel; at ``threshold`` failures
        in a row the breaker opens (``open_until``) for a cooldown stored in milliseconds."""
        failures = int(state.get("failures") or 0) + 1
        values: dict[str, Any] = {"failures": failures, "last_failure_at": now}
        if retry_after is not None and status in (429, 503):
            values["paused_until"] = now + timedelta(seconds=min(retry_after, 86400))
        if failures >= self.threshold:
            previous = float(state.get("cooldown") or 0) / 1000
            cooldown = min(self.max_cooldown, previous * 2 if previous else self.cooldown)
            values.update(
                cooldown=round(cooldown * 1000), open_until=now + timedelta(seconds=cooldown)
            )
        return values


class TokenBucket:
    """``rate.count`` tokens, refilled continuously over ``rate.per`` seconds."""

    def __init__(self, rate: Rate, now: datetime) -> None:
        self.rate = rate
        self.tokens = float(rate.count)
        self.at = now

    def take(self, wanted: int, now: datetime) -> int:
        elapsed = max(0.0, (now - self.at).total_seconds())
        self.tokens = min(
            float(self.rate.count), self.tokens + elapsed * self.rate.count / self.rate.per
        )
        self.at = now
        granted = min(wanted, int(self.tokens))
        self.tokens -= granted
        return granted

    def give_back(self, n: int) -> None:
        self.tokens = min(float(self.rate.count), self.tokens + n)


def human_delay(seconds: float) -> str:
    """A delay as an operator reads it: "5 s", "5 min", "2.5 h"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
