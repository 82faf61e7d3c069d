"""Logs: one line per event, the source or channel in context, JSON on request, no secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.service.logs import (
    add_secrets,
    close_logging,
    log_context,
    redact,
    secrets_from_config,
    setup_logging,
)

log = logging.getLogger("newswatch.test")


@pytest.fixture(autouse=True)
def _clean_logging() -> Iterator[None]:
    yield
    close_logging()


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("POST https://bot:hunter22@hooks.example.vn/x failed",
         "POST https://***@hooks.example.vn/x failed"),
        ("GET http://127.0.0.1:9/feed?token=abc123&page=2",
         "GET http://127.0.0.1:9/feed?token=***&page=2"),
        ("https://api.example.vn/send?api_key=s3cr3t", "https://api.example.vn/send?api_key=***"),
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXX gone",
         "https://hooks.slack.com/services/*** gone"),
        ("https://discord.com/api/webhooks/123456/abcDEF-ghi",
         "https://discord.com/api/webhooks/123456/***"),
        ("https://api.telegram.org/bot123456:AAEhBP0av/sendMessage",
         "https://api.telegram.org/bot***/sendMessage"),
        ("https://tuoitrethudo.vn/xa-hoi?page=2", "https://tuoitrethudo.vn/xa-hoi?page=2"),
    ],
)  # fmt: skip
def test_redact_removes_credentials_from_urls(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_secrets_referenced_by_the_config_are_redacted_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "channels.yaml").write_text(
        "channels:\n"
        "  newsroom: {kind: webhook, url: '${NR_URL}', secret: '${NR_SECRET:-}'}\n"
        "  editors: {kind: email, smtp: {host: '${SMTP_HOST}', password: '${SMTP_PASSWORD}'}}\n"
    )
    env = {
        "NR_URL": "http://127.0.0.1:8080/hook/abcdef",
        "NR_SECRET": "whsec_c2VjcmV0LXZhbHVl",
        "SMTP_HOST": "smtp.example.vn",
        "SMTP_PASSWORD": "mật-khẩu-bí-mật",
    }
    found = secrets_from_config(tmp_path, env)
    assert sorted(found) == sorted([env["NR_URL"], env["NR_SECRET"], env["SMTP_PASSWORD"]])
    add_secrets(found)
    setup_logging(0)
    log.warning("login failed with password %s", env["SMTP_PASSWORD"])
    try:
        raise RuntimeError(f"signing with {env['NR_SECRET']} for {env['NR_URL']}")
    except RuntimeError:
        log.exception("send failed")
    out = "\n".join(lines(capsys))
    for secret in (env["NR_URL"], env["NR_SECRET"], env["SMTP_PASSWORD"]):
        assert secret not in out
    assert "login failed with password ***" in out


def test_text_lines_carry_the_source_and_hide_tracebacks_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging(0)
    with log_context(source="hanoimoi"):
        log.info("crawl ok: %d new articles", 3)
        try:
            {}["feed"]
        except KeyError:
            log.exception("round failed")
    log.info("outside", extra={"channel": "newsroom"})
    log.debug("not shown at the default level")
    got = lines(capsys)
    assert len(got) == 3
    assert got[0].endswith("INFO    newswatch.test [source=hanoimoi] crawl ok: 3 new articles")
    assert "[source=hanoimoi] round failed (KeyError: 'feed')" in got[1]
    assert "[channel=newsroom] outside" in got[2]


def test_verbose_shows_tracebacks_and_debug(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(1)
    log.debug("detail")
    try:
        raise ValueError("bad feed")
    except ValueError:
        log.exception("round failed")
    err = capsys.readouterr().err
    assert "detail" in err and "Traceback (most recent call last)" in err


def test_quiet_shows_only_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(-1)
    log.info("routine")
    log.warning("stale")
    got = lines(capsys)
    assert len(got) == 1 and got[0].endswith("stale")


def test_json_format_is_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(0, "json")
    with log_context(source="tuoitrethudo"):
        log.warning("crawl timeout after %.1f s: %s", 300.0, "killed\nafter grace")
    try:
        raise OSError("connection refused")
    except OSError:
        log.error("send failed", exc_info=True, extra={"channel": "newsroom"})
    got = [json.loads(line) for line in lines(capsys)]
    assert got[0]["level"] == "WARNING" and got[0]["source"] == "tuoitrethudo"
    assert got[0]["msg"] == "crawl timeout after 300.0 s: killed\nafter grace"
    assert got[1]["channel"] == "newsroom" and got[1]["error"] == "OSError: connection refused"
    assert "traceback" not in got[1]
    assert got[0]["ts"].endswith("Z")


def test_setup_twice_does_not_duplicate_lines_and_writes_the_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(0)
    setup_logging(0, log_file=tmp_path / "logs" / "newswatch.log")
    log.info("once")
    assert len(lines(capsys)) == 1
    close_logging()
    assert "once" in (tmp_path / "logs" / "newswatch.log").read_text()


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="text or json"):
        setup_logging(0, "yaml")
