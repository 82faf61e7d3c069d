"""Run a Dispatcher until killed: the crash-safety test starts this and ``kill -9``s it.

    python tests/servers/dispatch_driver.py --db sqlite:///... --data DIR --channels JSON

Uses a short retry schedule, lease and breaker cooldown (passed to the constructor), so
the test finishes in seconds; the code paths are the production ones.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipelines.deliver.channels.registry import build_channel  # noqa: E402
from pipelines.deliver.dispatch import BreakerPolicy, Dispatcher  # noqa: E402
from pipelines.store.database import Store  # noqa: E402

SHORT_SCHEDULE = (0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--channels", required=True, help="JSON: name -> channel mapping")
    parser.add_argument("--lease", type=float, default=0.5)
    args = parser.parse_args()
    channels = {
        name: build_channel(name, mapping, data_dir=args.data)
        for name, mapping in json.loads(args.channels).items()
    }
    store = Store(args.db)
    dispatcher = Dispatcher(
        store,
        channels,
        lease=args.lease,
        schedule=SHORT_SCHEDULE,
        breaker=BreakerPolicy(threshold=5, cooldown=0.2, max_cooldown=1.0),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    try:
        dispatcher.run_forever(stop, poll=0.05)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
