"""The local news site (``crawler.demo.localsite``) as a real server in a subprocess, for tests."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from crawler.demo.localsite import read_request_log
from crawler.demo.sitepages import SiteArticle, write_article

ICT = timezone(timedelta(hours=7))
_ids = itertools.count(100001)


class NewsSite:
    """``with NewsSite() as site: site.publish(...)``; ``site.url`` is ``http://127.0.0.1:PORT/``."""

    def __init__(self, root: Path | None = None, latency: float = 0.0) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="newssite-")
            root = Path(self._tmp.name)
        self.root = root
        self.latency = latency
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> NewsSite:
        (self.root / "articles").mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crawler.demo.localsite",
                str(self.root),
                "--latency",
                str(self.latency),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.startswith("LISTENING "):
            self.stop()
            raise RuntimeError(f"site server did not start: {line!r}")
        self.url = line.split()[1]
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> NewsSite:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def publish(
        self,
        slug: str,
        title: str,
        paragraphs: list[str],
        *,
        sapo: str = "",
        captions: tuple[str, ...] = (),
        section: str = "thoi-su",
        published: datetime | None = None,
        article_id: int | None = None,
    ) -> str:
        """Add an article (feed, sitemap and listings change at once); returns its URL."""
        when = (published or datetime.now(UTC)).astimezone(ICT).replace(microsecond=0)
        art = SiteArticle(
            id=article_id or next(_ids),
            slug=slug,
            title=title,
            sapo=sapo or paragraphs[0][:160],
            paragraphs=tuple(paragraphs),
            published=when.isoformat(),
            section=section,
            captions=captions,
        )
        write_article(self.root, art)
        return self.url.rstrip("/") + art.path

    def fail_next(self, path: str, *statuses: int) -> None:
        """The next requests of ``path`` are answered with these statuses, in order."""
        faults_file = self.root / "faults.json"
        faults = json.loads(faults_file.read_text()) if faults_file.exists() else {}
        faults[path] = list(statuses)
        faults_file.write_text(json.dumps(faults))

    def request_log(self) -> list[dict[str, Any]]:
        """Every request answered so far: path, status, bytes, conditional, ua."""
        return read_request_log(self.root)
