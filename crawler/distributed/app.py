"""The Celery application: broker, queue, late acknowledgement, and the poll task.

Why these settings: a poll task is acknowledged only after it ran (``task_acks_late``), and
given back to the broker when the worker running it dies (``task_reject_on_worker_lost``),
so a ``kill -9`` loses no poll; a worker takes one task per free thread at a time
(``worker_prefetch_multiplier=1``), so polls do not wait behind a busy machine; results are
not kept (everything is in the store). With Redis as the broker an unacknowledged task comes
back after ``visibility_timeout``; RabbitMQ gives it back as soon as the worker's connection
drops, which is why RabbitMQ is the broker deploy/README.md recommends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from pipelines.errors import NewswatchError

__all__ = ["POLL_TASK", "BrokerNotSet", "broker_url", "make_app", "queue_name"]

POLL_TASK = "newswatch.poll"
DEFAULT_QUEUE = "newswatch.polls"
# Redis only: how long an unacknowledged poll stays with a worker before it is handed to
# another (longer than any poll's timeout, or a slow poll would run twice).
VISIBILITY_TIMEOUT = 3600


class BrokerNotSet(NewswatchError):
    """The distributed commands need a broker URL."""

    exit_code = 2


def broker_url(env: Mapping[str, str] | None = None) -> str:
    """``NEWSWATCH_BROKER_URL``, or a clear error saying how to set it."""
    url = (os.environ if env is None else env).get("NEWSWATCH_BROKER_URL", "").strip()
    if not url:
        raise BrokerNotSet(
            "NEWSWATCH_BROKER_URL is not set: the distributed mode needs a broker, e.g. "
            "amqp://guest:guest@127.0.0.1:5672// (RabbitMQ) or redis://127.0.0.1:6379/0"
        )
    return url


def queue_name(env: Mapping[str, str] | None = None) -> str:
    """The queue of poll tasks (``NEWSWATCH_QUEUE``; one per installation on a shared broker)."""
    return (os.environ if env is None else env).get("NEWSWATCH_QUEUE", DEFAULT_QUEUE)


def make_app(broker: str, queue: str, poll: Callable[[str], Any] | None = None) -> Any:
    """The Celery app; ``poll`` (in ``newswatch worker``) is what the task runs."""
    from celery import Celery

    app = Celery("newswatch", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=queue,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
    )
    if poll is not None:
        app.task(name=POLL_TASK, ignore_result=True)(poll)
    return app
