"""Per-channel state kept in the store: disabled, circuit breaker, pauses, ownership.

In the store (not in memory) so that a restart does not hammer a receiver that was down,
forget that a channel was disabled by a 410, or let two dispatcher processes serve one
channel at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from pipelines.store.database import Store
from pipelines.store.schema import channel_leases, channel_state

__all__ = ["acquire_channel", "channel_states", "release_channel", "update_channel"]


def channel_states(store: Store) -> dict[str, dict[str, Any]]:
    with store.engine.connect() as conn:
        return {row["channel"]: dict(row) for row in conn.execute(select(channel_state)).mappings()}


def update_channel(store: Store, channel: str, **values: Any) -> None:
    """Upsert one channel's state row."""
    with store.begin() as conn:
        done = conn.execute(
            update(channel_state).where(channel_state.c.channel == channel).values(**values)
        ).rowcount
        if not done:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(channel_state).values(
                            **{"channel": channel, "failures": 0, "cooldown": 0, **values}
                        )
                    )
            except IntegrityError:
                conn.execute(
                    update(channel_state).where(channel_state.c.channel == channel).values(**values)
                )


def acquire_channel(store: Store, channel: str, owner: str, now: datetime, lease: float) -> bool:
    """Take (or renew) the channel for ``owner`` until ``now + lease``; False if another
    dispatcher holds it. A crashed owner's hold simply expires."""
    until = now + timedelta(seconds=lease)
    with store.begin() as conn:
        taken = conn.execute(
            update(channel_leases)
            .where(
                channel_leases.c.channel == channel,
                or_(channel_leases.c.owner == owner, channel_leases.c.until <= now),
            )
            .values(owner=owner, until=until)
        ).rowcount
        if taken:
            return True
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(channel_leases).values(channel=channel, owner=owner, until=until)
                )
        except IntegrityError:
            return False
    return True


def release_channel(store: Store, channel: str, owner: str) -> None:
    with store.begin() as conn:
        conn.execute(
            delete(channel_leases).where(
                channel_leases.c.channel == channel, channel_leases.c.owner == owner
            )
        )
