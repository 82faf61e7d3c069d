"""newswatch processing: text, matching, cleaning, storage and delivery.

Importable without Scrapy running; the crawler reaches these modules through dotted
paths in its settings.
"""
