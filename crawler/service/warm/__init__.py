"""Warm crawl workers: long-lived processes that keep Scrapy's reactor up and run many
sources' polls side by side, so a poll costs its requests, not a Python and Scrapy start.

* :mod:`.worker` — the worker process (``python -m crawler.service.warm.worker``): reads
  poll orders as JSON lines on stdin, answers each with the poll's summary on stdout;
* :mod:`.poll` — one poll inside a running worker: the crawl, its timeout, its record;
* :mod:`.politeness` — per-host pacing across all the polls of one worker;
* :mod:`.pool` — the service's side: starts workers, spreads polls over them, kills a wedged
  one, replaces crashed ones and runs their unfinished polls again, recycles them after N
  polls or above a memory limit.

It sits with the service: it may import the Scrapy side of :mod:`crawler` and all of
:mod:`pipelines`; the rest of the service reaches it only through :mod:`.pool`.
"""
