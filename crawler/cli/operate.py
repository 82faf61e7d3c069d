"""Commands that run the pipeline: ``run``, ``crawl``, ``dispatch``, ``status``, ``demo``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from crawler.cli.common import command, config_of, store_of

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    c = command(
        sub,
        "crawl",
        cmd_crawl,
        "one crawl round now",
        "Crawl every source (or the named ones) once.",
    )
    c.add_argument(
        "--source", action="append", metavar="NAME", help="only this source (repeatable)"
    )
    c.add_argument("--json", action="store_true", help="print JSON summary lines")
    p = command(sub, "dispatch", cmd_dispatch, "deliver every due alert once, then exit")
    p.add_argument(
        "--forever",
        action="store_true",
        help="keep delivering until SIGTERM (distributed mode: on any number of machines)",
    )
    r = command(sub, "run", cmd_run, "the service, until SIGTERM/SIGINT")
    r.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve the web interface, /api/v1, /healthz and /metrics here (e.g. "
        "127.0.0.1:9410; another address than loopback needs NEWSWATCH_WEB_TOKEN)",
    )
    r.add_argument("--log-format", choices=["text", "json"], default="text")
    s = command(sub, "status", cmd_status, "sources, last runs, errors, alert queue")
    s.add_argument("--json", action="store_true")
    d = command(sub, "demo", cmd_demo, "the whole pipeline offline, on a bundled local site")
    d.add_argument("--keep", action="store_true", help="keep the demo's temporary folder")
    d.add_argument(
        "--language", choices=("vi", "en"), default="vi", help="of the alert texts (default vi)"
    )


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.crawl import crawl_in_process, summary_json
    from crawler.service.rounds import crawl_in_children

    config = config_of(args)
    store = store_of(args)
    try:
        names = args.source or [s.name for s in config.sources if s.enabled]
        try:
            chosen = [config.source(n) for n in names]
        except KeyError as exc:
            print(f"newswatch: {exc.args[0]}", file=sys.stderr)
            return 2
        if len(chosen) == 1:
            level = "DEBUG" if args.verbosity > 1 else "WARNING"
            summaries = [crawl_in_process(config, chosen[0], store, log_level=level)]
        else:
            summaries = crawl_in_children(config, chosen, store, verbosity=args.verbosity)
    finally:
        store.close()
    for summary in summaries:
        print(summary_json(summary) if args.json else summary.line(), flush=True)
    if any(s.status == "stopped" for s in summaries):
        return 130  # interrupted (Ctrl-C, SIGTERM): the shells' code for it, not a failure
    return 1 if any(s.status != "ok" for s in summaries) else 0


def cmd_dispatch(args: argparse.Namespace) -> int:
    from pipelines.deliver.dispatch import Dispatcher

    config = config_of(args)
    store = store_of(args)
    if args.forever:
        from crawler.distributed.dispatch import dispatch_forever

        try:
            return dispatch_forever(store, config)
        finally:
            store.close()
    try:
        digests = {w.name: w.digest for w in config.watches}
        summary = Dispatcher(store, config.channels, digests=digests, ops=config.ops).run_once()
    finally:
        store.close()
    for line in summary.errors:
        print(line, file=sys.stderr)
    print(
        f"sent {summary.sent}, failed {summary.failed} (will retry), dead {summary.dead}, "
        f"waiting {summary.skipped}"
    )
    return 1 if summary.failed or summary.dead else 0


def cmd_run(args: argparse.Namespace) -> int:
    from crawler.service.main import run_service

    return run_service(
        args.config,
        args.data,
        http=args.http,
        log_format=args.log_format,
        verbosity=args.verbosity,
        database=args.database,
    )


def cmd_status(args: argparse.Namespace) -> int:
    from crawler.service.status import collect_status, render_status

    config = config_of(args)
    store = store_of(args)
    try:
        text = render_status(config, store, as_json=args.json)
        if os.environ.get("NEWSWATCH_BROKER_URL"):
            text = _with_broker(text, args.json, collect_status(config, store)["sources"])
    finally:
        store.close()
    print(text)
    return 0


def _with_broker(text: str, as_json: bool, sources: list[dict[str, Any]]) -> str:
    """The distributed mode's workers, queue depth and the most overdue sources."""
    import json

    from crawler.distributed.app import broker_url, queue_name
    from crawler.distributed.probe import broker_status

    found = broker_status(broker_url(), queue_name())
    if as_json:
        data = json.loads(text)
        data["distributed"] = found
        return json.dumps(data, ensure_ascii=False, indent=2)
    if "error" in found:
        line = f"broker {found['broker']}: unreachable: {found['error']}"
    else:
        workers = ", ".join(found["workers"]) or "none answering"
        line = (
            f"broker {found['broker']}, queue {found['queue']}: {found['queue_depth']} polls "
            f"waiting; workers: {workers}"
        )
    late = sorted((s for s in sources if s.get("lag")), key=lambda s: -s["lag"])[:5]
    if late:
        line += "\nmost overdue: " + ", ".join(f"{s['name']} {s['lag']:.0f} s" for s in late)
    return f"{text}\n\n{line}"


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.demo.run import run_demo

    return run_demo(keep=args.keep, verbosity=args.verbosity, language=args.language)
