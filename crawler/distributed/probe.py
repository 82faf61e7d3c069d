"""What ``newswatch status`` shows of the distributed mode: the workers that answer, and the
depth of the poll queue, asked of the broker (``NEWSWATCH_BROKER_URL``)."""

from __future__ import annotations

from typing import Any

from crawler.distributed.app import make_app
from pipelines.store.engine import without_password

__all__ = ["broker_status"]


def broker_status(broker: str, queue: str, timeout: float = 1.0) -> dict[str, Any]:
    """``{"broker", "queue", "workers", "queue_depth"}``, or ``{"broker", "error"}``."""
    shown = without_password(broker)
    app: Any = make_app(broker, queue)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
            depth = int(conn.SimpleQueue(queue).qsize())
        replies = app.control.ping(timeout=timeout) or []
        workers = sorted(name for reply in replies for name in reply)
    except Exception as exc:
        return {"broker": shown, "queue": queue, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        app.close()
    return {"broker": shown, "queue": queue, "workers": workers, "queue_depth": depth}
