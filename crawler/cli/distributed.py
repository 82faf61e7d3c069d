"""Distributed mode: ``worker`` and ``scheduler`` (Celery; ``NEWSWATCH_BROKER_URL``).

``dispatch --forever`` (in :mod:`crawler.cli.operate`) completes the set: run it on any
number of machines.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket

from crawler.cli.common import command, config_of, store_of

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = command(
        sub,
        "worker",
        cmd_worker,
        "poll sources as the broker hands them out (distributed mode)",
        "Consume poll tasks from NEWSWATCH_BROKER_URL and run them in this machine's warm "
        "crawl workers.",
    )
    w.add_argument(
        "--concurrency",
        type=int,
        default=32,
        metavar="N",
        help="poll tasks taken at once (default 32); NEWSWATCH_CRAWL_WORKERS sets the processes",
    )
    command(
        sub,
        "scheduler",
        cmd_scheduler,
        "enqueue due polls (distributed mode; one of several leads)",
        "Enqueue each source's poll on NEWSWATCH_BROKER_URL when it is due; several may run, "
        "only the one holding the leader lease enqueues.",
    )


def _database_to_children(args: argparse.Namespace) -> None:
    # The warm workers get the database through the environment, never on their command
    # line, where ps would show its password.
    if args.database:
        os.environ["NEWSWATCH_DATABASE_URL"] = args.database


def cmd_worker(args: argparse.Namespace) -> int:
    from crawler.distributed.app import broker_url, make_app, queue_name
    from crawler.distributed.runner import PollRunner
    from crawler.service.warm.pool import PoolOptions

    broker, queue = broker_url(), queue_name()
    config_of(args)  # a bad configuration stops here, with every problem listed
    if args.concurrency < 1:
        print("newswatch: --concurrency must be at least 1")
        return 2
    _database_to_children(args)
    store = store_of(args)
    runner = PollRunner(
        args.config, args.data, store, PoolOptions.from_env(), verbosity=args.verbosity
    )

    def poll(source: str) -> None:
        runner.poll(source)

    app = make_app(broker, queue, poll)
    level = "DEBUG" if args.verbosity > 0 else "WARNING" if args.verbosity < 0 else "INFO"
    try:
        app.worker_main(
            [
                "worker", "--pool=threads", f"--concurrency={args.concurrency}", "-Q", queue,
                "--without-gossip", "--without-mingle", f"--loglevel={level}",
                f"--hostname=newswatch-{os.getpid()}@{socket.gethostname()}",
            ]
        )  # fmt: skip
    finally:
        logging.getLogger(__name__).info("stopping the warm crawl workers")
        runner.stop(5.0)
        store.close()
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from crawler.distributed.app import broker_url, queue_name
    from crawler.distributed.scheduler import run_scheduler

    broker, queue = broker_url(), queue_name()
    config_of(args)
    store = store_of(args)
    try:
        return run_scheduler(args.config, args.data, store, broker, queue)
    finally:
        store.close()
