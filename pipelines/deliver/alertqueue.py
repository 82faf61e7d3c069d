"""The alert queue as people see it: ``newswatch alerts``, ``alerts retry``, ``status``.

Read-mostly views over the outbox (deliveries and operator notices). Deliveries for a
channel that is not configured are listed like any other: they wait, they are not lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from pipelines.store.database import Store
from pipelines.store.schema import (
    alerts,
    articles,
    channel_state,
    deliveries,
    digest_members,
    digests,
    notice_deliveries,
    notices,
    utcnow,
)

__all__ = [
    "format_deliveries",
    "list_deliveries",
    "queue_counts",
    "retry_dead",
    "retry_delivery",
]

STATUSES = ("pending", "retrying", "dead", "delivered")


def list_deliveries(
    store: Store, statuses: Sequence[str] = ("pending", "retrying", "dead")
) -> list[dict[str, Any]]:
    """Deliveries and notices in these statuses, oldest first, one dict per row."""
    wanted = list(statuses)
    with store.engine.connect() as conn:
        rows = (
            conn.execute(
                select(
                    deliveries.c.id,
                    deliveries.c.channel,
                    deliveries.c.status,
                    deliveries.c.attempts,
                    deliveries.c.next_attempt,
                    deliveries.c.lease_until,
                    deliveries.c.last_error,
                    deliveries.c.message_id,
                    deliveries.c.created_at,
                    alerts.c.watch,
                    articles.c.title,
                    articles.c.url,
                    digests.c.message_id.label("digest"),
                )
                .join(alerts, alerts.c.id == deliveries.c.alert_id)
                .join(articles, articles.c.id == alerts.c.article_id)
                .outerjoin(digest_members, digest_members.c.delivery_id == deliveries.c.id)
                .outerjoin(digests, digests.c.id == digest_members.c.digest_id)
                .where(deliveries.c.status.in_(wanted))
            )
            .mappings()
            .all()
        )
        notice_rows = (
            conn.execute(
                select(
                    notice_deliveries.c.id,
                    notice_deliveries.c.channel,
                    notice_deliveries.c.status,
                    notice_deliveries.c.attempts,
                    notice_deliveries.c.next_attempt,
                    notice_deliveries.c.lease_until,
                    notice_deliveries.c.last_error,
                    notice_deliveries.c.message_id,
                    notice_deliveries.c.created_at,
                    notices.c.title,
                    notices.c.key,
                )
                .join(notices, notices.c.id == notice_deliveries.c.notice_id)
                .where(notice_deliveries.c.status.in_(wanted))
            )
            .mappings()
            .all()
        )
    out = [{"kind": "alert", **dict(r)} for r in rows]
    out += [
        {"kind": "notice", "watch": "", "url": "", "digest": None, **dict(r)} for r in notice_rows
    ]
    out.sort(key=lambda r: (r["created_at"], r["id"]))
    return out


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def format_deliveries(rows: list[dict[str, Any]]) -> str:
    """A plain table for the terminal; one line per delivery."""
    if not rows:
        return "no deliveries waiting"
    header = f"{'STATUS':<9} {'CHANNEL':<14} {'TRIES':>5}  {'NEXT ATTEMPT':<19}  WHAT"
    lines = [header]
    for row in rows:
        what = row["title"] if row["kind"] == "notice" else f"[{row['watch']}] {row['title']}"
        what = " ".join(str(what).split())
        if len(what) > 70:
            what = what[:69] + "…"
        lines.append(
            f"{row['status']:<9} {row['channel']:<14} {row['attempts']:>5}  "
            f"{_when(row['next_attempt'] if row['status'] != 'dead' else None):<19}  "
            f"{what}"
        )
        if row.get("digest"):
            lines.append(f"{'':<9} {'':<14} {'':>5}  {'':<19}  in digest {row['digest']}")
        if row.get("last_error"):
            lines.append(f"{'':<9} {'':<14} {'':>5}  {'':<19}  last error: {row['last_error']}")
    return "\n".join(lines)


def retry_dead(store: Store, channel: str | None = None) -> int:
    """Re-queue dead deliveries (all channels, or one) for an immediate attempt.

    The retry schedule starts over, and the channels concerned are re-enabled (a 410
    disabled them; re-queueing says the receiver was fixed) with a closed breaker.
    Returns how many rows were re-queued.
    """
    now = utcnow()
    total = 0
    with store.begin() as conn:
        touched: set[str] = set()
        for table in (deliveries, notice_deliveries):
            cond = [table.c.status == "dead"]
            if channel is not None:
                cond.append(table.c.channel == channel)
            touched.update(conn.execute(select(table.c.channel).where(*cond).distinct()).scalars())
            total += conn.execute(
                update(table)
                .where(*cond)
                .values(status="pending", attempts=0, next_attempt=now, lease_until=None)
            ).rowcount
        if channel is not None:
            touched.add(channel)
        _reenable(conn, touched)
    return total


def retry_delivery(store: Store, delivery_id: int) -> str | None:
    """Re-queue one dead alert delivery, as :func:`retry_dead` does for many (its channel
    is re-enabled); returns its channel, or None when no dead delivery has that id."""
    with store.begin() as conn:
        cond = [deliveries.c.id == delivery_id, deliveries.c.status == "dead"]
        channel = conn.execute(select(deliveries.c.channel).where(*cond)).scalar()
        if channel is None:
            return None
        conn.execute(
            update(deliveries)
            .where(*cond)
            .values(status="pending", attempts=0, next_attempt=utcnow(), lease_until=None)
        )
        _reenable(conn, {channel})
    return str(channel)


def _reenable(conn: Connection, channels: set[str]) -> None:
    if channels:
        conn.execute(
            update(channel_state)
            .where(channel_state.c.channel.in_(channels))
            .values(
                disabled_at=None,
                disabled_reason=None,
                failures=0,
                cooldown=0,
                open_until=None,
                paused_until=None,
            )
        )


def queue_counts(store: Store) -> dict[str, dict[str, Any]]:
    """Per channel: counts of pending, retrying, dead and delivered rows, plus
    ``last_success`` (aware datetime or None), ``disabled`` (reason or None) and
    ``breaker_open_until`` (datetime or None)."""
    counts: dict[str, dict[str, Any]] = {}

    def entry(name: str) -> dict[str, Any]:
        return counts.setdefault(
            name,
            {
                **dict.fromkeys(STATUSES, 0),
                "last_success": None,
                "disabled": None,
                "breaker_open_until": None,
            },
        )

    with store.engine.connect() as conn:
        for table in (deliveries, notice_deliveries):
            for name, status, n in conn.execute(
                select(table.c.channel, table.c.status, func.count()).group_by(
                    table.c.channel, table.c.status
                )
            ):
                if status in STATUSES:
                    entry(name)[status] += int(n)
        for state in conn.execute(select(channel_state)).mappings():
            row = entry(state["channel"])
            row["last_success"] = state["last_success_at"]
            row["disabled"] = state["disabled_reason"] if state["disabled_at"] else None
            if state["open_until"] and state["open_until"] > utcnow():
                row["breaker_open_until"] = state["open_until"]
    return counts
