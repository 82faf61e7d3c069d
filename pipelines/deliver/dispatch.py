"""The outbox worker: claim due deliveries, send them, retry, dead-letter.

One round (:meth:`Dispatcher.run_once`) drains every configured channel in its own
thread; within a channel at most ``max_in_flight`` sends (default 1) are in flight, and a
channel is served by one dispatcher at a time even when several processes share the
database (the service and a manual ``newswatch dispatch``: ``channel_leases``). A
send happens outside any database transaction, under a lease (``NEWSWATCH_DISPATCH_LEASE``
seconds, default 60): if the process dies mid-send, the rows come due again when the lease
expires and are re-sent with the same id, without spending a retry step. So a receiver
sees every alert at least once, and a duplicate only for a send in flight at a crash --
carrying the same ``webhook-id`` / ``Message-ID`` so it can be dropped.

Failures follow the Standard Webhooks schedule (at once, 5 s, 5 min, 30 min, 2 h, 5 h,
10 h, 14 h, 20 h, 24 h; ±20 % jitter; a receiver's ``Retry-After`` wins), then *dead*.
A per-channel circuit breaker opens after :attr:`BreakerPolicy.threshold` failures in a
row: the channel is skipped (no attempts spent) for a cooldown that doubles from 1 min to
1 h, then one delivery probes it. A per-channel token bucket enforces the channel's rate;
deliveries it holds back stay queued for the next round. HTTP 410 (and the chat services'
"hook is gone" answers) disable the channel; ``retry_dead`` re-enables it.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipelines.deliver import channel_state, outbox
from pipelines.deliver.channels.base import Channel, scrub
from pipelines.deliver.digests import check_digest, form_burst_digests, form_scheduled_digests
from pipelines.deliver.pacing import SCHEDULE, BreakerPolicy, TokenBucket, human_delay
from pipelines.deliver.render import sample_message
from pipelines.errors import DeliveryError, PermanentDeliveryError
from pipelines.store.database import Store
from pipelines.store.schema import utcnow

__all__ = [
    "SCHEDULE",
    "BreakerPolicy",
    "DispatchSummary",
    "Dispatcher",
    "enqueue_notice",
    "send_test_alert",
]

log = logging.getLogger(__name__)

DEFAULT_LEASE = 60.0


@dataclass
class DispatchSummary:
    """What one round did; ``errors`` has one line per failure, for people."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Outcome:
    job: outbox.Job
    started: datetime
    answer: str = ""
    error: DeliveryError | None = None


def _lease_from_env() -> float:
    raw = os.environ.get("NEWSWATCH_DISPATCH_LEASE", "")
    try:
        value = float(raw) if raw else DEFAULT_LEASE
    except ValueError:
        log.warning("NEWSWATCH_DISPATCH_LEASE=%r is not a number; using %g s", raw, DEFAULT_LEASE)
        return DEFAULT_LEASE
    return value if value > 0 else DEFAULT_LEASE


