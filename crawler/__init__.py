"""newswatch's runnable side: the ``newswatch`` CLI and configuration, the Scrapy project
(settings, middlewares, spiders/, the crawl runner), ``service/`` and ``demo/``.

It imports :mod:`pipelines`; :mod:`pipelines` never imports it.
"""
