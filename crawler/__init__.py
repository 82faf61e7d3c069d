"""newswatch: the runnable app (CLI, service) and everything Scrapy-facing."""
