"""Many small news sites for bench/scale.py: one process, one port, one loopback address each.

``python bench/_scalesite.py SITES`` binds 127.0.A.B for B in 1..250 (as many as SITES needs)
on one port and prints ``LISTENING PORT``. The site on address 127.0.A.B answers
``/robots.txt``, ``/feed.xml`` (RSS of its articles) and its article pages (the local demo
site's pages with real-CMS-sized boilerplate), each with an ETag, and 304 to a matching
If-None-Match. Control, on any address: ``/_publish?sites=M&each=K`` adds K articles to each
of the first M sites; ``/_stats`` counts the answers by status.

A small asyncio server rather than crawler.demo.localsite: thousands of hosts polled many
times a second, and the server's own cost must stay well below what is measured.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.demo.sitepages import Renderer, SiteArticle  # noqa: E402

PARAGRAPH = (
    "UBND quận Hai Bà Trưng vừa tổ chức hội nghị tổng kết công tác năm, với sự tham dự của "
    "lãnh đạo các phòng ban và đại diện các tổ dân phố trên địa bàn. Các đại biểu thảo luận "
    "về chỉnh trang đô thị, giải phóng mặt bằng và chăm lo đời sống người dân dịp cuối năm."
)


def address(index: int) -> str:
    """The loopback address of site ``index`` (0-based)."""
    return f"127.0.{index // 250}.{index % 250 + 1}"


class Sites:
    def __init__(self, count: int, port: int = 0) -> None:
        self.count = count
        self.port = port
        self.articles: list[list[SiteArticle]] = [[] for _ in range(count)]
        self.cache: dict[tuple[int, str], tuple[bytes, str, bytes]] = {}
        self.stats: Counter[str] = Counter()
        self.next_id = 500000

    def renderer(self, index: int) -> Renderer:
        return Renderer(Path("/nonexistent"), f"http://{address(index)}:{self.port}", heavy=True)

    def publish(self, sites: int, each: int) -> int:
        now = datetime.now(UTC)
        for index in range(min(sites, self.count)):
            for _ in range(each):
                self.next_id += 1
                n = self.next_id
                self.articles[index].insert(
                    0,
                    SiteArticle(
                        id=n,
                        slug=f"tin-so-{n}-cua-trang-{index}",
                        title=f"Tin số {n}: hội nghị ở quận Hai Bà Trưng",
                        sapo=f"Bản tin số {n} của trang {index}.",
                        paragraphs=tuple(f"{PARAGRAPH} (Đoạn {p}.)" for p in range(8)),
                        published=(now - timedelta(seconds=n % 600)).isoformat(),
                    ),
                )
            for key in [k for k in self.cache if k[0] == index]:
                del self.cache[key]
        return sites * each

    def answer(self, index: int, path: str) -> tuple[bytes, str, bytes] | None:
        key = (index, path)
        if key not in self.cache:
            rendered = self._render(index, path)
            if rendered is None:
                return None
            ctype, body = rendered
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            self.cache[key] = (ctype.encode(), etag, body)
        return self.cache[key]

    def _render(self, index: int, path: str) -> tuple[str, bytes] | None:
        renderer = self.renderer(index)
        arts = self.articles[index]
        if path == "/robots.txt":
            return "text/plain", b"User-agent: *\nDisallow: /admin/\n"
        if path == "/feed.xml":
            return "application/rss+xml; charset=utf-8", renderer.feed(arts).encode()
        for i, art in enumerate(arts):
            if art.path == path:
                page = renderer.article_page(art, arts[:i] + arts[i + 1 :])
                return "text/html; charset=utf-8", page.encode()
        return None


async def handle(sites: Sites, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    host = writer.get_extra_info("sockname")[0]
    parts = host.split(".")
    index = int(parts[2]) * 250 + int(parts[3]) - 1
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            url = urlsplit(target)
            status, ctype, body, etag = 404, b"text/plain", b"not found", ""
            if url.path == "/_publish":
                query = parse_qs(url.query)
                count = sites.publish(int(query["sites"][0]), int(query["each"][0]))
                status, ctype, body = 200, b"application/json", json.dumps(count).encode()
            elif url.path == "/_stats":
                status, ctype = 200, b"application/json"
                body = json.dumps(dict(sites.stats)).encode()
            else:
                found = sites.answer(index, url.path)
                if found is not None:
                    ctype, etag, body = found
                    status = 304 if headers.get("if-none-match") == etag else 200
                    if status == 304:
                        body = b""
            sites.stats[str(status)] += 1
            reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
            out = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
            if status != 304:
                out.append("Content-Type: " + ctype.decode())
            if etag:
                out.append(f"ETag: {etag}")
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def serve(count: int) -> None:
    sites = Sites(count)
    first = await asyncio.start_server(lambda r, w: handle(sites, r, w), address(0), 0)
    sites.port = first.sockets[0].getsockname()[1]
    others = [address(i) for i in range(1, count)]
    servers = [first]
    for start in range(0, len(others), 200):
        servers.append(
            await asyncio.start_server(
                lambda r, w: handle(sites, r, w), others[start : start + 200], sites.port
            )
        )
    print(f"LISTENING {sites.port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
