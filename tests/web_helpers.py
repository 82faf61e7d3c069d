"""A web app over a temporary store and configuration, served by uvicorn on 127.0.0.1:0."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from crawler.config import Config, load_config
from crawler.web.app import build_app
from crawler.web.context import WebContext, allowed_hosts
from crawler.web.server import WebServer
from pipelines.store.database import Store

WATCHES = """\
defaults: {notify: [local, hook]}
watches:
  quan-hai-ba-trung:
    label: Quận Hai Bà Trưng
    any: [quận Hai Bà Trưng]
    except_in: [đường Hai Bà Trưng]
  bach-mai:
    label: Phường Bạch Mai
    any: [phường Bạch Mai]
    not: [Người dân]
  hoan-kiem:
    any: [quận Hoàn Kiếm]
"""


def write_config(folder: Path, sources: str = "", watches: str = WATCHES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sources.yaml").write_text(
        sources or "sources:\n  - name: tuoitrethudo\n    home: https://tuoitrethudo.vn/\n",
        encoding="utf-8",
    )
    (folder / "watches.yaml").write_text(watches, encoding="utf-8")
    (folder / "channels.yaml").write_text(
        "channels:\n  local: {kind: file, path: alerts.jsonl}\n"
        "  hook: {kind: webhook, url: 'http://127.0.0.1:9/hook'}\n",
        encoding="utf-8",
    )
    return folder


@contextmanager
def serve(
    config: Config,
    store: Store,
    *,
    token: str | None = None,
    host: str = "127.0.0.1",
    redact: Callable[[str], str] = str,
) -> Iterator[WebServer]:
    context = WebContext(
        store,
        lambda: config,
        token=token,
        redact=redact,
        allowed_hosts=allowed_hosts(host, token),
    )
    server = WebServer(build_app(context), host, 0)
    server.start()
    try:
        yield server
    finally:
        server.close()


def open_store(data: Path) -> Store:
    store = Store.for_data_dir(data)
    store.migrate()
    return store


def config_at(folder: Path, data: Path) -> Config:
    return load_config(folder, data)
