"""The web interface and the JSON API (``newswatch web``, ``newswatch run --http``).

One ASGI app (FastAPI, Jinja2 templates rendered on the server, no JavaScript) run by
uvicorn: the pages (alerts, article, search, sources, watches with a tester, deliveries),
``/api/v1`` with its OpenAPI schema, and ``/healthz`` + ``/metrics``. Templates and the
stylesheet ship in the package (no build step, no CDN).

It reads the store (:mod:`pipelines.store`), the configuration (:mod:`crawler.config`) and
the matcher; the service and the CLI build it and hand it what only they know (health
checks, the metrics registry, secret redaction). It never imports :mod:`crawler.service`.
"""
