"""One round of several sources now (``newswatch crawl``, the demo): each source in its own
supervised child, exactly as the service runs them, without the scheduler."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from crawler.config import Config, SourceConfig
from crawler.crawl import CrawlSummary
from crawler.service.supervisor import Supervisor, crawl_command
from pipelines.store.database import Store

__all__ = ["crawl_in_children"]


def crawl_in_children(
    config: Config,
    sources: Sequence[SourceConfig],
    store: Store,
    *,
    parallel: int = 2,
    verbosity: int = 0,
) -> list[CrawlSummary]:
    """One round of several sources, each in a supervised child; a failure never stops others.

    The same :class:`~crawler.service.supervisor.Supervisor` as the service's: own session, hard
    timeout (TERM, TERM, KILL), and a run recorded even when the child dies silently.
    """

    async def round_() -> list[CrawlSummary]:
        command = crawl_command(config.config_dir, config.data_dir, verbosity=verbosity)
        supervisor = Supervisor(store, command, max_parallel=parallel)
        outcomes = await asyncio.gather(*(supervisor.crawl(s.name, s.timeout) for s in sources))
        return [
            CrawlSummary(
                source=o.source,
                status=o.status,
                new_articles=o.new_articles,
                alerts=o.alerts,
                requests=o.requests,
                fetched=o.fetched,
                errors=o.errors,
                bytes=o.nbytes,
                duration=round(o.duration, 3),
                error=o.error,
                not_modified=None,
                too_old=o.too_old,
                max_age=o.max_age,
            )
            for o in outcomes
            if o is not None
        ]

    return asyncio.run(round_())
