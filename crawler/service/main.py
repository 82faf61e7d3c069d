"""``newswatch run``: start-up of the long-running service.

Sets up logging, reads the ``NEWSWATCH_*`` knobs
(:class:`~crawler.service.core.ServiceOptions`), takes the
instance lock, loads the configuration and opens the store, then runs
:class:`~crawler.service.core.Service` until SIGTERM/SIGINT. A bad configuration is exit 2
before anything starts; a second instance on the same data directory is exit 1.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.service.core import Service, ServiceOptions
from crawler.service.dispatch_thread import default_notify
from crawler.service.instance import AlreadyRunning, InstanceLock
from crawler.service.logs import add_secrets, secrets_from_config, setup_logging
from crawler.service.supervisor import crawl_command
from crawler.service.warm.pool import PoolOptions, WarmPool, worker_command
from crawler.web.context import check_bind
from pipelines.errors import ConfigError, StoreError
from pipelines.store.database import Store

if TYPE_CHECKING:
    from crawler.config import Config

__all__ = ["run_service"]

log = logging.getLogger(__name__)


def run_service(
    config_dir: Path,
    data_dir: Path,
    *,
    http: str | None = None,
    log_format: str = "text",
    verbosity: int = 0,
    database: str | None = None,
) -> int:
    """Run until SIGTERM/SIGINT; the exit status (0 stopped cleanly, 1 failure, 2 bad config).

    ``database`` is a URL (``--database``); the crawl children receive it through the
    environment, never on their command line, where ``ps`` would show its password.
    """
    setup_logging(verbosity, log_format, log_file=data_dir / "logs" / "newswatch.log")
    try:
        options = ServiceOptions.from_env(http=http)
        pool = _pool_options()
        if http is not None:
            check_bind(http, options.web_token)
    except ValueError as exc:  # BindRefused included: one line, nothing started
        log.error("%s", exc)
        return 2
    if database:
        os.environ["NEWSWATCH_DATABASE_URL"] = database
    lock = InstanceLock(data_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        log.error("%s", exc)
        return 1
    try:
        return _run_locked(config_dir, data_dir, options, pool, verbosity)
    finally:
        lock.release()


def _pool_options() -> PoolOptions | None:
    """Warm workers, unless ``NEWSWATCH_CRAWL_WORKERS=0`` asks for one process per poll."""
    if os.environ.get("NEWSWATCH_CRAWL_WORKERS", "").strip() == "0":
        return None
    return PoolOptions.from_env()


def _run_locked(
    config_dir: Path,
    data_dir: Path,
    options: ServiceOptions,
    pool_options: PoolOptions | None,
    verbosity: int,
) -> int:
    from crawler.config import load_config

    def loader() -> Config:
        return load_config(config_dir, data_dir)

    try:
        config = loader()
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("%s", problem.render())
        log.error("not starting: fix the configuration (newswatch check-config shows it)")
        return 2
    for warning in config.warnings:
        log.warning("%s", warning.render())
    add_secrets(secrets_from_config(config_dir))
    try:
        store = Store.open(os.environ.get("NEWSWATCH_DATABASE_URL"), data_dir)
        add_secrets(_password(store))
        store.migrate()
    except StoreError as exc:
        log.error("%s", exc)
        return exc.exit_code
    try:
        pool = None
        if pool_options is not None:
            command = worker_command(config_dir, data_dir, verbosity=verbosity)
            pool = WarmPool(store, command, pool_options)
        service = Service(
            config,
            store,
            loader=loader,
            command=crawl_command(config_dir, data_dir, verbosity=verbosity),
            pool=pool,
            options=options,
            notify=default_notify(),
        )
        return asyncio.run(service.run())
    finally:
        store.close()


def _password(store: Store) -> list[str]:
    """The database password, to be scrubbed from every log line."""
    password = store.engine.url.password
    return [str(password)] if password else []
