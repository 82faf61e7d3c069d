"""The configuration loader: the default config, and every problem located as FILE:LINE."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crawler.config import load_config, parse_duration
from pipelines.errors import ConfigError
from tests.conftest import REPO, run_cli

CONFIG = REPO / "config"
ENV_VARS = ("NEWSROOM_WEBHOOK_URL", "NEWSROOM_WEBHOOK_SECRET", "NEWSWATCH_EMAIL_TO", "SMTP_HOST")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cfg_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target


def test_default_config_loads_with_unset_channels_disabled(clean_env: None, tmp_path: Path) -> None:
    config = load_config(CONFIG, tmp_path)
    names = [s.name for s in config.sources]
    assert names[0] == "tuoitrethudo" and len(names) >= 9
    assert set(config.channels) == {"local"}
    assert set(config.disabled_channels) == {"newsroom", "editors"}
    assert "NEWSROOM_WEBHOOK_URL" in config.disabled_channels["newsroom"]
    tt = config.source("tuoitrethudo")
    assert tt.every == 300 and tt.jitter == 30 and "tuoitrethudo.com.vn" in tt.hosts
    watch_names = {w.name for w in config.watches}
    assert {
        "quan-hai-ba-trung",
        "nguyen-van-phong",
        "duong-duc-tuan",
        "nguyen-van-nam",
        "cao-thi-hoa",
        "nguyen-quang-trung",
    } <= watch_names


def test_channels_enabled_when_env_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSROOM_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    config = load_config(CONFIG, tmp_path)
    assert "newsroom" in config.channels


def _errors(cfg_dir: Path, tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir, tmp_path)
    return [p.render() for p in info.value.problems if p.severity == "error"]


def test_yaml_syntax_error_names_file_and_line(cfg_dir: Path, tmp_path: Path) -> None:
    (cfg_dir / "sources.yaml").write_text("sources:\n  - name: a\n    home: [oops\n")
    errors = _errors(cfg_dir, tmp_path)
    assert len(errors) == 1 and errors[0].startswith("sources.yaml:")
    assert "YAML syntax error" in errors[0]


def test_every_problem_is_listed_with_its_line(cfg_dir: Path, tmp_path: Path) -> None:
    (cfg_dir / "sources.yaml").write_text(
        "sources:\n"
        "  - name: good\n"
        "    home: https://example.vn/\n"
        "  - name: bad\n"
        "    hom: https://example.vn/\n"  # line 5: typo -> unknown key
        "    listings: [https://example.vn/x]\n"
        "    every: soon\n"  # line 7: not a duration
        "    article_url: '([a-z'\n"  # line 8: bad regex
        "    concurrency: two\n"  # line 9: wrong type
        "    drop: ['div[']\n"  # line 10: not a CSS selector
    )
    errors = _errors(cfg_dir, tmp_path)
    joined = "\n".join(errors)
    assert "sources.yaml:5: sources.1.hom: unknown key" in joined
    assert "sources.yaml:7: sources.1.every:" in joined
    assert "sources.yaml:8: sources.1.article_url: bad regular expression" in joined
    assert "sources.yaml:9: sources.1.concurrency:" in joined
    assert "sources.yaml:10: sources.1.drop.0: invalid CSS selector" in joined


def test_lead_and_caption_selectors_are_checked_like_drop(cfg_dir: Path, tmp_path: Path) -> None:
    (cfg_dir / "sources.yaml").write_text(
        "sources:\n"
        "  - name: tuoitrethudo\n"
        "    home: https://tuoitrethudo.vn/\n"
        "    lead: ['h2.sapo-x', 'p[[']\n"  # line 4: the second is not a CSS selector
        "    captions: ['td..img']\n"  # line 5: nor this
    )
    joined = "\n".join(_errors(cfg_dir, tmp_path))
    assert "sources.yaml:4: sources.0.lead.1: invalid CSS selector 'p[['" in joined
    assert "sources.yaml:5: sources.0.captions.0: invalid CSS selector 'td..img'" in joined
    assert "lead.0" not in joined


def test_lead_and_caption_selectors_reach_the_source(cfg_dir: Path, tmp_path: Path) -> None:
    (cfg_dir / "sources.yaml").write_text(
        "sources:\n"
        "  - name: tuoitrethudo\n"
        "    home: https://tuoitrethudo.vn/\n"
        "    lead: h2.sapo-x\n"
        "    captions: [p.img-note]\n"
    )
    config = load_config(cfg_dir, tmp_path)
    (source,) = config.sources
    assert source.lead == ("h2.sapo-x",)
    assert source.captions == ("p.img-note",)
    assert source.drop == ()


def test_required_env_var_is_an_error(
    cfg_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NW_TEST_HOOK", raising=False)
    (cfg_dir / "channels.yaml").write_text(
        "channels:\n  local: {kind: file, path: a.jsonl}\n"
        "  hook: {kind: webhook, url: '${NW_TEST_HOOK:?set the receiver URL}'}\n"
    )
    errors = _errors(cfg_dir, tmp_path)
    assert any(
        e.startswith(
            "channels.yaml:3: channels.hook.url: environment variable "
            "NW_TEST_HOOK is required: set the receiver URL"
        )
        for e in errors
    )


def test_notify_must_name_a_channel(cfg_dir: Path, tmp_path: Path) -> None:
    text = (cfg_dir / "watches.yaml").read_text(encoding="utf-8")
    (cfg_dir / "watches.yaml").write_text(
        text.replace("notify: [local, newsroom, editors]", "notify: [local, newsrom]")
    )
    errors = _errors(cfg_dir, tmp_path)
    assert any("no channel named 'newsrom'" in e and e.startswith("watches.yaml:") for e in errors)


def test_interpolation_is_never_structural(
    cfg_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSROOM_WEBHOOK_URL", "http://127.0.0.1:9/x', evil: 'y")
    config = load_config(cfg_dir, tmp_path)
    assert "newsroom" in config.channels  # the quote did not break out of the value


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), (90, 90), ("500ms", 0.5)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_check_config_cli_exit_codes(cfg_dir: Path, tmp_path: Path) -> None:
    ok = run_cli(
        "--config",
        cfg_dir,
        "--data",
        tmp_path / "var",
        "check-config",
        env={v: "" for v in ENV_VARS},
    )
    assert ok.returncode == 0, ok.stderr
    assert "channel newsroom disabled" in ok.stdout
    (cfg_dir / "sources.yaml").write_text("sources:\n  - name: x\n    feeds: [ftp://a]\n")
    bad = run_cli("--config", cfg_dir, "--data", tmp_path / "var", "check-config")
    assert bad.returncode == 2
    assert "sources.yaml:3: sources.0.feeds.0: 'ftp://a' is not an http(s) URL" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    ("key", "bad", "good"),
    [
        ("every", "soon", "5m"),
        ("jitter", "a little", "10s"),
        ("timeout", "[]", "1m"),
        ("delay", "yes please", "2s"),
        ("stale_after", "never", "2h"),
        ("concurrency", 0, 1),
        ("fail_after", "many", 2),
        ("drop", "['div[']", "['.ad']"),
        ("user_agent", "''", "me/1.0"),
        ("max_age", "-1", "3d"),
    ],
)
def test_a_bad_default_is_an_error_even_when_every_source_overrides_it(
    cfg_dir: Path, tmp_path: Path, key: str, bad: object, good: object
) -> None:
    (cfg_dir / "sources.yaml").write_text(
        "defaults:\n"
        f"  {key}: {bad}\n"  # line 2
        "sources:\n"
        "  - name: one\n"
        "    home: https://example.vn/\n"
        f"    {key}: {good}\n"
        "  - name: two\n"
        "    home: https://example.com.vn/\n"
        f"    {key}: {good}\n"
    )
    errors = _errors(cfg_dir, tmp_path)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"sources.yaml:2: defaults.{key}")


def test_a_bad_source_value_is_reported_at_the_source(cfg_dir: Path, tmp_path: Path) -> None:
    (cfg_dir / "sources.yaml").write_text(
        "defaults: {every: 5m}\n"
        "sources:\n"
        "  - name: one\n"
        "    home: https://example.vn/\n"
        "    every: soon\n"
    )
    assert [e.split(" ")[0] for e in _errors(cfg_dir, tmp_path)] == ["sources.yaml:5:"]


def test_an_unknown_default_channel_is_an_error_where_it_is_written(
    cfg_dir: Path, tmp_path: Path
) -> None:
    (cfg_dir / "watches.yaml").write_text(
        "defaults: {notify: [lcoal]}\n"
        "watches:\n"
        "  w:\n"
        "    any: [Hai Bà Trưng]\n"
        "    notify: [local]\n"
    )
    errors = _errors(cfg_dir, tmp_path)
    assert len(errors) == 1 and errors[0].startswith(
        "watches.yaml:1: defaults.notify.0: no channel"
    )


@pytest.mark.parametrize("empty", ["channels: {}\n", "channels:\n"])
def test_no_channels_yet_is_a_valid_configuration(
    cfg_dir: Path, tmp_path: Path, empty: str, clean_env: None
) -> None:
    (cfg_dir / "channels.yaml").write_text(empty)
    (cfg_dir / "watches.yaml").write_text(
        "defaults: {notify: []}\nwatches:\n  w:\n    any: [Hai Bà Trưng]\n"
    )
    config = load_config(cfg_dir, tmp_path)
    assert config.channels == {} and config.watches[0].notify == ()
