"""``newswatch`` — the command line, and the composition root of the app.

Each module of this package holds a few related commands and registers them with
``register(sub)``; a new command is a new function in the module it belongs with (or a new
module listed in :data:`COMMAND_MODULES`), never a branch in :func:`main`.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad configuration. At default
verbosity a failure is one clear line; tracebacks appear only with ``-v``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from crawler.cli import (
    archive,
    common,
    configure,
    db,
    distributed,
    inspect,
    operate,
    queue,
    sources,
    stories,
    web,
)
from crawler.service.logs import setup_logging
from pipelines.errors import ConfigError, NewswatchError

logger = logging.getLogger("newswatch")

__all__ = ["COMMAND_MODULES", "main"]

# In the order their commands appear in ``newswatch --help``.
COMMAND_MODULES: list[ModuleType] = [
    configure,
    operate,
    inspect,
    queue,
    sources,
    archive,
    stories,
    db,
    web,
    distributed,
]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="newswatch",
        description="Watch Vietnamese news sites and alert when an article mentions what "
        "you watch.",
    )
    common.add_global_options(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newswatch`` command."""
    args = _parser().parse_args(argv)
    verbosity = -1 if args.quiet else args.verbose
    args.verbosity = verbosity
    fmt = getattr(args, "log_format", "text")
    setup_logging(verbosity, fmt)
    handler: common.Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        errors = sum(1 for p in exc.problems if p.severity == "error")
        print(f"newswatch: configuration has {errors} error(s)", file=sys.stderr)
        return 2
    except NewswatchError as exc:
        logger.debug("failure", exc_info=True)
        print(f"newswatch: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if verbosity > 0:
            raise
        print(
            f"newswatch: {args.command} failed: {type(exc).__name__}: {exc} "
            "(run with -v for details)",
            file=sys.stderr,
        )
        return 1
