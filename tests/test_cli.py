"""The command line as a user meets it: help, exit codes, one-line errors, JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

COMMANDS = [
    "check-config",
    "crawl",
    "dispatch",
    "run",
    "match",
    "extract",
    "status",
    "test-alert",
    "demo",
    "discover",
    "alerts",
    "search",
    "backfill",
    "db",
    "sources",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "usage: newswatch" in result.stdout and command in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run_cli("crawll")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_match_json_shape_and_explanation(tmp_path: Path) -> None:
    watches = tmp_path / "watches.yaml"
    watches.write_text(
        "watches:\n  phong:\n    label: Ông Phong\n    any: [Nguyễn Văn Phong]\n"
        "    near: {within: 10, any: [Thành ủy]}\n",
        encoding="utf-8",
    )
    text = tmp_path / "a.txt"
    # NFD text, a name wrapped across lines, old tone placement in "Thành uỷ".
    text.write_text("Phó Bí thư Thành uỷ Hà Nội Nguyễn\nVăn Phong dự hội nghị.", encoding="utf-8")
    result = run_cli("match", "--watches", watches, "--json", text)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    [watch] = data["watches"]
    assert watch["name"] == "phong" and watch["label"] == "Ông Phong"
    [hit] = watch["hits"]
    assert set(hit) >= {"term", "text", "start", "end", "snippet", "flags"}
    assert hit["text"] == "Nguyễn Văn Phong"
    plain = run_cli("match", "--watches", watches, text)
    assert "phong" in plain.stdout and "Thành" in plain.stdout


def test_match_reads_stdin_and_reports_no_match(tmp_path: Path) -> None:
    watches = tmp_path / "w.yaml"
    watches.write_text("watches:\n  hbt:\n    any: [quận Hai Bà Trưng]\n", encoding="utf-8")
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "match", "--watches", str(watches), "-"],
        input="Hai bà trưng bày hàng Tết ở chợ.",
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0 and "no watch matched" in result.stdout


def test_broken_watches_file_is_exit_2_with_located_errors(tmp_path: Path) -> None:
    watches = tmp_path / "w.yaml"
    watches.write_text("watches:\n  hbt:\n    anyy: [quận Hai Bà Trưng]\n", encoding="utf-8")
    result = run_cli("match", "--watches", watches, "-")
    assert result.returncode == 2
    assert f"{watches}:3: watches.hbt.anyy:" in result.stderr
    assert "Traceback" not in result.stderr


def test_runtime_failure_is_one_line_and_traceback_only_with_v(tmp_path: Path) -> None:
    missing = tmp_path / "nope.html"
    quiet = run_cli("extract", missing)
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr
    assert len(quiet.stderr.strip().splitlines()) == 1 and "nope.html" in quiet.stderr
    loud = run_cli("-v", "extract", missing)
    assert loud.returncode == 1 and "Traceback" in loud.stderr


def test_extract_json_on_a_real_page(fixtures_dir: Path) -> None:
    page = fixtures_dir / "html" / "hanoimoi" / "ai-news-dat-vang-94-pho-lo-duc-731520.html"
    result = run_cli(
        "extract", page, "--url", "https://hanoimoi.vn/dat-vang-94-pho-lo-duc-731520.html", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"url", "title", "published", "author", "text", "captions"}
    assert data["published"].endswith("+07:00")
    # The page's one figure caption, kept apart from the text, once.
    assert len(data["captions"]) == 1 and "94 phố Lò Đúc" in data["captions"][0]
    assert data["captions"][0] not in data["text"]
    assert data["title"] and "Hà Nội Mới" not in data["title"]
    assert len(data["text"]) > 500


def test_match_html_on_a_real_page(fixtures_dir: Path, tmp_path: Path) -> None:
    page = next((fixtures_dir / "html" / "tuoitre").glob("*article*.html"))
    watches = tmp_path / "w.yaml"
    watches.write_text(
        "watches:\n  anything:\n    any: [Việt Nam, TP.HCM, Hà Nội]\n", encoding="utf-8"
    )
    result = run_cli(
        "match",
        "--watches",
        watches,
        "--html",
        "--url",
        "https://tuoitre.vn/a-20260101000000000.htm",
        "--json",
        page,
    )
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)


def test_test_alert_unknown_and_disabled_channels(tmp_path: Path) -> None:
    env = {"NEWSROOM_WEBHOOK_URL": "", "NEWSWATCH_EMAIL_TO": "", "SMTP_HOST": ""}
    disabled = run_cli("--data", tmp_path, "test-alert", "newsroom", env=env)
    assert disabled.returncode == 2 and "disabled" in disabled.stderr
    unknown = run_cli("--data", tmp_path, "test-alert", "nowhere", env=env)
    assert unknown.returncode == 2 and "no channel named 'nowhere'" in unknown.stderr


def test_test_alert_file_channel_writes_a_sample(tmp_path: Path) -> None:
    result = run_cli("--data", tmp_path, "test-alert", "local")
    assert result.returncode == 0, result.stderr
    line = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    assert json.loads(line)["watch"]["name"]
