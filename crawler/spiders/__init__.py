"""Scrapy spiders: ``news`` polls one source's feeds, sitemaps and listings for new article
URLs and hands each article page to the item pipeline (:mod:`pipelines.persist`)."""
