"""The catalogue of outlets: off by default, listed, and copied into sources.yaml on demand
as a valid source whose unchecked feeds are said to be unchecked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crawler.catalogue import add_outlet, load_catalogue
from crawler.config import load_config
from tests.conftest import REPO, run_cli

CATALOGUE = REPO / "config" / "catalogue.yaml"


@pytest.fixture
def cfg_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


def test_the_catalogue_covers_what_newsrooms_asked_for() -> None:
    outlets = {o.name: o for o in load_catalogue(CATALOGUE)}
    wanted = {
        "nhandan", "vov", "tienphong", "plo", "congly", "baophapluat", "baotintuc", "nld",
        "baotainguyenmoitruong",
    }  # fmt: skip
    assert wanted <= set(outlets)
    assert all(outlets[n].feeds for n in wanted)
    groups = {o.group for o in outlets.values()}
    assert {"national", "hanoi", "provincial"} <= groups
    # Nothing could be fetched where the list was made: every entry says so.
    assert not [o.name for o in outlets.values() if o.checked]


def test_nothing_in_the_catalogue_is_polled_by_default(tmp_path: Path) -> None:
    configured = {s.name for s in load_config(REPO / "config", tmp_path).sources}
    only_in_catalogue = {o.name for o in load_catalogue(CATALOGUE)} - configured
    assert len(only_in_catalogue) >= 40


def test_every_outlet_becomes_a_valid_source(cfg_dir: Path, tmp_path: Path) -> None:
    before = {s.name for s in load_config(cfg_dir, tmp_path).sources}
    added = [
        add_outlet(o.name, CATALOGUE, cfg_dir / "sources.yaml").name
        for o in load_catalogue(CATALOGUE)
        if o.name not in before
    ]
    sources = {s.name: s for s in load_config(cfg_dir, tmp_path).sources}
    assert set(added) <= set(sources) and all(sources[n].enabled for n in added)
    outlets = {o.name: o for o in load_catalogue(CATALOGUE)}
    assert all(sources[n].feeds == outlets[n].feeds for n in added)


def test_sources_add_from_the_command_line(cfg_dir: Path, tmp_path: Path) -> None:
    original = (cfg_dir / "sources.yaml").read_text(encoding="utf-8")
    added = run_cli("--config", cfg_dir, "sources", "add", "nld")
    assert added.returncode == 0, added.stderr
    assert "added nld (Người Lao Động)" in added.stdout and "unchecked" in added.stdout
    text = (cfg_dir / "sources.yaml").read_text(encoding="utf-8")
    assert text.startswith(original.rstrip("\n"))  # the user's comments and layout stay
    assert "# Người Lao Động (national; from the catalogue)" in text
    assert "- https://nld.com.vn/rss/home.rss" in text
    assert run_cli("--config", cfg_dir, "check-config").returncode == 0
    listed = run_cli("--config", cfg_dir, "sources", "list").stdout
    assert any(
        line.split()[:3] == ["nld", "national", "4"] and " yes " in line
        for line in listed.splitlines()
    )

    again = run_cli("--config", cfg_dir, "sources", "add", "nld")
    assert again.returncode == 2 and "already in" in again.stderr
    typo = run_cli("--config", cfg_dir, "sources", "add", "tienfong")
    assert typo.returncode == 2 and "did you mean tienphong" in typo.stderr


def test_a_bad_entry_leaves_sources_yaml_untouched(cfg_dir: Path) -> None:
    catalogue = cfg_dir / "catalogue.yaml"
    catalogue.write_text(
        "outlets:\n"
        "  - name: hong\n    label: Báo Hỏng\n    group: provincial\n    home: baohong.vn\n"
    )
    original = (cfg_dir / "sources.yaml").read_bytes()
    result = run_cli("--config", cfg_dir, "sources", "add", "hong")
    assert result.returncode == 2
    assert "sources.yaml:" in result.stderr and "is not an http(s) URL" in result.stderr
    assert (cfg_dir / "sources.yaml").read_bytes() == original
    assert not list(cfg_dir.glob(".*.tmp"))
