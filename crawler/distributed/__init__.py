"""Distributed mode on Celery: polls as tasks on a broker, the store shared in PostgreSQL.

* :mod:`.app` — the Celery application (``NEWSWATCH_BROKER_URL``), its settings and the
  one task, ``newswatch.poll(source)``: it carries only the source's name, is acknowledged
  late and is idempotent (all state is in the database);
* :mod:`.runner` — what runs the task in ``newswatch worker``: the warm crawl workers of
  :mod:`crawler.service.warm`, on an event loop of their own;
* :mod:`.scheduler` — ``newswatch scheduler``: enqueues due polls from the store while it
  holds the leader lease (a PostgreSQL advisory lock), so two schedulers never both enqueue.

It sits beside the demo, above the service: it may import :mod:`crawler.service` and
:mod:`pipelines`; nothing below imports it.
"""
