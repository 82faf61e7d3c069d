"""newswatch's processing stages, in the order an article meets them: ``clean/``, ``match/``,
``store/``, ``deliver/``; ``persist`` is the Scrapy item pipeline that joins them.

Importable without Scrapy or Twisted (the crawler reaches ``persist`` through a dotted path
in its settings); it never imports :mod:`crawler`.
"""