class Dispatcher:
    """Deliver due alerts through the configured channels (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        *,
        lease: float | None = None,
        digests: Mapping[str, str] | None = None,
        timezone: str = "Asia/Ho_Chi_Minh",
        clock: Callable[[], datetime] = utcnow,
        ops: Sequence[str] = (),
        schedule: Sequence[float] = SCHEDULE,
        breaker: BreakerPolicy | None = None,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.channels = dict(channels)
        self.lease = lease if lease is not None else _lease_from_env()
        self.schedules = {w: check_digest(s) for w, s in (digests or {}).items()}
        self.held = sorted(w for w, s in self.schedules.items() if s != "immediate")
        self.timezone = timezone
        self.clock = clock
        self.ops = tuple(ops)
        self.schedule = tuple(schedule)
        self.breaker = breaker or BreakerPolicy()
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # who we are when holding a channel (several dispatchers may share one database)
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    # -- rounds --------------------------------------------------------------------------

    def run_once(self) -> DispatchSummary:
        """Deliver every delivery due now, once per delivery; then return."""
        summary = DispatchSummary()
        now = self.clock()
        due = outbox.due_by_channel(self.store, now)
        for name, n in sorted(due.items()):
            if name not in self.channels:
                summary.skipped += n
                log.warning("channel %s is not configured: %d alert(s) wait in the queue", name, n)
        work = [name for name in self.channels if self._has_work(name, due, now)]
        if len(work) == 1:
            self._drain_safely(work[0], summary)
        elif work:
            with ThreadPoolExecutor(
                max_workers=len(work), thread_name_prefix="newswatch-dispatch"
            ) as pool:
                for future in [pool.submit(self._drain_safely, name, summary) for name in work]:
                    future.result()
        return summary

    def run_forever(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Run rounds until ``stop`` is set; a claimed delivery is never lost (its lease
        just expires)."""
        self._stop = stop
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("dispatch round failed; trying again in %g s", poll)
            stop.wait(poll)

    def _has_work(self, name: str, due: Mapping[str, int], now: datetime) -> bool:
        return bool(due.get(name))

    def _held_schedules(self) -> dict[str, str]:
        return {w: s for w, s in self.schedules.items() if s != "immediate"}

    # -- one channel ---------------------------------------------------------------------

    def _drain_safely(self, name: str, summary: DispatchSummary) -> None:
        """One channel's round; whatever goes wrong there (a locked database, a bug) is
        reported under its name and never stops the other channels. Its claimed rows are
        not lost: their leases expire."""
        try:
            self._drain(name, summary)
        except Exception as exc:
            log.exception("channel %s: dispatch round failed", name)
            with self._lock:
                summary.errors.append(
                    f"channel {name}: dispatch round failed ({type(exc).__name__}); "
                    "its alerts stay queued"
                )

    def _drain(self, name: str, summary: DispatchSummary) -> None:
        now = self.clock()
        if not channel_state.acquire_channel(self.store, name, self.owner, now, self.lease):
            waiting = outbox.due_by_channel(self.store, now).get(name, 0)
            with self._lock:
                summary.skipped += waiting
            log.info("channel %s is being served by another dispatcher", name)
            return
        try:
            self._drain_owned(name, summary)
        finally:
            channel_state.release_channel(self.store, name, self.owner)

    def _drain_owned(self, name: str, summary: DispatchSummary) -> None:
        channel = self.channels[name]
        tried: set[str] = set()
        now = self.clock()
        form_scheduled_digests(self.store, name, self._held_schedules(), self.timezone, now)
        form_burst_digests(self.store, name, channel.burst, self.held, now)
        while not self._stop.is_set():
            now = self.clock()
            limit = self._allowed(name, channel, now, summary)
            if limit == 0 or not channel_state.acquire_channel(
                self.store, name, self.owner, now, self.lease
            ):
                return
            jobs = outbox.claim(
                self.store, name, limit, now, self.lease, exclude=tried, held=self.held
            )
            if name in self._buckets and len(jobs) < limit:
                self._buckets[name].give_back(limit - len(jobs))
            if not jobs:
                return
            if len(jobs) == 1:
                outcomes = [self._send(channel, jobs[0])]
            else:
                with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                    outcomes = list(pool.map(lambda j: self._send(channel, j), jobs))
            for outcome in outcomes:
                self._record(name, outcome, summary)

    def _allowed(self, name: str, channel: Channel, now: datetime, summary: DispatchSummary) -> int:
        """How many sends may start now on this channel (0: stop for this round)."""
        state = channel_state.channel_states(self.store).get(name, {})
        reason = ""
        if state.get("disabled_at"):
            reason = f"disabled ({state.get('disabled_reason')})"
        elif state.get("paused_until") and state["paused_until"] > now:
            reason = "paused by the receiver (Retry-After)"
        elif state.get("open_until") and state["open_until"] > now:
            reason = "circuit breaker open"
        limit = channel.max_in_flight
        if not reason and state.get("failures", 0) >= self.breaker.threshold:
            limit = 1  # half-open: one probe
        if not reason and channel.rate is not None:
            bucket = self._buckets.setdefault(name, TokenBucket(channel.rate, now))
            limit = bucket.take(limit, now)
            if limit == 0:
                reason = "rate limit"
        if reason:
            waiting = outbox.due_by_channel(self.store, now).get(name, 0)
            with self._lock:
                summary.skipped += waiting
            if waiting:
                log.info("channel %s: %s; %d alert(s) wait", name, reason, waiting)
            return 0
        return limit

    def _send(self, channel: Channel, job: outbox.Job) -> _Outcome:
        started = self.clock()
        try:
            message = outbox.load_message(self.store, job, self.timezone, channel.language)
            return _Outcome(job, started, answer=channel.send(message))
        except DeliveryError as exc:
            return _Outcome(job, started, error=exc)
        except Exception as exc:  # a bug in a channel must not stop the others
            log.exception("channel %s crashed while sending %s", channel.name, job.message_id)
            return _Outcome(
                job,
                started,
                error=DeliveryError(
                    f"internal error in the {channel.kind} channel ({type(exc).__name__})"
                ),
            )

    # -- outcomes ------------------------------------------------------------------------

    def _record(self, name: str, outcome: _Outcome, summary: DispatchSummary) -> None:
        job, now = outcome.job, self.clock()
        error = outcome.error
        n = len(job.ids)
        if error is None:
            outbox.finish(
                self.store,
                job,
                outcome="delivered",
                now=now,
                started=outcome.started,
                detail=scrub(outcome.answer),
            )
            channel_state.update_channel(
                self.store, name, failures=0, cooldown=0, open_until=None, last_success_at=now
            )
            with self._lock:
                summary.sent += n
            return
        text = scrub(str(error))
        if isinstance(error, PermanentDeliveryError):
            self._dead(name, job, now, outcome.started, error.status, text, summary)
            if error.disable_channel:
                self._disable(name, text, now)
            return
        attempts = job.attempts + 1
        if attempts >= len(self.schedule):
            self._dead(
                name,
                job,
                now,
                outcome.started,
                error.status,
                f"{text}; gave up after {attempts} attempts",
                summary,
            )
        else:
            delay = self._delay(attempts, error.retry_after)
            outbox.finish(
                self.store,
                job,
                outcome="retrying",
                now=now,
                started=outcome.started,
                next_attempt=now + timedelta(seconds=delay),
                status=error.status,
                detail=text,
            )
            with self._lock:
                summary.failed += n
                summary.errors.append(f"channel {name}: {text}, retry in {human_delay(delay)}")
            log.warning(
                "channel %s: %s (%s), retry in %s", name, text, job.message_id, human_delay(delay)
            )
        self._trip(name, now, error, text)

    def _delay(self, attempts: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), max(self.schedule))
        base = self.schedule[attempts]
        return base * self._rng.uniform(1 - self.jitter, 1 + self.jitter)

    def _dead(
        self,
        name: str,
        job: outbox.Job,
        now: datetime,
        started: datetime,
        status: int | None,
        text: str,
        summary: DispatchSummary,
    ) -> None:
        outbox.finish(
            self.store, job, outcome="dead", now=now, started=started, status=status, detail=text
        )
        with self._lock:
            summary.dead += len(job.ids)
            summary.errors.append(
                f"channel {name}: {text}; marked dead (`newswatch alerts retry` re-queues it)"
            )
        log.error("channel %s: %s (%s) -- dead", name, text, job.message_id)

    def _trip(self, name: str, now: datetime, error: DeliveryError, text: str) -> None:
        """Count a failure on the breaker; honour a channel-wide Retry-After pause."""
        state = channel_state.channel_states(self.store).get(name, {})
        values = self.breaker.after_failure(state, now, error.status, error.retry_after)
        values["last_error"] = text[:500]
        if values["failures"] == self.breaker.threshold:
            self._notify_ops(
                f"channel-breaker:{name}:{now.isoformat()}",
                f"Channel {name} is failing",
                f"{values['failures']} deliveries in a row failed ({text}). newswatch pauses "
                f"the channel and probes it again in {human_delay(values['cooldown'] / 1000)}; "
                "alerts wait in the queue.",
                exclude=name,
                now=now,
            )
        channel_state.update_channel(self.store, name, **values)

    def _disable(self, name: str, text: str, now: datetime) -> None:
        channel_state.update_channel(self.store, name, disabled_at=now, disabled_reason=text[:500])
        self._notify_ops(
            f"channel-disabled:{name}:{now.isoformat()}",
            f"Channel {name} disabled",
            f"{text}. Its alerts wait in the queue; fix the channel, then run "
            f"`newswatch alerts retry` to re-enable it.",
            exclude=name,
            now=now,
        )

    def _notify_ops(self, key: str, title: str, text: str, *, exclude: str, now: datetime) -> None:
        targets = [c for c in self.ops if c != exclude]
        if targets:
            outbox.enqueue_notice(self.store, key, title, text, targets, now)


# -- helpers for the CLI and the service ----------------------------------------------------


def enqueue_notice(store: Store, key: str, title: str, text: str, channels: Sequence[str]) -> bool:
    """Operator alarm (a source went stale / recovered): one delivery per channel,
    idempotent on ``key`` (same key twice = queued once). Sent by the same Dispatcher as
    ``"type": "newswatch.notice"`` for webhooks, a plain email, a chat text."""
    return outbox.enqueue_notice(store, key, title, text, channels, utcnow())


def send_test_alert(channel: Channel) -> str:
    """Send a sample Vietnamese alert through one channel; returns what the receiver
    answered. Raises :class:`DeliveryError` whose message names the channel."""
    try:
        return channel.send(sample_message(channel.language))
    except PermanentDeliveryError as exc:
        raise PermanentDeliveryError(
            f"channel {channel.name}: {scrub(str(exc))}",
            status=exc.status,
            disable_channel=exc.disable_channel,
        ) from None
    except DeliveryError as exc:
        raise DeliveryError(
            f"channel {channel.name}: {scrub(str(exc))}",
            status=exc.status,
            retry_after=exc.retry_after,
        ) from None
