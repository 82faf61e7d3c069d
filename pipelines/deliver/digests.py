"""Digests: several alerts of one channel sent as one message with one stable id.

Two ways in: a watch set to ``digest: hourly`` or ``daily@HH:MM`` (its alerts are held until
the boundary, in the dispatcher's time zone, then sent together), and a *burst* (more than
the channel's ``burst`` fresh alerts due at once). Membership is written to the store
before the first send, so every retry, and a resend after a crash, carries the same id,
derived from the ids of the alerts inside (:func:`digest_id_for`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from pipelines.deliver.outbox import lease_free
from pipelines.store.database import Store
from pipelines.store.schema import alerts, deliveries, digest_members, digests

__all__ = [
    "MAX_DIGEST",
    "check_digest",
    "digest_id_for",
    "form_burst_digests",
    "form_scheduled_digests",
    "next_boundary",
]

MAX_DIGEST = 50


def check_digest(spec: str | None) -> str:
    """Validate ``immediate | hourly | daily@HH:MM`` (None: immediate); returns it normalised."""
    spec = (spec or "immediate").strip()
    if spec in ("immediate", "hourly"):
        return spec
    found = re.fullmatch(r"daily@([01]?\d|2[0-3]):([0-5]\d)", spec)
    if not found:
        raise ValueError(f"digest must be immediate, hourly or daily@HH:MM, got {spec!r}")
    return f"daily@{int(found.group(1)):02d}:{found.group(2)}"


def digest_id_for(message_ids: Iterable[str]) -> str:
    """A digest's stable id: derived from the ids of the alerts it contains."""
    joined = "\n".join(sorted(message_ids))
    return "nwd_" + hashlib.sha256(joined.encode()).hexdigest()[:32]


def next_boundary(created: datetime, schedule: str, timezone: str) -> datetime:
    """When the digest holding an alert created at ``created`` is due (aware UTC)."""
    zone = ZoneInfo(timezone)
    local = created.astimezone(zone)
    if schedule == "hourly":
        boundary = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    else:
        hour, minute = (int(p) for p in schedule.partition("@")[2].split(":"))
        boundary = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if boundary <= local:
            boundary = (boundary.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
    return boundary.astimezone(created.tzinfo)


def _fresh(channel: str, now: datetime) -> Any:
    """Due, never tried, not yet in a digest."""
    return and_(
        deliveries.c.channel == channel,
        deliveries.c.status == "pending",
        deliveries.c.attempts == 0,
        deliveries.c.next_attempt <= now,
        lease_free(deliveries, now),
        deliveries.c.id.not_in(select(digest_members.c.delivery_id)),
    )


def form_scheduled_digests(
    store: Store, channel: str, schedules: dict[str, str], timezone: str, now: datetime
) -> int:
    """Hold alerts of hourly/daily watches until their boundary, then group them; returns
    the number of digests formed."""
    if not schedules:
        return 0
    formed = 0
    with store.begin() as conn:
        rows = conn.execute(
            select(
                deliveries.c.id, deliveries.c.message_id, deliveries.c.created_at, alerts.c.watch
            )
            .join(alerts, alerts.c.id == deliveries.c.alert_id)
            .where(_fresh(channel, now), alerts.c.watch.in_(list(schedules)))
            .order_by(deliveries.c.id)
        ).all()
    by_watch: dict[str, list[Any]] = {}
    for row in rows:
        by_watch.setdefault(row.watch, []).append(row)
    for watch, group in by_watch.items():
        schedule = schedules[watch]
        boundary = next_boundary(min(r.created_at for r in group), schedule, timezone)
        ids = [r.id for r in group]
        if boundary <= now:
            for start in range(0, len(group), MAX_DIGEST):
                chunk = group[start : start + MAX_DIGEST]
                formed += _form(
                    store, channel, schedule, [(r.id, r.message_id) for r in chunk], now
                )
        else:
            with store.begin() as conn:
                conn.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_(ids), lease_free(deliveries, now))
                    .values(next_attempt=boundary)
                )
    return formed


def form_burst_digests(
    store: Store, channel: str, burst: int, held: Iterable[str], now: datetime
) -> int:
    """More than ``burst`` fresh alerts due on one channel: group them into digests."""
    if burst <= 0:
        return 0
    held = list(held)
    with store.engine.connect() as conn:
        query = (
            select(deliveries.c.id, deliveries.c.message_id)
            .join(alerts, alerts.c.id == deliveries.c.alert_id)
            .where(_fresh(channel, now))
            .order_by(deliveries.c.id)
        )
        if held:
            query = query.where(alerts.c.watch.not_in(held))
        rows = [(r.id, r.message_id) for r in conn.execute(query)]
    if len(rows) <= burst:
        return 0
    return sum(
        _form(store, channel, "burst", rows[i : i + MAX_DIGEST], now)
        for i in range(0, len(rows), MAX_DIGEST)
    )


def _form(
    store: Store, channel: str, reason: str, members: Sequence[tuple[int, str]], now: datetime
) -> int:
    message_id = digest_id_for(m for _, m in members)
    try:
        with store.begin() as conn:
            digest_id = conn.execute(
                insert(digests).values(
                    message_id=message_id,
                    channel=channel,
                    reason=reason,
                    created_at=now,
                )
            ).inserted_primary_key
            assert digest_id is not None
            conn.execute(
                insert(digest_members),
                [{"delivery_id": d, "digest_id": digest_id[0]} for d, _ in members],
            )
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_([d for d, _ in members]))
                .values(next_attempt=now)
            )
    except IntegrityError:
        return 0  # another dispatcher grouped (some of) them first
    return 1
