"""Soak benchmark (not a test): does ``newswatch run`` stay flat over hundreds of rounds?

Runs the real service against the local news site (a server subprocess on 127.0.0.1) with
one source polled every second, publishes a matching article every few rounds so rounds do
real work (crawl, clean, match, store, deliver to the ``local`` file channel), and prints the
service process's resident memory and open file descriptors at rounds 10, 100, 200 and 300
(read from /proc, so Linux only). Round 10 is the baseline; the target is memory at the last
round ≤ 1.1 × memory at round 10, and no growth in descriptors.

    python bench/soak.py                  # 300 rounds at a 1 s interval (about 10 minutes)
    python bench/soak.py --rounds 30      # a quick look

Rounds are counted from the service's own /metrics (``newswatch_crawls_total``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.newssite import NewsSite  # noqa: E402

PARAGRAPHS = [
    "UBND quận Hai Bà Trưng vừa họp bàn kế hoạch chỉnh trang các tuyến phố trên địa bàn, "
    "tập trung vào vỉa hè, cây xanh và chiếu sáng công cộng trong quý tới.",
    "Lãnh đạo quận yêu cầu các phường rà soát, báo cáo tiến độ hằng tuần và công khai kết quả "
    "để người dân cùng giám sát.",
]
_CRAWLS = re.compile(r"^newswatch_crawls_total\{[^}]*\} ([0-9.e+]+)$", re.MULTILINE)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc status")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rounds_done(metrics_url: str) -> int:
    with urllib.request.urlopen(metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    return int(sum(float(v) for v in _CRAWLS.findall(text)))


def write_config(folder: Path, site_url: str, interval: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sources.yaml").write_text(
        f"defaults: {{every: {interval:g}s, jitter: 0s, delay: 0s, timeout: 60s}}\n"
        f"sources:\n  - name: soak\n    home: {site_url}\n    feeds: [{site_url}rss/home.rss]\n"
        f"    listings: [{site_url}thoi-su]\n",
        encoding="utf-8",
    )
    (folder / "watches.yaml").write_text(
        "defaults: {notify: [local]}\nwatches:\n"
        "  quan-hai-ba-trung:\n    label: Quận Hai Bà Trưng\n    any: [quận Hai Bà Trưng]\n",
        encoding="utf-8",
    )
    (folder / "channels.yaml").write_text(
        "channels:\n  local: {kind: file, path: alerts.jsonl}\nops: [local]\n", encoding="utf-8"
    )


def wait_for_state(data: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the service exited with status {proc.returncode}")
        try:
            url = json.loads((data / "service.json").read_text()).get("http")
        except (OSError, ValueError):
            url = None
        if url:
            return str(url)
        time.sleep(0.2)
    raise SystemExit("the service did not start its HTTP endpoint")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--publish-every", type=int, default=10, help="rounds between articles")
    args = parser.parse_args()
    marks = sorted({m for m in (10, 100, 200, 300) if m < args.rounds} | {args.rounds})

    with tempfile.TemporaryDirectory(prefix="newswatch-soak-") as tmp, NewsSite() as site:
        config, data = Path(tmp) / "config", Path(tmp) / "var"
        write_config(config, site.url, args.interval)
        site.publish("quan-hai-ba-trung-soak-0", "Quận Hai Bà Trưng chỉnh trang phố", PARAGRAPHS)
        log = (Path(tmp) / "service.log").open("wb")
        argv = [sys.executable, "-m", "crawler.cli", "-q", "--config", str(config),
                "--data", str(data), "run", "--http", "127.0.0.1:0"]  # fmt: skip
        proc = subprocess.Popen(argv, stdout=log, stderr=log, cwd=ROOT)
        started = time.monotonic()
        rows: list[tuple[int, int, int, float]] = []
        try:
            metrics = wait_for_state(data, proc) + "/metrics"
            published, done = 0, 0
            for mark in marks:
                while done < mark:
                    if proc.poll() is not None:
                        raise SystemExit(f"the service exited with status {proc.returncode}")
                    time.sleep(0.25)
                    done = rounds_done(metrics)
                    if done // args.publish_every > published:
                        published += 1
                        site.publish(f"quan-hai-ba-trung-soak-{published}",
                                     f"Quận Hai Bà Trưng chỉnh trang phố, đợt {published}",
                                     PARAGRAPHS)  # fmt: skip
                rows.append((done, rss_kib(proc.pid), open_fds(proc.pid),
                             time.monotonic() - started))  # fmt: skip
                print(
                    f"round {done:4d}: RSS {rows[-1][1] / 1024:7.1f} MiB, "
                    f"{rows[-1][2]:3d} open fds, {rows[-1][3]:6.0f} s",
                    flush=True,
                )
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            log.close()
        alerts = data / "alerts.jsonl"
        delivered = len(alerts.read_text().splitlines()) if alerts.exists() else 0

    base, last = rows[0], rows[-1]
    ratio = last[1] / base[1]
    print(f"\nbaseline (round {base[0]}): {base[1] / 1024:.1f} MiB, {base[2]} fds")
    print(f"last     (round {last[0]}): {last[1] / 1024:.1f} MiB, {last[2]} fds "
          f"-> memory x{ratio:.3f} (target <= 1.100), fds {last[2] - base[2]:+d}")  # fmt: skip
    print(
        f"{published + 1} articles published, {delivered} alerts written; "
        f"service exit status {code} after SIGTERM; "
        f"{(last[3] - base[3]) / max(1, last[0] - base[0]):.2f} s per round"
    )
    ok = ratio <= 1.1 and last[2] <= base[2] + 2 and code == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
