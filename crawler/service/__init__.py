"""The long-running service: scheduling, crawl supervision, the dispatcher thread, alarms,
status, health, metrics and logs.

It may import the Scrapy side of :mod:`crawler` and all of :mod:`pipelines`; the Scrapy side
never imports it.
"""
